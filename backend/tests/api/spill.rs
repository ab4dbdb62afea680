//! The fault test of a store that fails for good: the real binary streams,
//! the test locks the SQLite database (every write of marquee then fails or
//! waits), `/health` turns the store down and the driver is held back, and
//! SIGTERM still ends the process within its grace with every accepted tick
//! in the spill file. Unlocked, the next start stores them before the
//! driver resumes: per symbol the stored seqs run 1, 2, 3, ... (0 lost),
//! each tick stored once and as it was made (0 duplicated, none made again).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use marquee_shared::{Health, ServerMessage, Status, Tick};

use crate::helpers::next_message;
use crate::support::free_port;

const SYMBOLS: &str = "AAPL,MSFT,KO,IBM,NVDA";
const GRACE: Duration = Duration::from_secs(2);

fn start(data: &Path, port: u16, log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_marquee"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--symbols", SYMBOLS])
        .args(["--tick-interval-ms", "5", "--flush-age-ms", "50", "--flush-batch", "200"])
        .args(["--buffer-capacity", "1000", "--shutdown-grace", "2s"])
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .env_remove("ALPHAVANTAGE_API_KEY")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start marquee")
}

/// Sends SIGTERM; the time until the process has exited, and its status.
async fn terminate(mut child: Child) -> (Duration, std::process::ExitStatus) {
    let asked = Instant::now();
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let waited = tokio::task::spawn_blocking(move || {
        // Bounded, so that a process that hangs fails the test instead of holding it.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return Some(status);
            }
            if Instant::now() > deadline {
                child.kill().ok();
                child.wait().ok();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let status = waited.await.expect("join").expect("marquee exits within 20 s of SIGTERM");
    (asked.elapsed(), status)
}

async fn health(port: u16) -> Option<Health> {
    let response = reqwest::get(format!("http://127.0.0.1:{port}/health")).await.ok()?;
    response.json().await.ok()
}

fn stage<'a>(health: &'a Health, name: &str) -> &'a marquee_shared::StageHealth {
    health.stages.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no {name} stage"))
}

/// Every stored tick, by (symbol, seq).
fn stored(db: &rusqlite::Connection) -> BTreeMap<(String, u64), (i64, f64)> {
    let mut query = db.prepare("SELECT symbol, seq, ts, price FROM ticks").expect("query");
    let rows = query
        .query_map([], |row| Ok(((row.get(0)?, row.get::<_, i64>(1)? as u64), (row.get(2)?, row.get(3)?))))
        .expect("rows");
    rows.map(|row| row.expect("row")).collect()
}

fn spill_files(data: &Path) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(data.join("spill")) {
        Ok(entries) => entries.map(|e| e.expect("entry").path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Per symbol, the seqs of `keys` run 1..=max with no gap.
fn assert_contiguous<'a>(keys: impl Iterator<Item = &'a (String, u64)>, what: &str) -> BTreeMap<String, u64> {
    let mut seqs: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (symbol, seq) in keys {
        seqs.entry(symbol.clone()).or_default().push(*seq);
    }
    assert_eq!(seqs.len(), 5, "{what}: ticks of every symbol");
    seqs.into_iter()
        .map(|(symbol, mut seqs)| {
            seqs.sort_unstable();
            let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
            assert!(seqs == expected, "{what}: {symbol}'s seqs have a gap or a repeat");
            (symbol, seqs.len() as u64)
        })
        .collect()
}

#[tokio::test]
async fn a_store_that_fails_for_good_ends_in_the_spill_and_the_next_start_stores_it() {
    let data = tempfile::tempdir().expect("tempdir");
    let logs = tempfile::tempdir().expect("tempdir for logs");
    let port = free_port();
    let child = start(data.path(), port, &logs.path().join("first.log"));

    // Streaming, and some ticks stored.
    let mut ws = None;
    for _ in 0..200 {
        if let Ok((socket, _)) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws")).await {
            ws = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut ws = ws.expect("marquee accepts WebSocket clients");
    let db = rusqlite::Connection::open(data.path().join("marquee.db")).expect("open the database");
    db.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    let mut seen: BTreeMap<(String, u64), f64> = BTreeMap::new();
    let started = Instant::now();
    while stored(&db).len() < 500 {
        assert!(started.elapsed() < Duration::from_secs(20), "no ticks stored");
        if let Some(ServerMessage::Ticks { ticks }) = next_message(&mut ws).await {
            seen.extend(ticks.into_iter().map(|t| ((t.symbol, t.seq), t.price)));
        }
    }

    // The store fails from here on: every write of marquee meets the lock.
    db.execute_batch("BEGIN EXCLUSIVE").expect("lock the database");
    let locked = Instant::now();

    // Down, not degraded, within a bounded time; and the driver held back.
    let mut down = None;
    while locked.elapsed() < Duration::from_secs(15) {
        if let Some(h) = health(port).await
            && stage(&h, "store").status == Status::Down
        {
            down = Some(h);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let down = down.expect("the store reads as down within 15 s of failing");
    assert_eq!(down.status, Status::Down, "a store that keeps failing is the process down");
    let made = stage(&down, "driver").processed;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let later = health(port).await.expect("health");
    let made_later = stage(&later, "driver").processed;
    assert!(made_later - made < 50, "backpressure: the driver made {} ticks in 1 s", made_later - made);
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_millis(50), next_message(&mut ws)).await
    {
        if let ServerMessage::Ticks { ticks } = message {
            seen.extend(ticks.into_iter().map(|t| ((t.symbol, t.seq), t.price)));
        }
    }

    let (took, status) = terminate(child).await;
    assert!(status.success(), "marquee exits cleanly: {status:?}");
    assert!(took < GRACE + Duration::from_millis(1_500), "exit took {took:?} with a {GRACE:?} grace");

    // The spill holds every accepted tick the store does not: together they
    // are every seq of every symbol, each once, and every tick a client saw.
    let files = spill_files(data.path());
    assert_eq!(files.len(), 1, "one spill file: {files:?}");
    let decoded = marquee::spill::record::decode(&std::fs::read(&files[0]).expect("read the spill"));
    assert!(decoded.skipped.is_empty(), "{:?}", decoded.skipped);
    let spilled: BTreeMap<(String, u64), Tick> =
        decoded.ticks.iter().map(|t| ((t.symbol.clone(), t.seq), t.clone())).collect();
    assert_eq!(spilled.len(), decoded.ticks.len(), "no tick spilled twice");
    assert!(!spilled.is_empty(), "something was spilled");
    eprintln!("exit took {took:?}; {} ticks spilled, {} seen by a client", spilled.len(), seen.len());
    let before = stored(&db);
    assert!(spilled.keys().all(|key| !before.contains_key(key)), "nothing both stored and spilled");
    let made = assert_contiguous(before.keys().chain(spilled.keys()), "stored + spilled");
    for (key, price) in &seen {
        let kept = before.get(key).map(|(_, p)| *p).or_else(|| spilled.get(key).map(|t| t.price));
        // The client's JSON reader may be an ULP off; the store and the spill are exact.
        let same = kept.is_some_and(|kept| (kept - price).abs() <= price.abs() * 1e-14);
        assert!(same, "{key:?} (price {price}), seen by a client, is neither stored nor spilled: {kept:?}");
    }
    db.execute_batch("ROLLBACK").expect("unlock");
    drop(db);

    // The next start stores the spill before the driver resumes after it.
    let port = free_port();
    let child = start(data.path(), port, &logs.path().join("second.log"));
    let started = Instant::now();
    loop {
        if let Some(h) = health(port).await
            && stage(&h, "driver").processed > 0
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the second start streams");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(spill_files(data.path()).is_empty(), "the spill file is removed once stored");
    let (_, status) = terminate(child).await;
    assert!(status.success(), "{status:?}");

    let db = rusqlite::Connection::open(data.path().join("marquee.db")).expect("open the database");
    let after = stored(&db);
    let stored_max = assert_contiguous(after.keys(), "after the restart");
    for (symbol, max) in &made {
        assert!(stored_max[symbol] > *max, "{symbol}: the driver resumed after seq {max}");
    }
    for (key, tick) in &spilled {
        assert_eq!(
            after.get(key),
            Some(&(tick.ts, tick.price)),
            "{key:?}: stored as spilled, not made again"
        );
    }
}
