//! `marquee replay`: a stored session played again through the real server
//! at ten times its pace: the replayed ticks keep the session's order,
//! prices and sizes, come at a tenth of its spacing, continue each symbol's
//! seq after the newest stored, and their symbols say "Replay".

use std::sync::Arc;

use marquee::config::ReplaySpec;
use marquee::store::{SqliteStore, Store};
use marquee_shared::{Feed, SymbolSummary, Tick};

use crate::helpers::{config, spawn_app_in};

const MS: i64 = 1_000_000;

#[tokio::test]
async fn a_stored_session_plays_again_in_order_at_the_speed_asked_with_new_seqs() {
    // The recorded session: an hour ago.
    let t0 = marquee::common::time::now_ns() - 3_600_000 * MS;
    let data = Arc::new(tempfile::tempdir().expect("temp dir"));
    {
        let store = SqliteStore::open(data.path()).expect("store");
        let session: Vec<Tick> = (1..=10_u64)
            .flat_map(|i| {
                let at = |symbol: &str, price: f64| Tick {
                    symbol: symbol.into(),
                    seq: i,
                    ts: t0 + i as i64 * 100 * MS,
                    price,
                    size: 0.5 * i as f64,
                    change: 0.0,
                    change_pct: 0.0,
                };
                [at("AAPL", 200.0 + i as f64), at("MSFT", 400.0 + i as f64)]
            })
            .collect();
        store.insert_ticks(session).await.expect("the session");
    }
    let mut config = config(5);
    config.sources.simulation = false;
    // The first eight of the ten: ticks 1 to 8.
    config.sources.replay = Some(ReplaySpec { from: t0, to: t0 + 800 * MS, speed: 10.0 });
    let app = spawn_app_in(config, Arc::clone(&data)).await;

    let ticks = app.stored_ticks("AAPL", 18).await;
    let replayed: Vec<&Tick> = ticks.iter().filter(|t| t.seq > 10).collect();
    let shape: Vec<(u64, f64, f64)> = replayed.iter().map(|t| (t.seq, t.price, t.size)).collect();
    let expected: Vec<(u64, f64, f64)> =
        (1..=8_u64).map(|i| (10 + i, 200.0 + i as f64, 0.5 * i as f64)).collect();
    assert_eq!(shape, expected, "in order, recorded values, seqs after the newest stored");
    let gaps: Vec<i64> = replayed.windows(2).map(|w| w[1].ts - w[0].ts).collect();
    assert!(gaps.iter().all(|gap| *gap == 10 * MS), "a tenth of the recorded 100 ms: {gaps:?}");
    assert!(replayed[0].ts > t0 + 3_000_000 * MS, "played now, not at the recorded time");

    let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    let aapl = symbols.iter().find(|s| s.symbol == "AAPL").expect("AAPL");
    assert_eq!(aapl.feed, Some(Feed::Replay));
    app.stop().await.expect("stops cleanly");
}
