//! Tick retention on the embedded store: old ticks pruned in batches, a
//! symbol's newest kept (where a restarted driver resumes), and reads and
//! writes going on while a sweep runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::file_store;
use super::scale::ticks_at;
use crate::store::retention::{self, Retention};
use crate::store::{SharedStore, Store};

const HOUR: i64 = 3_600 * 1_000_000_000;

fn seqs(ticks: &[marquee_shared::Tick]) -> Vec<u64> {
    ticks.iter().map(|t| t.seq).collect()
}

#[tokio::test]
async fn old_ticks_are_pruned_in_batches_and_each_symbols_newest_is_kept() {
    let (_dir, store) = file_store();
    let now = crate::common::time::now_ns();
    let old = now - 48 * HOUR;
    store.insert_ticks(ticks_at("A", 1, (0..10).map(|i| old + i))).await.expect("insert");
    store.insert_ticks(ticks_at("A", 11, [now])).await.expect("insert");
    // B has only old ticks: its newest stays.
    store.insert_ticks(ticks_at("B", 1, (0..3).map(|i| old + i))).await.expect("insert");
    let before = now - 24 * HOUR;

    assert_eq!(store.prune_ticks(before, 4).await.expect("prune"), 4, "one batch at most");
    let shared: SharedStore = Arc::new(store.clone());
    let pace = Retention {
        batch: 4,
        pause: Duration::from_millis(1),
        ..Retention::new(Duration::from_secs(86_400))
    };
    let deleted = retention::sweep(&shared, before, pace, &CancellationToken::new()).await.expect("sweep");
    assert_eq!(deleted, 8, "the other 6 of A and 2 of B, in batches of 4");

    assert_eq!(seqs(&store.recent_ticks("A".into(), 100).await.expect("read")), [11]);
    assert_eq!(seqs(&store.recent_ticks("B".into(), 100).await.expect("read")), [3]);
    let last: Vec<_> =
        store.last_ticks().await.expect("last").into_iter().map(|t| (t.symbol, t.seq)).collect();
    assert_eq!(last, [("A".to_owned(), 11), ("B".to_owned(), 3)]);
    assert_eq!(store.prune_ticks(before, 4).await.expect("prune"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_while_ticks_stream_in_leaves_reads_and_writes_working() {
    let (_dir, store) = file_store();
    let symbols = ["S0", "S1", "S2", "S3"];
    let old = crate::common::time::now_ns() - 48 * HOUR;
    const OLD: u64 = 5_000;
    for symbol in symbols {
        for chunk in 0..5 {
            let first = chunk * 1_000 + 1;
            let ticks = ticks_at(symbol, first, (0..1_000).map(|i| old + (first + i) as i64));
            store.insert_ticks(ticks).await.expect("old ticks");
        }
    }
    let shared: SharedStore = Arc::new(store.clone());
    let shutdown = CancellationToken::new();
    let pace = Retention {
        every: Duration::from_millis(20),
        batch: 500,
        pause: Duration::from_millis(1),
        ..Retention::new(Duration::from_secs(3_600))
    };
    let pruning = tokio::spawn(retention::run(Arc::clone(&shared), pace, shutdown.clone()));

    // The receiver's flushes: 40 batches of 25 new ticks per symbol.
    let writer = {
        let store = Arc::clone(&shared);
        tokio::spawn(async move {
            for round in 0..40u64 {
                let mut batch = Vec::new();
                for symbol in symbols {
                    let first = OLD + 1 + round * 25;
                    batch.extend(ticks_at(symbol, first, (0..25).map(|_| crate::common::time::now_ns())));
                }
                assert_eq!(store.insert_ticks(batch).await.expect("flush"), 100);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    // REST readers meanwhile.
    let mut reads = 0;
    let mut slowest = Duration::ZERO;
    while !writer.is_finished() {
        let started = Instant::now();
        assert!(!shared.recent_ticks("S1".into(), 50).await.expect("ticks").is_empty());
        assert_eq!(shared.last_ticks().await.expect("last").len(), symbols.len());
        shared.symbols().await.expect("symbols");
        slowest = slowest.max(started.elapsed());
        reads += 1;
    }
    writer.await.expect("writer");
    assert!(reads > 10, "only {reads} reads while streaming");
    assert!(slowest < Duration::from_secs(2), "a read waited {slowest:?}");

    // Every old tick goes; every new one stays.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut left = 0;
        for symbol in symbols {
            let ticks = shared.recent_ticks(symbol.into(), 100_000).await.expect("read");
            left += ticks.iter().filter(|t| t.seq <= OLD).count();
            assert!(ticks.iter().filter(|t| t.seq > OLD).count() == 1_000, "a new tick of {symbol} went");
        }
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{left} old ticks still stored");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(1), pruning).await.expect("stops at shutdown").expect("task");
}
