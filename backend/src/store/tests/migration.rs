//! A store written by the version before issue 14 opens cleanly: repeated
//! alerts removed before the key is made, each symbol's newest tick and
//! summary filled in (poisoned closes left out), open fetch jobs findable;
//! opening it again changes nothing.

use rusqlite::{Connection, params};

use crate::store::{SqliteStore, Store};

/// The tables of the earlier version that the migration changes, as it made them.
const EARLIER: &str = "
CREATE TABLE daily_bars (
    symbol TEXT NOT NULL, ts INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,
    close REAL NOT NULL, volume INTEGER NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (symbol, ts)
) WITHOUT ROWID;
CREATE TABLE ticks (
    symbol TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, price REAL NOT NULL,
    size INTEGER NOT NULL, change REAL NOT NULL, change_pct REAL NOT NULL,
    PRIMARY KEY (symbol, seq)
) WITHOUT ROWID;
CREATE TABLE alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE fetch_jobs (id TEXT PRIMARY KEY, created INTEGER NOT NULL, body TEXT NOT NULL);
";

fn alert(kind: &str, ts: i64) -> String {
    format!(r#"{{"symbol":"A","kind":"{kind}","severity":"warning","value":6.0,"threshold":5.0,"ts":{ts}}}"#)
}

fn job(id: &str, finished: bool) -> String {
    use marquee_shared::{FetchEntry, FetchJob, FetchState, OutputSize};
    let state = if finished { FetchState::Stored { records: 5 } } else { FetchState::Fetching };
    let job = FetchJob {
        replace: false,
        id: id.into(),
        created: 1,
        outputsize: OutputSize::Compact,
        intraday: None,
        entries: vec![FetchEntry { symbol: "IBM".into(), state }],
        finished,
    };
    serde_json::to_string(&job).expect("json")
}

#[tokio::test]
async fn a_store_of_the_earlier_version_migrates_once_and_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let old = Connection::open(dir.path().join("marquee.db")).expect("old store");
        old.execute_batch(EARLIER).expect("old schema");
        for (ts, body) in
            [(1, alert("price_jump", 1)), (1, alert("price_jump", 1)), (1, alert("volume_spike", 1))]
        {
            old.execute("INSERT INTO alerts (ts, body) VALUES (?1, ?2)", params![ts, body]).expect("alert");
        }
        for (id, finished) in [("open", false), ("done", true)] {
            old.execute("INSERT INTO fetch_jobs VALUES (?1, 1, ?2)", params![id, job(id, finished)])
                .expect("job");
        }
        for (symbol, seq, price) in [("A", 1, 1.0), ("A", 3, 3.0), ("A", 2, 2.0), ("B", 1, 9.0)] {
            old.execute("INSERT INTO ticks VALUES (?1, ?2, ?2, ?3, 1, 0, 0)", params![symbol, seq, price])
                .expect("tick");
        }
        const DAY: i64 = 86_400_000_000_000;
        for (day, close) in [(1, 100.0), (2, 110.0), (3, 1e308)] {
            old.execute(
                "INSERT INTO daily_bars VALUES ('P', ?1, 100, ?2, 90, ?2, 10, 'csv')",
                params![day * DAY, close],
            )
            .expect("bar");
        }
    }

    for opening in ["first", "second"] {
        let store = SqliteStore::open(dir.path()).expect(opening);
        let alerts = store.recent_alerts(10).await.expect("alerts");
        let kinds: Vec<_> = alerts.iter().map(|a| a.kind.as_str()).collect();
        assert_eq!(kinds.len(), 2, "{opening}: {kinds:?}");
        assert!(kinds.contains(&"price_jump") && kinds.contains(&"volume_spike"));
        let last: Vec<_> =
            store.last_ticks().await.expect("last").into_iter().map(|t| (t.symbol, t.seq, t.price)).collect();
        assert_eq!(last, [("A".to_owned(), 3, 3.0), ("B".to_owned(), 1, 9.0)], "{opening}");
        let symbols = store.symbols().await.expect("symbols");
        assert_eq!(symbols.len(), 1);
        assert_eq!((symbols[0].records, symbols[0].last, symbols[0].change), (2, 110.0, 10.0), "{opening}");
        if opening == "first" {
            assert_eq!(store.fail_unfinished_jobs("interrupted".into()).await.expect("fail"), 1);
        }
        let open = store.job("open".into()).await.expect("job").expect("kept");
        assert!(open.finished, "{opening}");
        assert_eq!(store.fail_unfinished_jobs("interrupted".into()).await.expect("fail"), 0);
    }
}

/// Processes of one machine started together (`--role` per process) open one
/// fresh directory at the same moment: each waits for the other's schema
/// instead of failing with "database is locked".
#[test]
fn processes_opening_one_fresh_directory_at_once_all_succeed() {
    for _ in 0..20 {
        let dir = tempfile::tempdir().expect("tempdir");
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        SqliteStore::open(dir.path()).map(drop)
                    })
                })
                .collect();
            for opener in openers {
                opener.join().expect("opener").expect("every opener succeeds");
            }
        });
    }
}
