//! Tick retention (`--tick-retention`): a periodic task deletes ticks older
//! than the retention in batches, pausing between them so the receiver's
//! flushes and the readers get the store in turn; it stops at shutdown,
//! also between two batches. A symbol's newest tick is always kept (where
//! a restarted driver resumes). MongoDB expires ticks by a TTL index
//! instead, and its `prune_ticks` deletes nothing.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::SharedStore;

/// How retention runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Ticks older than this (by event time) are deleted.
    pub keep: Duration,
    /// Time between two sweeps.
    pub every: Duration,
    /// Ticks deleted per statement (one short write transaction).
    pub batch: usize,
    /// Time between two batches of one sweep.
    pub pause: Duration,
}

impl Retention {
    /// `keep` with the default pace: a sweep a minute, 5,000 ticks per
    /// batch, 50 ms between batches (up to 100,000 ticks/s when behind,
    /// against 2,200 ticks/s made at the default rate).
    pub fn new(keep: Duration) -> Self {
        Self { keep, every: Duration::from_secs(60), batch: 5_000, pause: Duration::from_millis(50) }
    }
}

/// Sweeps every `retention.every` until `shutdown`.
pub async fn run(store: SharedStore, retention: Retention, shutdown: CancellationToken) {
    loop {
        let before = crate::common::time::now_ns().saturating_sub(nanos(retention.keep));
        match sweep(&store, before, retention, &shutdown).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, keep = ?retention.keep, "pruned old ticks"),
            Err(err) => tracing::warn!(%err, "cannot prune old ticks; trying again at the next sweep"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(retention.every) => {}
        }
    }
}

/// Deletes the ticks made before `before`, batch by batch, until none is
/// left or shutdown; returns how many went.
pub async fn sweep(
    store: &SharedStore,
    before: i64,
    retention: Retention,
    shutdown: &CancellationToken,
) -> Result<u64, super::StoreError> {
    let mut deleted = 0;
    loop {
        let batch = store.prune_ticks(before, retention.batch).await?;
        deleted += batch;
        if batch < retention.batch as u64 {
            return Ok(deleted);
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(deleted),
            () = tokio::time::sleep(retention.pause) => {}
        }
    }
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}
