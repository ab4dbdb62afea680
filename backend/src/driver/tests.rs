use marquee_shared::{Bar, DataSource, Validate};

use super::*;
use crate::events::InProcessBus;
use crate::store::SqliteStore;

const DAY: i64 = 86_400_000_000_000;
const MAY_1: i64 = 19_844 * DAY;

fn bar(symbol: &str, ts: i64, close: f64) -> Bar {
    Bar {
        symbol: symbol.into(),
        ts,
        open: 1.0,
        high: close.max(1.0),
        low: 1.0,
        close,
        volume: 10,
        source: DataSource::Csv,
    }
}

fn settings(threshold: u64) -> DriverSettings {
    DriverSettings {
        threshold,
        interval: Duration::from_millis(1),
        walk: WalkParams {
            volatility: 0.2,
            drift: 0.0,
            step_secs: 1.0,
            jump_probability: 0.0,
            jump_size: 0.0,
        },
        rng_seed: 1,
        simulate: true,
        replay: None,
        live: Default::default(),
    }
}

/// While nothing downstream takes ticks (a broker away, a store locked),
/// the driver makes no more, and still answers its operator at once; the
/// step it held is sent when there is room, so no seq is skipped.
#[tokio::test]
async fn a_driver_held_back_still_answers_and_skips_no_seq() {
    let store: SharedStore = Arc::new(SqliteStore::in_memory().expect("store"));
    store.upsert_daily_bars(vec![bar("AAA", MAY_1, 10.0)]).await.expect("stored");
    let events = Events::new(Arc::new(InProcessBus::new(64)), Arc::clone(&store), "test");
    let (out, mut ticks) = mpsc::channel(2);
    let stats = Arc::new(StageStats::new(crate::common::Stage::Driver));
    let (driver, handle) = Driver::new(settings(1), store, events, out, Arc::clone(&stats));
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(driver.run(shutdown.clone()));
    // Nobody reads: two steps fill the channel, a third is held.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stats.processed(), 2, "no step made while held back but the one waiting");
    let answered = tokio::time::timeout(Duration::from_secs(2), handle.command(Command::Stop)).await;
    assert!(matches!(answered, Ok(Ok(SimulationState::Stopped { .. }))), "{answered:?}");
    let mut seqs = Vec::new();
    while let Ok(Some(batch)) = tokio::time::timeout(Duration::from_millis(300), ticks.recv()).await {
        seqs.extend(batch.iter().map(|t| t.seq));
    }
    assert_eq!(seqs, [1, 2, 3], "the held step was sent once there was room");
    shutdown.cancel();
    task.await.expect("driver stops");
}

/// A store written before prices were checked: the driver starts one
/// symbol from its last valid close, leaves out the one with none, and
/// streams only valid ticks.
#[tokio::test]
async fn impossible_stored_closes_are_repaired_or_left_out() {
    let store: SharedStore = Arc::new(SqliteStore::in_memory().expect("store"));
    let stored = vec![
        bar("GOOD", MAY_1, 10.0),
        bar("REPAIR", MAY_1, 50.0),
        bar("REPAIR", MAY_1 + DAY, 1e308),
        bar("POISON", MAY_1, 1e308),
    ];
    store.upsert_daily_bars(stored).await.expect("stored as it was before the checks");
    let events = Events::new(Arc::new(InProcessBus::new(64)), Arc::clone(&store), "test");
    let (out, mut ticks) = mpsc::channel(4);
    let (driver, handle) =
        Driver::new(settings(2), store, events, out, Arc::new(StageStats::new(crate::common::Stage::Driver)));
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(driver.run(shutdown.clone()));
    let batch =
        tokio::time::timeout(Duration::from_secs(10), ticks.recv()).await.expect("ticks").expect("open");
    let prices: Vec<(&str, f64)> = batch.iter().map(|t| (t.symbol.as_str(), t.price)).collect();
    assert_eq!(prices.iter().map(|(s, _)| *s).collect::<Vec<_>>(), ["GOOD", "REPAIR"], "{prices:?}");
    assert!((prices[1].1 / 50.0 - 1.0).abs() < 0.01, "from the valid close: {prices:?}");
    assert!(batch.iter().all(|t| t.validate().is_ok()));
    assert_eq!(handle.watch().borrow().symbols.len(), 2);
    shutdown.cancel();
    task.await.expect("driver stops");
}
