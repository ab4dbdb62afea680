//! Behaviour every store must have: each check runs against the embedded
//! store, and against MongoDB when built with `--features mongo` (then
//! `MARQUEE_TEST_MONGODB_URL` must name a server; each check gets a fresh
//! database).

use marquee_shared::{
    Alert, AlertKind, AnalyzedBar, Bar, BarInterval, Company, DataSource, Event, EventKind, FetchEntry,
    FetchJob, FetchState, Indicators, IntradayInterval, OhlcvBar, OutputSize, Severity, Tick,
};

use super::{BarQuery, SqliteStore, Store};

/// Hands `$with!` the name of every check every store must pass (then
/// `$extra`): one list for `every_store!` and the query-plan test.
macro_rules! every_check {
    ($with:ident $(, $extra:ident)*) => {
        $with! {
            live_bars_upsert_by_start_and_alerts_come_back_newest_first,
            daily_bar_upserts_are_idempotent_and_replace_values,
            bar_queries_honour_range_and_anchor_the_limit_at_from_or_the_end,
            replacing_a_symbols_daily_history_leaves_nothing_of_the_old,
            symbols_summarise_the_latest_close_and_its_change,
            ticks_are_stored_once_per_symbol_and_seq,
            events_come_back_newest_first,
            fetch_jobs_are_saved_and_replaced_by_id,
            intraday_bars_are_kept_per_interval_apart_from_daily_bars,
            alerts_are_stored_once_per_symbol_kind_and_time,
            symbols_come_from_a_summary_without_poisoned_closes,
            jobs_cut_by_a_stop_end_failed_at_the_next_start,
            ticks_are_read_by_event_time_a_page_at_a_time,
            $($extra),*
        }
    };
}

mod migration;
mod plans;
mod readers;
mod retention;
mod scale;

use scale::{
    alerts_are_stored_once_per_symbol_kind_and_time, jobs_cut_by_a_stop_end_failed_at_the_next_start,
    symbols_come_from_a_summary_without_poisoned_closes, ticks_are_read_by_event_time_a_page_at_a_time,
};

const DAY: i64 = 86_400 * 1_000_000_000;

/// The ticks' TTL the MongoDB checks ask for.
#[cfg(feature = "mongo")]
const RETENTION: std::time::Duration = std::time::Duration::from_secs(3 * 86_400);

/// The embedded store on a file (WAL, with its read pool), and its directory.
fn file_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    (dir, store)
}

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
    Tick { symbol: symbol.into(), seq, ts: seq as i64, price, size: 10.0, change: 0.0, change_pct: 0.0 }
}

async fn daily_bar_upserts_are_idempotent_and_replace_values(store: &dyn Store) {
    store.upsert_daily_bars(vec![bar("IBM", 1, 10.0), bar("IBM", 2, 11.0)]).await.expect("upsert");
    store.upsert_daily_bars(vec![bar("IBM", 2, 12.0), bar("IBM", 3, 13.0)]).await.expect("upsert again");
    let query = BarQuery { symbol: "IBM".into(), from: None, to: None, limit: 100 };
    let bars = store.daily_bars(query).await.expect("read");
    let closes: Vec<_> = bars.iter().map(|b| (b.ts / DAY, b.close)).collect();
    assert_eq!(closes, [(1, 10.0), (2, 12.0), (3, 13.0)]);
}

async fn bar_queries_honour_range_and_anchor_the_limit_at_from_or_the_end(store: &dyn Store) {
    store.upsert_daily_bars((1..=10).map(|d| bar("KO", d, d as f64)).collect()).await.expect("upsert");
    let in_range = BarQuery { symbol: "KO".into(), from: Some(3 * DAY), to: Some(8 * DAY), limit: 4 };
    let days: Vec<_> = store.daily_bars(in_range).await.expect("read").iter().map(|b| b.ts / DAY).collect();
    assert_eq!(days, [3, 4, 5, 6], "with `from`: the first `limit` at or after it");
    let newest = BarQuery { symbol: "KO".into(), from: None, to: Some(8 * DAY), limit: 4 };
    let days: Vec<_> = store.daily_bars(newest).await.expect("read").iter().map(|b| b.ts / DAY).collect();
    assert_eq!(days, [5, 6, 7, 8], "without `from`: the most recent `limit` up to `to`");
    let other = BarQuery { symbol: "PEP".into(), from: None, to: None, limit: 4 };
    assert!(store.daily_bars(other).await.expect("read").is_empty());
}

async fn replacing_a_symbols_daily_history_leaves_nothing_of_the_old(store: &dyn Store) {
    let demo = |d: i64| Bar { source: DataSource::Synthetic, ..bar("ACME", d, 50.0) };
    store.upsert_daily_bars((1..=5).map(demo).collect()).await.expect("demo");
    store.upsert_daily_bars(vec![bar("KO", 1, 60.0)]).await.expect("another symbol");
    let csv = |d: i64| Bar { source: DataSource::Csv, ..bar("ACME", d, 70.0) };
    assert_eq!(store.replace_daily_bars("ACME".into(), vec![csv(4), csv(6)]).await.expect("replace"), 2);
    let all = |symbol: &str| BarQuery { symbol: symbol.into(), from: None, to: None, limit: 100 };
    let acme: Vec<_> =
        store.daily_bars(all("ACME")).await.expect("read").iter().map(|b| (b.ts / DAY, b.source)).collect();
    assert_eq!(acme, [(4, DataSource::Csv), (6, DataSource::Csv)]);
    assert_eq!(store.daily_bars(all("KO")).await.expect("read").len(), 1, "other symbols untouched");
}

async fn symbols_summarise_the_latest_close_and_its_change(store: &dyn Store) {
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

async fn ticks_are_stored_once_per_symbol_and_seq(store: &dyn Store) {
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

async fn events_come_back_newest_first(store: &dyn Store) {
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

async fn fetch_jobs_are_saved_and_replaced_by_id(store: &dyn Store) {
    let mut job = FetchJob {
        replace: false,
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

async fn intraday_bars_are_kept_per_interval_apart_from_daily_bars(store: &dyn Store) {
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

async fn live_bars_upsert_by_start_and_alerts_come_back_newest_first(store: &dyn Store) {
    let live = |start: i64, close: f64| AnalyzedBar {
        bar: OhlcvBar::opened("A", BarInterval::OneMinute, start, close, 5.0),
        indicators: Indicators { sma20: Some(close), ..Indicators::default() },
    };
    store.upsert_analyzed_bars(vec![live(1, 1.0), live(2, 2.0)]).await.expect("upsert");
    store.upsert_analyzed_bars(vec![live(2, 2.5), live(3, 3.0)]).await.expect("upsert again");
    let query = BarQuery { symbol: "A".into(), from: None, to: None, limit: 2 };
    let bars = store.analyzed_bars(BarInterval::OneMinute, query.clone()).await.expect("read");
    assert_eq!(bars.iter().map(|b| (b.bar.start, b.bar.close)).collect::<Vec<_>>(), [(2, 2.5), (3, 3.0)]);
    assert_eq!(bars[0].indicators.sma20, Some(2.5));
    assert!(store.analyzed_bars(BarInterval::FiveMinutes, query.clone()).await.expect("read").is_empty());

    // A bar built from fewer trades (a receiver that took over mid-bar)
    // does not replace the one built from more; one from as many or more does.
    let traded = |close: f64, trades: u64| {
        let mut bar = live(3, close);
        bar.bar.trades = trades;
        bar
    };
    assert_eq!(store.upsert_analyzed_bars(vec![traded(3.5, 10)]).await.expect("upsert"), 1);
    assert_eq!(store.upsert_analyzed_bars(vec![traded(9.9, 4)]).await.expect("upsert"), 0, "fewer trades");
    assert_eq!(store.upsert_analyzed_bars(vec![traded(3.6, 10)]).await.expect("upsert"), 1, "as many");
    let bars = store.analyzed_bars(BarInterval::OneMinute, query).await.expect("read");
    assert_eq!((bars[1].bar.close, bars[1].bar.trades), (3.6, 10));

    let alert = |ts: i64| Alert {
        symbol: "A".into(),
        kind: AlertKind::PriceJump,
        severity: Severity::Warning,
        value: 6.0,
        threshold: 5.0,
        ts,
    };
    store.insert_alerts(vec![alert(1), alert(3)]).await.expect("alerts");
    store.insert_alerts(vec![alert(2)]).await.expect("alerts");
    let recent: Vec<_> = store.recent_alerts(2).await.expect("read").iter().map(|a| a.ts).collect();
    assert_eq!(recent, [3, 2]);
}

/// Runs each check against every store this build has.
macro_rules! every_store {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $check() {
                    let (_dir, store) = super::file_store();
                    super::$check(&store).await;
                }
            )*
        }
        #[cfg(feature = "mongo")]
        mod mongodb {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(&super::mongo(stringify!($check)).await).await;
                }
            )*
        }
    };
}

every_check!(every_store);

/// MongoDB expires ticks by a TTL index on their event time (the stand-in
/// declares TTL indexes but may not expire): the index is there with the
/// retention asked for, and a later start with another retention moves it.
#[cfg(feature = "mongo")]
mod mongodb_retention {
    #[tokio::test]
    async fn ticks_expire_by_a_ttl_index_with_the_configured_retention() {
        // Ticks of an earlier version (no `at`): one past the retention, one not.
        let url = std::env::var("MARQUEE_TEST_MONGODB_URL").expect("url");
        let name = format!("marquee_test_ttl_{:x}", crate::common::time::now_ns());
        let client = mongodb::Client::with_uri_str(&url).await.expect("client");
        let legacy = client.database(&name).collection::<mongodb::bson::Document>("ticks");
        for (seq, ts) in [(1_i64, 1_000_i64), (2, crate::common::time::now_ns())] {
            let tick = mongodb::bson::doc! {
                "symbol": "LEGACY", "seq": seq, "ts": ts, "price": 1.0, "size": 1_i64, "change": 0.0, "change_pct": 0.0,
            };
            legacy.insert_one(tick).await.expect("legacy tick");
        }
        let store = super::super::mongo::MongoStore::connect(&url, &name, Some(super::RETENTION))
            .await
            .expect("connect");
        let left = super::Store::recent_ticks(&store, "LEGACY".into(), 10).await.expect("read");
        assert_eq!(
            left.iter().map(|t| t.seq).collect::<Vec<_>>(),
            [2],
            "the old one went, the recent one stays"
        );

        assert_eq!(store.tick_expiry().await.expect("indexes"), Some(super::RETENTION));
        let mut ticks = super::scale::ticks_at("A", 1, [crate::common::time::now_ns()]);
        // Made in 1970: expired at once (the stand-in expires on read; a
        // server's TTL monitor within a minute), but where OLD resumes stays.
        ticks.extend(super::scale::ticks_at("OLD", 5, [1_000]));
        assert_eq!(super::Store::insert_ticks(&store, ticks).await.expect("insert"), 2);
        let hours = std::time::Duration::from_secs(36 * 3_600);
        let again =
            super::super::mongo::MongoStore::connect(&url, &name, Some(hours)).await.expect("connect");
        assert_eq!(again.tick_expiry().await.expect("indexes"), Some(hours));
        let last = super::Store::last_ticks(&again).await.expect("last");
        let last: Vec<_> = last.iter().map(|t| (t.symbol.as_str(), t.seq)).collect();
        assert_eq!(last, [("A", 1), ("LEGACY", 2), ("OLD", 5)]);
    }
}

/// A fresh MongoDB database. Without a retention, as for the one-shot
/// commands: a TTL index would expire the checks' ticks, made in 1970.
#[cfg(feature = "mongo")]
async fn mongo(check: &str) -> super::mongo::MongoStore {
    mongo_with(check, None).await
}

#[cfg(feature = "mongo")]
async fn mongo_with(check: &str, retention: Option<std::time::Duration>) -> super::mongo::MongoStore {
    let url = std::env::var("MARQUEE_TEST_MONGODB_URL")
        .expect("MARQUEE_TEST_MONGODB_URL must name a MongoDB server for the `mongo` feature's tests");
    // Database names are short (at most 64 bytes) and plain.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("marquee_test_{:x}_{n}", crate::common::time::now_ns());
    super::mongo::MongoStore::connect(&url, &name, retention)
        .await
        .unwrap_or_else(|e| panic!("{check}: cannot connect: {e}"))
}

#[test]
fn a_change_is_a_number_even_from_impossible_closes() {
    assert_eq!(super::change(11.0, Some(10.0)), (1.0, 10.0));
    assert_eq!(super::change(11.0, None), (0.0, 0.0));
    // Stored before values were checked: never NaN or infinite (JSON `null`).
    assert_eq!(super::change(1e308, Some(1e-320)), (0.0, 0.0));
    assert_eq!(super::change(-1e308, Some(1e308)), (0.0, 0.0));
    assert_eq!(super::change(5.0, Some(0.0)), (0.0, 0.0));
}
