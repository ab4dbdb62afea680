//! Checks for storage that scales past a day (issue 14): alerts keyed by
//! (symbol, kind, ts), the symbol summary kept by upserts (poisoned rows
//! left out), fetch jobs cut by a crash ended, old ticks pruned in batches.

use marquee_shared::{Alert, AlertKind, FetchEntry, FetchJob, FetchState, OutputSize, Severity};

use super::{DAY, bar, tick};
use crate::store::{BarQuery, Store};

fn alert(kind: AlertKind, ts: i64) -> Alert {
    Alert { symbol: "A".into(), kind, severity: Severity::Warning, value: 6.0, threshold: 5.0, ts }
}

pub(super) async fn alerts_are_stored_once_per_symbol_kind_and_time(store: &dyn Store) {
    store
        .insert_alerts(vec![alert(AlertKind::PriceJump, 1), alert(AlertKind::PriceJump, 2)])
        .await
        .expect("alerts");
    // A Kafka re-read delivers the same alerts again, among new ones.
    let mut other_symbol = alert(AlertKind::PriceJump, 2);
    other_symbol.symbol = "B".into();
    store
        .insert_alerts(vec![
            alert(AlertKind::PriceJump, 2),
            alert(AlertKind::VolumeSpike, 2),
            other_symbol,
            alert(AlertKind::PriceJump, 3),
            alert(AlertKind::PriceJump, 1),
        ])
        .await
        .expect("alerts again");
    let stored: Vec<_> = store
        .recent_alerts(100)
        .await
        .expect("read")
        .into_iter()
        .map(|a| (a.symbol, a.kind.as_str(), a.ts))
        .collect();
    assert_eq!(stored.len(), 5, "{stored:?}");
    assert_eq!(stored[0], ("A".to_owned(), "price_jump", 3));
    let mut keys = stored.clone();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), stored.len(), "a repeated alert: {stored:?}");
}

pub(super) async fn symbols_come_from_a_summary_without_poisoned_closes(store: &dyn Store) {
    // Stored before values were checked: a close of 1e308 on the newest day.
    let mut poisoned = bar("P", 3, 120.0);
    poisoned.close = 1e308;
    poisoned.high = 1e308;
    store.upsert_daily_bars(vec![bar("P", 1, 100.0), bar("P", 2, 110.0), poisoned]).await.expect("upsert");
    let mut only_poison = bar("Z", 1, 5.0);
    only_poison.close = -5.0;
    store.upsert_daily_bars(vec![only_poison]).await.expect("upsert");

    let symbols = store.symbols().await.expect("symbols");
    assert_eq!(symbols.iter().map(|s| s.symbol.as_str()).collect::<Vec<_>>(), ["P"], "Z has no valid close");
    let p = &symbols[0];
    assert_eq!((p.records, p.latest_ts, p.last, p.change), (2, 2 * DAY, 110.0, 10.0));

    // Later upserts move the summary: a new day, then a corrected close.
    store.upsert_daily_bars(vec![bar("P", 4, 121.0)]).await.expect("upsert");
    let p = store.symbols().await.expect("symbols").remove(0);
    assert_eq!((p.records, p.latest_ts, p.last, p.change), (3, 4 * DAY, 121.0, 11.0));
    store.upsert_daily_bars(vec![bar("P", 3, 120.0), bar("P", 4, 132.0)]).await.expect("upsert");
    let p = store.symbols().await.expect("symbols").remove(0);
    assert_eq!((p.records, p.last, p.change), (4, 132.0, 12.0));
    assert!((p.change_pct - 10.0).abs() < 1e-9);
    // The bars themselves are all still there (the readers screen them).
    let all = BarQuery { symbol: "P".into(), from: None, to: None, limit: 10 };
    assert_eq!(store.daily_bars(all).await.expect("read").len(), 4);
}

pub(super) async fn jobs_cut_by_a_stop_end_failed_at_the_next_start(store: &dyn Store) {
    let job = |id: &str, states: Vec<FetchState>, finished: bool| FetchJob {
        replace: false,
        id: id.into(),
        created: 1,
        outputsize: OutputSize::Compact,
        intraday: None,
        entries: states
            .into_iter()
            .enumerate()
            .map(|(i, state)| FetchEntry { symbol: format!("S{i}"), state })
            .collect(),
        finished,
    };
    let stored = FetchState::Stored { records: 5 };
    let failed = FetchState::Failed { reason: "no such symbol".into() };
    let cut = job("cut", vec![stored.clone(), FetchState::Fetching, FetchState::Queued], false);
    let done = job("done", vec![stored.clone(), failed.clone()], true);
    store.save_job(cut).await.expect("save");
    store.save_job(done.clone()).await.expect("save");

    let reason = "interrupted: the server stopped before this job finished".to_owned();
    assert_eq!(store.fail_unfinished_jobs(reason.clone()).await.expect("fail"), 1);
    let cut = store.job("cut".into()).await.expect("read").expect("kept");
    assert!(cut.finished);
    let interrupted = FetchState::Failed { reason: reason.clone() };
    let states: Vec<_> = cut.entries.into_iter().map(|e| e.state).collect();
    assert_eq!(states, [stored, interrupted.clone(), interrupted]);
    assert_eq!(store.job("done".into()).await.expect("read"), Some(done), "a finished job is left alone");
    assert_eq!(store.fail_unfinished_jobs(reason).await.expect("again"), 0);
}

/// Ticks at event times `ts`, seqs from `first`.
pub(super) fn ticks_at(
    symbol: &str,
    first: u64,
    ts: impl IntoIterator<Item = i64>,
) -> Vec<marquee_shared::Tick> {
    ts.into_iter()
        .zip(first..)
        .map(|(ts, seq)| marquee_shared::Tick { ts, ..tick(symbol, seq, 10.0 + seq as f64) })
        .collect()
}

/// A replay reads a session by event time, page after page: every tick of
/// the window once, oldest first, ties in symbol and seq order.
pub(super) async fn ticks_are_read_by_event_time_a_page_at_a_time(store: &dyn Store) {
    use crate::store::TickPage;
    let at = |symbol: &str, seq: u64, ts: i64| marquee_shared::Tick { ts, ..tick(symbol, seq, 10.0) };
    let ticks = vec![
        at("B", 1, 100),
        at("A", 1, 100),
        at("A", 2, 100),
        at("B", 2, 150),
        at("A", 3, 200),
        at("A", 4, 300),
    ];
    store.insert_ticks(ticks).await.expect("ticks");
    let mut read = Vec::new();
    let mut after = None;
    loop {
        let page = TickPage { from: 100, to: 200, after: after.clone(), limit: 2 };
        let got = store.ticks_between(page).await.expect("page");
        let Some(last) = got.last() else { break };
        after = Some((last.ts, last.symbol.clone(), last.seq));
        read.extend(got.into_iter().map(|t| (t.ts, t.symbol, t.seq)));
    }
    let expected = [(100, "A", 1), (100, "A", 2), (100, "B", 1), (150, "B", 2), (200, "A", 3)];
    let expected: Vec<(i64, String, u64)> =
        expected.iter().map(|(ts, s, q)| (*ts, s.to_string(), *q)).collect();
    assert_eq!(read, expected, "the window [100, 200], each tick once, in order");
}
