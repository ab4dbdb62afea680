//! The receiver against stores that are slow or failing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use marquee_shared::{
    Alert, AnalyzedBar, Bar, BarInterval, Company, Event, FetchJob, IntradayInterval, SymbolSummary, Tick,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::buffer::BufferLimits;
use crate::common::shutdown::Grace;
use crate::hub::Update;
use crate::metrics::StageStats;
use crate::spill::Spill;
use crate::store::{BarQuery, LastTick, SharedStore, SqliteStore, Store, StoreError, StoreFuture};

/// A real store whose tick writes take `delay`, may fail while `failing`, and
/// which records the largest batch it was given.
#[derive(Debug)]
struct SlowStore {
    inner: SqliteStore,
    delay: Duration,
    failing: AtomicBool,
    largest_batch: AtomicUsize,
}

impl Store for SlowStore {
    fn describe(&self) -> String {
        "slow test store".to_owned()
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.inner.ping()
    }

    fn insert_ticks(&self, ticks: Vec<Tick>) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            if self.failing.load(Ordering::SeqCst) {
                return Err(StoreError::Unavailable("disk on fire".into()));
            }
            self.largest_batch.fetch_max(ticks.len(), Ordering::SeqCst);
            self.inner.insert_ticks(ticks).await
        })
    }
    fn upsert_company(&self, c: Company) -> StoreFuture<'_, ()> {
        self.inner.upsert_company(c)
    }
    fn upsert_daily_bars(&self, b: Vec<Bar>) -> StoreFuture<'_, u64> {
        self.inner.upsert_daily_bars(b)
    }
    fn replace_daily_bars(&self, s: String, b: Vec<Bar>) -> StoreFuture<'_, u64> {
        self.inner.replace_daily_bars(s, b)
    }
    fn upsert_intraday_bars(&self, i: IntradayInterval, b: Vec<Bar>) -> StoreFuture<'_, u64> {
        self.inner.upsert_intraday_bars(i, b)
    }
    fn append_event(&self, e: Event) -> StoreFuture<'_, ()> {
        self.inner.append_event(e)
    }
    fn symbols(&self) -> StoreFuture<'_, Vec<SymbolSummary>> {
        self.inner.symbols()
    }
    fn daily_bars(&self, q: BarQuery) -> StoreFuture<'_, Vec<Bar>> {
        self.inner.daily_bars(q)
    }
    fn intraday_bars(&self, i: IntradayInterval, q: BarQuery) -> StoreFuture<'_, Vec<Bar>> {
        self.inner.intraday_bars(i, q)
    }
    fn company(&self, s: String) -> StoreFuture<'_, Option<Company>> {
        self.inner.company(s)
    }
    fn recent_ticks(&self, s: String, l: usize) -> StoreFuture<'_, Vec<Tick>> {
        self.inner.recent_ticks(s, l)
    }
    fn ticks_between(&self, page: crate::store::TickPage) -> StoreFuture<'_, Vec<Tick>> {
        self.inner.ticks_between(page)
    }
    fn last_ticks(&self) -> StoreFuture<'_, Vec<LastTick>> {
        self.inner.last_ticks()
    }
    fn recent_events(&self, l: usize) -> StoreFuture<'_, Vec<Event>> {
        self.inner.recent_events(l)
    }
    fn upsert_analyzed_bars(&self, b: Vec<AnalyzedBar>) -> StoreFuture<'_, u64> {
        self.inner.upsert_analyzed_bars(b)
    }
    fn analyzed_bars(&self, i: BarInterval, q: BarQuery) -> StoreFuture<'_, Vec<AnalyzedBar>> {
        self.inner.analyzed_bars(i, q)
    }
    fn insert_alerts(&self, a: Vec<Alert>) -> StoreFuture<'_, ()> {
        self.inner.insert_alerts(a)
    }
    fn recent_alerts(&self, l: usize) -> StoreFuture<'_, Vec<Alert>> {
        self.inner.recent_alerts(l)
    }
    fn save_job(&self, j: FetchJob) -> StoreFuture<'_, ()> {
        self.inner.save_job(j)
    }
    fn job(&self, id: String) -> StoreFuture<'_, Option<FetchJob>> {
        self.inner.job(id)
    }
}

fn slow_store(delay: Duration) -> Arc<SlowStore> {
    Arc::new(SlowStore {
        inner: SqliteStore::in_memory().expect("store"),
        delay,
        failing: AtomicBool::new(false),
        largest_batch: AtomicUsize::new(0),
    })
}

fn batch(step: u64) -> Vec<Tick> {
    ["A", "B", "C", "D"]
        .iter()
        .map(|s| Tick {
            symbol: (*s).into(),
            seq: step,
            ts: step as i64,
            price: 1.0,
            size: 1.0,
            change: 0.0,
            change_pct: 0.0,
        })
        .collect()
}

const LIMITS: BufferLimits = BufferLimits { capacity: 40, batch: 20, max_age: Duration::from_millis(20) };

/// Spawns the receiver; returns its input, the hub side and the task.
fn start(
    store: SharedStore,
) -> (mpsc::Sender<Vec<Tick>>, mpsc::Receiver<Update>, tokio::task::JoinHandle<()>) {
    let exit = super::Exit {
        grace: Grace::new(CancellationToken::new(), Duration::from_secs(1)),
        spill: Spill::new(std::path::Path::new("/nonexistent"), "never"),
    };
    let (input, hub, task, _) = start_with(store, exit);
    (input, hub, task)
}

type Started = (mpsc::Sender<Vec<Tick>>, mpsc::Receiver<Update>, tokio::task::JoinHandle<()>, super::Stats);

/// [`start`] with its way out given, and its figures.
fn start_with(store: SharedStore, exit: super::Exit) -> Started {
    let (input, receiver_in) = mpsc::channel(4);
    let (receiver_out, hub) = mpsc::channel(10_000);
    let stats = super::Stats {
        receiver: Arc::new(StageStats::new(crate::common::Stage::Receiver)),
        store: Arc::new(StageStats::new(crate::common::Stage::Store)),
    };
    let outputs = super::Outputs { hub: receiver_out, notify: None };
    let task = tokio::spawn(super::run(receiver_in, store, outputs, LIMITS, stats.clone(), exit));
    (input, hub, task, stats)
}

async fn stored_seqs(store: &SlowStore, symbol: &str) -> Vec<u64> {
    store.inner.recent_ticks(symbol.into(), 1_000_000).await.expect("read").iter().map(|t| t.seq).collect()
}

#[tokio::test]
async fn a_slow_store_slows_the_producer_and_loses_nothing() {
    let store = slow_store(Duration::from_millis(25));
    let (input, _hub, task) = start(store.clone());

    // Produce as fast as the receiver lets us for 600 ms.
    let started = tokio::time::Instant::now();
    let mut sent = 0;
    while started.elapsed() < Duration::from_millis(600) {
        sent += 1;
        input.send(batch(sent)).await.expect("receiver alive");
    }
    // Each 25 ms write takes at most 40 ticks (10 batches): about 240 batches
    // fit in 600 ms. Unthrottled, this loop would send hundreds of thousands.
    assert!(sent < 400, "the producer was not held back: {sent} batches");
    assert!(store.largest_batch.load(Ordering::SeqCst) <= LIMITS.capacity, "the buffer stayed bounded");

    drop(input);
    task.await.expect("receiver ends when its input closes");
    for symbol in ["A", "B", "C", "D"] {
        assert_eq!(
            stored_seqs(&store, symbol).await,
            (1..=sent).collect::<Vec<_>>(),
            "{symbol}: every tick stored once"
        );
    }
}

#[tokio::test]
async fn a_failing_store_is_retried_until_it_takes_the_ticks() {
    let store = slow_store(Duration::ZERO);
    store.failing.store(true, Ordering::SeqCst);
    let (input, mut hub, task) = start(store.clone());
    for step in 1..=3 {
        input.send(batch(step)).await.expect("send");
    }
    // Live ticks still reach the hub while the store is down.
    for _ in 1..=3 {
        assert!(matches!(hub.recv().await, Some(Update::Ticks(batch)) if batch.len() == 4));
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(stored_seqs(&store, "A").await.is_empty());
    store.failing.store(false, Ordering::SeqCst);
    drop(input);
    task.await.expect("receiver ends");
    assert_eq!(stored_seqs(&store, "A").await, [1, 2, 3]);
}

#[tokio::test]
async fn duplicates_are_stored_once_and_an_old_tick_flushes_by_age() {
    let store = slow_store(Duration::ZERO);
    let (input, _hub, task) = start(store.clone());
    input.send(batch(1)).await.expect("send");
    input.send(batch(1)).await.expect("send a replay");
    // Fewer than a batch: written once the oldest is 20 ms old.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(stored_seqs(&store, "A").await, [1]);
    drop(input);
    task.await.expect("receiver ends");
}

#[tokio::test]
async fn closed_bars_and_alerts_are_stored_and_passed_on() {
    const MINUTE: i64 = 60_000_000_000;
    let store = slow_store(Duration::ZERO);
    let (input, mut hub, task) = start(store.clone());
    // One tick every 10 s for 12 minutes, then a 5 % jump.
    let mut price = 100.0;
    for step in 1..=80u64 {
        price *= if step == 80 {
            1.05
        } else if step % 2 == 0 {
            1.0002
        } else {
            0.9999
        };
        let tick = Tick {
            symbol: "A".into(),
            seq: step,
            ts: step as i64 * MINUTE / 6,
            price,
            size: 100.0,
            change: 0.0,
            change_pct: 0.0,
        };
        input.send(vec![tick]).await.expect("send");
    }
    drop(input);
    task.await.expect("receiver ends");

    let mut bars = 0;
    let mut alerts = Vec::new();
    while let Some(update) = hub.recv().await {
        match update {
            Update::Bars(b) => bars += b.len(),
            Update::Alerts(a) => alerts.extend(a),
            _ => {}
        }
    }
    // 80 ticks over 13 1/3 minutes: 13 one-minute, 2 five-minute bars closed.
    assert_eq!(bars, 15);
    let query = BarQuery { symbol: "A".into(), from: None, to: None, limit: 100 };
    let stored = store.inner.analyzed_bars(BarInterval::OneMinute, query).await.expect("read");
    assert_eq!(stored.len(), 13);
    assert_eq!(stored[0].bar.trades, 5, "ticks at 10 s .. 50 s of the first minute");
    assert_eq!(
        alerts.iter().filter(|a| a.kind == marquee_shared::AlertKind::PriceJump).count(),
        0,
        "the window (200 returns) is not full yet"
    );
    assert_eq!(store.inner.recent_alerts(10).await.expect("alerts"), alerts);
}

/// A spill in `dir` and a grace of `grace` on a token of its own.
fn spilling(dir: &std::path::Path, grace: Duration) -> (CancellationToken, super::Exit) {
    let shutdown = CancellationToken::new();
    let exit = super::Exit { grace: Grace::new(shutdown.clone(), grace), spill: Spill::new(dir, "receiver") };
    (shutdown, exit)
}

fn spilled(exit: &super::Exit) -> Vec<(String, u64)> {
    let bytes = std::fs::read(exit.spill.path()).expect("the spill file");
    let mut ticks: Vec<_> =
        crate::spill::record::decode(&bytes).ticks.into_iter().map(|t| (t.symbol, t.seq)).collect();
    ticks.sort();
    ticks
}

#[tokio::test]
async fn at_shutdown_what_a_failing_store_never_took_is_spilled_within_the_grace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = slow_store(Duration::ZERO);
    store.failing.store(true, Ordering::SeqCst);
    let (shutdown, exit) = spilling(dir.path(), Duration::from_millis(300));
    let (input, _hub, task, stats) = start_with(store.clone(), exit.clone());
    for step in 1..=3 {
        input.send(batch(step)).await.expect("send");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (receiver, written) = (stats.receiver.health(), stats.store.health());
    assert_eq!(written.status, marquee_shared::Status::Degraded, "{}", written.detail);
    assert!(written.errors > 0);
    assert!(receiver.detail.contains("reading no more"), "backpressure is said: {}", receiver.detail);

    // The input stays open (a driver that does not stop): the grace ends it.
    shutdown.cancel();
    let asked = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("ends").expect("no panic");
    assert!(asked.elapsed() < Duration::from_millis(1_500), "took {:?}", asked.elapsed());
    let expected: Vec<_> =
        ["A", "B", "C", "D"].iter().flat_map(|s| (1..=3).map(|seq| ((*s).to_owned(), seq))).collect();
    assert_eq!(spilled(&exit), expected, "every accepted tick, once");
    assert!(stored_seqs(&store, "A").await.is_empty());
    assert!(input.send(batch(4)).await.is_err(), "nothing more is taken after the grace");
}

#[tokio::test]
async fn a_store_that_hangs_reads_as_down_and_holds_the_producer_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = slow_store(Duration::from_secs(3_600));
    let (shutdown, exit) = spilling(dir.path(), Duration::from_millis(200));
    let (input, _hub, task, stats) = start_with(store.clone(), exit.clone());
    // The buffer (40) takes 10 batches, the channel 4 more; then sends wait.
    let mut sent = 0;
    while sent < 100 {
        let next = batch(sent + 1);
        if tokio::time::timeout(Duration::from_millis(100), input.send(next)).await.is_err() {
            break;
        }
        sent += 1;
    }
    assert!(sent < 20, "backpressure: {sent} batches taken by a receiver whose store hangs");
    assert_ne!(stats.store.health().status, marquee_shared::Status::Down, "not down at once");
    tokio::time::sleep(super::STORE_DOWN_AFTER).await;
    let written = stats.store.health();
    assert_eq!(written.status, marquee_shared::Status::Down, "{}", written.detail);
    let receiver = stats.receiver.health();
    assert!(receiver.detail.contains("reading no more"), "backpressure is said: {}", receiver.detail);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("ends").expect("no panic");
    assert_eq!(spilled(&exit).len(), sent as usize * 4, "every accepted tick spilled");
}

#[tokio::test]
async fn a_spill_the_store_refuses_at_start_is_kept_and_the_start_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spill = Spill::new(dir.path(), "earlier");
    spill.append(batch(1), "test").await.expect("append");
    let store = slow_store(Duration::ZERO);
    store.failing.store(true, Ordering::SeqCst);
    let refused = crate::spill::replay(dir.path(), store.as_ref()).await.expect_err("the store refuses");
    assert!(format!("{refused:#}").contains("the file is kept"), "{refused:#}");
    assert!(spill.path().exists(), "kept until the store confirms it");
    store.failing.store(false, Ordering::SeqCst);
    assert_eq!(crate::spill::replay(dir.path(), store.as_ref()).await.expect("stored").ticks, 4);
    assert!(!spill.path().exists());
    assert_eq!(stored_seqs(&store, "A").await, [1]);
}

#[tokio::test]
async fn kafka_batches_that_end_in_the_spill_are_not_committed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = slow_store(Duration::ZERO);
    let (shutdown, exit) = spilling(dir.path(), Duration::from_millis(200));
    let (input, receiver_in) = mpsc::channel::<super::Batch>(4);
    let (receiver_out, _hub) = mpsc::channel(10_000);
    let stats = super::Stats {
        receiver: Arc::new(StageStats::new(crate::common::Stage::Receiver)),
        store: Arc::new(StageStats::new(crate::common::Stage::Store)),
    };
    let outputs = super::Outputs { hub: receiver_out, notify: None };
    let task = tokio::spawn(super::run(receiver_in, store.clone(), outputs, LIMITS, stats, exit.clone()));
    let committed = Arc::new(AtomicUsize::new(0));
    let batch_of = |step: u64| {
        let committed = Arc::clone(&committed);
        super::Batch {
            ticks: batch(step),
            on_stored: Some(Box::new(move || {
                committed.fetch_add(1, Ordering::SeqCst);
            })),
        }
    };
    input.send(batch_of(1)).await.expect("send");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(committed.load(Ordering::SeqCst), 1, "a stored batch is committed");

    store.failing.store(true, Ordering::SeqCst);
    input.send(batch_of(2)).await.expect("send");
    tokio::time::sleep(Duration::from_millis(100)).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("ends").expect("no panic");
    assert_eq!(committed.load(Ordering::SeqCst), 1, "the spilled batch is left for Kafka to deliver again");
    assert_eq!(spilled(&exit).len(), 4);
}
