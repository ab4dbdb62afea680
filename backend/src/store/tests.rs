//! Behaviour every store must have, run against the embedded one.

use marquee_shared::{
    Bar, Company, DataSource, Event, EventKind, FetchEntry, FetchJob, FetchState, IntradayInterval,
    OutputSize, Tick,
};

use super::{BarQuery, SqliteStore, Store};

const DAY: i64 = 86_400 * 1_000_000_000;

fn bar(symbol: &str, day: i64, close: f64) -> Bar {
    Bar {
        symbol: symbol.into(),
        ts: day * DAY,
        open: close,
        high: close + 1.0,
        low: close - 1.0,
        close,
        volume: 1_000,
        source: DataSource::AlphaVantage,
    }
}

fn tick(symbol: &str, seq: u64, price: f64) -> Tick {
    Tick { symbol: symbol.into(), seq, ts: seq as i64, price, size: 10, change: 0.0, change_pct: 0.0 }
}

#[tokio::test]
async fn daily_bar_upserts_are_idempotent_and_replace_values() {
    let store = SqliteStore::in_memory().expect("store");
    store.upsert_daily_bars(vec![bar("IBM", 1, 10.0), bar("IBM", 2, 11.0)]).await.expect("upsert");
    store.upsert_daily_bars(vec![bar("IBM", 2, 12.0), bar("IBM", 3, 13.0)]).await.expect("upsert again");
    let query = BarQuery { symbol: "IBM".into(), from: None, to: None, limit: 100 };
    let bars = store.daily_bars(query).await.expect("read");
    let closes: Vec<_> = bars.iter().map(|b| (b.ts / DAY, b.close)).collect();
    assert_eq!(closes, [(1, 10.0), (2, 12.0), (3, 13.0)]);
}

#[tokio::test]
async fn bar_queries_honour_range_and_keep_the_most_recent_within_limit() {
    let store = SqliteStore::in_memory().expect("store");
    store.upsert_daily_bars((1..=10).map(|d| bar("KO", d, d as f64)).collect()).await.expect("upsert");
    let in_range = BarQuery { symbol: "KO".into(), from: Some(3 * DAY), to: Some(8 * DAY), limit: 4 };
    let days: Vec<_> = store.daily_bars(in_range).await.expect("read").iter().map(|b| b.ts / DAY).collect();
    assert_eq!(days, [5, 6, 7, 8]);
    let other = BarQuery { symbol: "PEP".into(), from: None, to: None, limit: 4 };
    assert!(store.daily_bars(other).await.expect("read").is_empty());
}

#[tokio::test]
async fn symbols_summarise_the_latest_close_and_its_change() {
    let store = SqliteStore::in_memory().expect("store");
    store
        .upsert_daily_bars(vec![bar("B", 1, 100.0), bar("B", 2, 110.0), bar("A", 5, 50.0)])
        .await
        .expect("upsert");
    store
        .upsert_company(Company {
            symbol: "B".into(),
            name: "Bee Corp".into(),
            sector: "Tech".into(),
            industry: String::new(),
            exchange: "NYSE".into(),
            currency: "USD".into(),
            description: String::new(),
            market_cap: Some(5),
            source: DataSource::AlphaVantage,
        })
        .await
        .expect("company");
    let symbols = store.symbols().await.expect("symbols");
    assert_eq!(symbols.len(), 2);
    assert_eq!((symbols[0].symbol.as_str(), symbols[0].records, symbols[0].change), ("A", 1, 0.0));
    let b = &symbols[1];
    assert_eq!((b.name.as_deref(), b.records, b.last, b.change), (Some("Bee Corp"), 2, 110.0, 10.0));
    assert!((b.change_pct - 10.0).abs() < 1e-9);
    assert_eq!(b.latest_ts, 2 * DAY);
    let company = store.company("B".into()).await.expect("read").expect("stored");
    assert_eq!((company.market_cap, company.source), (Some(5), DataSource::AlphaVantage));
    assert!(store.company("NOPE".into()).await.expect("read").is_none());
}

#[tokio::test]
async fn ticks_are_stored_once_per_symbol_and_seq() {
    let store = SqliteStore::in_memory().expect("store");
    let new = store
        .insert_ticks(vec![tick("A", 1, 1.0), tick("A", 2, 2.0), tick("B", 1, 9.0)])
        .await
        .expect("insert");
    assert_eq!(new, 3);
    let again = store.insert_ticks(vec![tick("A", 2, 2.0), tick("A", 3, 3.0)]).await.expect("insert");
    assert_eq!(again, 1, "a replayed seq is not stored twice");
    let recent: Vec<_> =
        store.recent_ticks("A".into(), 2).await.expect("read").iter().map(|t| t.seq).collect();
    assert_eq!(recent, [2, 3]);
    let last = store.last_ticks().await.expect("last");
    assert_eq!(
        last.iter().map(|t| (t.symbol.as_str(), t.seq, t.price)).collect::<Vec<_>>(),
        [("A", 3, 3.0), ("B", 1, 9.0)]
    );
}

#[tokio::test]
async fn events_come_back_newest_first() {
    let store = SqliteStore::in_memory().expect("store");
    for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
        let kind = EventKind::SimulationStopped { reason: id.into() };
        store
            .append_event(Event { id: id.into(), source: "test".into(), ts: i as i64, kind })
            .await
            .expect("append");
    }
    let ids: Vec<_> = store.recent_events(2).await.expect("read").into_iter().map(|e| e.id).collect();
    assert_eq!(ids, ["c", "b"]);
}

#[tokio::test]
async fn data_survives_reopening_the_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = SqliteStore::open(dir.path()).expect("open");
        store.upsert_daily_bars(vec![bar("IBM", 1, 10.0)]).await.expect("upsert");
        store.insert_ticks(vec![tick("IBM", 7, 10.5)]).await.expect("ticks");
    }
    let store = SqliteStore::open(dir.path()).expect("reopen");
    assert_eq!(store.symbols().await.expect("symbols").len(), 1);
    assert_eq!(store.last_ticks().await.expect("last")[0].seq, 7);
}

#[tokio::test]
async fn fetch_jobs_are_saved_and_replaced_by_id() {
    let store = SqliteStore::in_memory().expect("store");
    let mut job = FetchJob {
        id: "j1".into(),
        created: 1,
        outputsize: OutputSize::Compact,
        intraday: None,
        entries: vec![FetchEntry { symbol: "IBM".into(), state: FetchState::Queued }],
        finished: false,
    };
    store.save_job(job.clone()).await.expect("save");
    job.entries[0].state = FetchState::Stored { records: 100 };
    job.finished = true;
    store.save_job(job.clone()).await.expect("save again");
    assert_eq!(store.job("j1".into()).await.expect("read"), Some(job));
    assert_eq!(store.job("nope".into()).await.expect("read"), None);
}

#[tokio::test]
async fn intraday_bars_are_kept_per_interval_apart_from_daily_bars() {
    let store = SqliteStore::in_memory().expect("store");
    let minute = |m: i64, close: f64| Bar { ts: m * 60_000_000_000, ..bar("IBM", 0, close) };
    store
        .upsert_intraday_bars(IntradayInterval::FiveMin, vec![minute(5, 1.0), minute(10, 2.0)])
        .await
        .expect("5min");
    store.upsert_intraday_bars(IntradayInterval::FiveMin, vec![minute(10, 3.0)]).await.expect("replace");
    store.upsert_intraday_bars(IntradayInterval::OneMin, vec![minute(1, 9.0)]).await.expect("1min");
    let query = BarQuery { symbol: "IBM".into(), from: None, to: None, limit: 10 };
    let five = store.intraday_bars(IntradayInterval::FiveMin, query.clone()).await.expect("read");
    assert_eq!(five.iter().map(|b| b.close).collect::<Vec<_>>(), [1.0, 3.0]);
    assert_eq!(store.intraday_bars(IntradayInterval::OneMin, query.clone()).await.expect("read").len(), 1);
    assert!(store.daily_bars(query).await.expect("read").is_empty());
    assert!(store.symbols().await.expect("symbols").is_empty(), "intraday bars alone do not make a symbol");
}
