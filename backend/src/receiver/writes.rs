//! The receiver's writes: ticks flushed from the buffer (retried with capped
//! backoff until stored, or, once the shutdown grace is over, spilled), and
//! closed bars and alerts (derived data: tried once). Every write is watched:
//! a store with no successful write for [`STORE_DOWN_AFTER`] reads as down
//! on `/health`, even while a write hangs rather than fails.

use std::time::{Duration, Instant};

use marquee_shared::Tick;

use super::buffer::TickBuffer;
use super::{Ack, Exit, Hub};
use crate::analytics::Output;
use crate::common::time::now_ns;
use crate::hub::Update;
use crate::metrics::StageStats;
use crate::store::{SharedStore, StoreFuture, StoreResult};

/// How long to wait before retrying a failed write, doubling up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(5);
/// A store with no successful write for this long is down, not degraded.
pub const STORE_DOWN_AFTER: Duration = Duration::from_secs(5);

/// Where flushed ticks go, what is counted about them, and who is told
/// once they are stored.
pub(super) struct Writes<'a> {
    pub store: &'a SharedStore,
    pub stats: &'a StageStats,
    pub store_stats: &'a StageStats,
    pub exit: &'a Exit,
    /// Of batches read whole since the last flush: the next flush stores them.
    pub acks: Vec<Ack>,
    /// Since when no write has succeeded; `None` while the last one did.
    trouble: Option<Instant>,
    /// Ticks written to the spill file.
    pub spilled: u64,
    /// Set at the first spill: from then on no batch is acknowledged, since a
    /// Kafka commit of a later offset would also commit the spilled ones.
    spilling: bool,
}

impl<'a> Writes<'a> {
    pub fn new(
        store: &'a SharedStore,
        stats: &'a StageStats,
        store_stats: &'a StageStats,
        exit: &'a Exit,
    ) -> Self {
        Self { store, stats, store_stats, exit, acks: Vec::new(), trouble: None, spilled: 0, spilling: false }
    }

    /// Tells the sources of every batch held so far that it is stored
    /// (once something was spilled, nobody is told anything more).
    pub fn acknowledge(&mut self) {
        if self.spilling {
            self.acks.clear();
        } else {
            self.acks.drain(..).for_each(|ack| ack());
        }
    }

    /// Waits for one write, marking the store down once no write has
    /// succeeded for [`STORE_DOWN_AFTER`]. `None` if the shutdown grace
    /// ended first (the write is abandoned).
    async fn attempt<T>(&mut self, write: StoreFuture<'_, T>) -> Option<StoreResult<T>> {
        if self.exit.grace.is_over() {
            return None;
        }
        let since = *self.trouble.get_or_insert_with(Instant::now);
        let down_at = tokio::time::Instant::from_std(since + STORE_DOWN_AFTER);
        let mut write = write;
        let mut marked = false;
        let result = loop {
            tokio::select! {
                result = &mut write => break result,
                () = self.exit.grace.over() => return None,
                () = tokio::time::sleep_until(down_at), if !marked => {
                    marked = true;
                    self.stats.set_degraded("waiting for the store; reading no more ticks until it takes them");
                    self.store_stats.set_down(format!(
                        "no write has succeeded for {} s: the store does not answer",
                        since.elapsed().as_secs()
                    ));
                }
            }
        };
        match &result {
            Ok(_) => {
                self.trouble = None;
                self.store_stats.set_running("storing ticks");
            }
            Err(err) if since.elapsed() >= STORE_DOWN_AFTER => {
                self.store_stats.add_errors(1);
                self.store_stats
                    .set_down(format!("no write has succeeded for {} s: {err}", since.elapsed().as_secs()));
            }
            Err(err) => {
                self.store_stats.add_errors(1);
                self.store_stats.set_degraded(format!("cannot store (retrying): {err}"));
            }
        }
        Some(result)
    }

    /// Writes `ticks` to the spill file. Offsets of Kafka batches among them
    /// are left uncommitted: Kafka keeps them and delivers them again to the
    /// group (the store ignores the repeat), so a spill on a disk that does
    /// not outlive this process loses nothing either.
    async fn spill(&mut self, ticks: Vec<Tick>) {
        self.spilling = true;
        let count = ticks.len() as u64;
        let ranges = format!("{:?}", crate::spill::seq_ranges(&ticks));
        match self.exit.spill.append(ticks, "not stored by the end of the shutdown grace").await {
            Ok(()) => self.spilled += count,
            Err(err) => {
                self.store_stats.add_dropped(count);
                tracing::error!(
                    %err,
                    ticks = count,
                    seqs = ranges,
                    path = %self.exit.spill.path().display(),
                    "cannot write the spill file: these ticks are lost"
                );
            }
        }
        if !self.acks.is_empty() {
            tracing::info!(batches = self.acks.len(), "spilled Kafka batches left uncommitted");
            self.acks.clear();
        }
    }
}

/// Writes everything held, retrying with capped backoff until the store
/// takes it, then tells the sources of the batches it completed. Meanwhile
/// the stage reads no more input (backpressure). Once the shutdown grace is
/// over, what is not stored goes to the spill file instead.
pub(super) async fn flush(buffer: &mut TickBuffer, writes: &mut Writes<'_>) {
    if buffer.is_empty() {
        writes.acknowledge();
        return;
    }
    let batch = buffer.take();
    let mut wait = FIRST_RETRY;
    loop {
        if writes.exit.grace.is_over() {
            return writes.spill(batch).await;
        }
        let store = writes.store;
        match writes.attempt(store.insert_ticks(batch.clone())).await {
            None => return writes.spill(batch).await,
            Some(Ok(_)) => {
                let store_stats = writes.store_stats;
                store_stats.latency.record_ages(now_ns(), batch.iter().map(|t| t.ts));
                store_stats.add_processed(batch.len() as u64);
                writes.stats.add_flush();
                writes.stats.set_buffer_fill(buffer.fill());
                writes.stats.set_running("analysing and buffering ticks");
                writes.acknowledge();
                return;
            }
            Some(Err(err)) => {
                writes.stats.set_degraded(format!(
                    "holding {} ticks the store does not take; reading no more until it does",
                    batch.len()
                ));
                tracing::error!(%err, ticks = batch.len(), retry_ms = wait.as_millis() as u64, "cannot store ticks");
                tokio::select! {
                    () = tokio::time::sleep(wait) => wait = (wait * 2).min(MAX_RETRY),
                    () = writes.exit.grace.over() => {}
                }
            }
        }
    }
}

/// Stores closed bars and alerts and passes them on. Bars are derived data:
/// a failed write is logged and counted, not retried; once the shutdown
/// grace is over they are not written at all.
pub(super) async fn publish(output: Output, hub: &mut Hub, writes: &mut Writes<'_>) {
    let store = writes.store;
    if !output.bars.is_empty() {
        match writes.attempt(store.upsert_analyzed_bars(output.bars.clone())).await {
            Some(Ok(_)) => {}
            Some(Err(err)) => {
                writes.stats.add_errors(1);
                tracing::error!(%err, "cannot store closed bars");
            }
            None => {
                tracing::warn!(bars = output.bars.len(), "closed bars not stored: the shutdown grace is over")
            }
        }
        hub.send(Update::Bars(output.bars)).await;
    }
    if !output.alerts.is_empty() {
        for alert in &output.alerts {
            tracing::info!(symbol = %alert.symbol, kind = alert.kind.as_str(), value = alert.value, "alert");
        }
        match writes.attempt(store.insert_alerts(output.alerts.clone())).await {
            Some(Ok(())) => {}
            Some(Err(err)) => {
                writes.stats.add_errors(1);
                tracing::error!(%err, "cannot store alerts");
            }
            None => {
                tracing::warn!(alerts = output.alerts.len(), "alerts not stored: the shutdown grace is over")
            }
        }
        hub.send(Update::Alerts(output.alerts)).await;
    }
}
