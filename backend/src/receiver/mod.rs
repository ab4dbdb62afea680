//! The receiver stage: passes every tick batch on to the gateway's hub at
//! once, stores ticks through a sorted, bounded, batch-flushing buffer
//! ([`buffer::TickBuffer`]), and runs the analytics on every accepted tick:
//! closed bars (with indicators) and alerts are stored and passed on too.
//!
//! Backpressure instead of loss: while the buffer is full the stage flushes
//! and reads no more input, so the bounded channel in front of it fills and
//! the driver waits. A failed write is retried (with backoff) until it
//! succeeds; nothing accepted is dropped. When the input closes (shutdown),
//! everything held is flushed before the stage returns.

pub mod buffer;
mod source;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use buffer::{BufferLimits, Pushed, TickBuffer};
use marquee_shared::Tick;
use tokio::sync::mpsc;

use crate::analytics::{Analytics, Output};
use crate::hub::Update;
use crate::stats::StageStats;
use crate::store::SharedStore;
use crate::time::now_ns;

pub use source::{Ack, Batch, TickSource};

/// How often the bars still forming are sent on.
const FORMING_EVERY: Duration = Duration::from_secs(1);
/// A symbol with no tick for this long has no forming bar to send (its
/// ticks may now go to another receiver, after a Kafka rebalance).
const FORMING_STALE: Duration = Duration::from_secs(5);
/// How long to wait before retrying a failed write, doubling up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// The receiver's own figures and those of the writes it makes.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Ticks read, duplicates dropped, buffer fill and flushes; latency is a
    /// tick's age once analysed and passed on.
    pub receiver: Arc<StageStats>,
    /// Ticks written and failed writes; latency is a tick's age once stored.
    pub store: Arc<StageStats>,
}

pub async fn run(
    mut input: impl TickSource,
    store: SharedStore,
    out: mpsc::Sender<Update>,
    limits: BufferLimits,
    all_stats: Stats,
) {
    let Stats { receiver: stats, store: store_stats } = all_stats;
    let stats = &*stats;
    let mut writes = Writes { store: &store, stats, store_stats: &store_stats, acks: Vec::new() };
    stats.set_running("analysing and buffering ticks");
    store_stats.set_running("storing ticks");
    let mut buffer = TickBuffer::new(limits);
    let mut analytics = Analytics::default();
    let mut last_tick: HashMap<String, Instant> = HashMap::new();
    let mut hub = Hub { out, open: true };
    let mut forming = tokio::time::interval(FORMING_EVERY);
    forming.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let due = buffer.due_at().map(tokio::time::Instant::from_std);
        tokio::select! {
            batch = input.next_batch() => {
                let Some(Batch { ticks: batch, on_stored }) = batch else { break };
                stats.add_processed(batch.len() as u64);
                hub.send(Update::Ticks(batch.clone())).await;
                let mut output = Output::default();
                let mut event_times = Vec::with_capacity(batch.len());
                let now = Instant::now();
                for tick in batch {
                    if buffer.is_duplicate(&tick) {
                        stats.add_dropped(1);
                        continue;
                    }
                    analytics.on_tick(&tick, &mut output);
                    event_times.push(tick.ts);
                    match last_tick.get_mut(&tick.symbol) {
                        Some(at) => *at = now,
                        None => {
                            last_tick.insert(tick.symbol.clone(), now);
                        }
                    }
                    accept(&mut buffer, tick, &mut writes).await;
                }
                // Called after the next flush, which holds this whole batch;
                // at once if nothing is held (all stored or all duplicates).
                writes.acks.extend(on_stored);
                if buffer.is_empty() {
                    writes.acks.drain(..).for_each(|ack| ack());
                }
                stats.latency.record_ages(now_ns(), event_times);
                publish(output, &store, &mut hub, stats).await;
            }
            () = sleep_until(due), if due.is_some() => {}
            _ = forming.tick() => {
                let mut bars = analytics.forming_bars();
                bars.retain(|b| last_tick.get(&b.bar.symbol).is_some_and(|at| at.elapsed() < FORMING_STALE));
                if !bars.is_empty() {
                    hub.send(Update::Forming(bars)).await;
                }
            }
        }
        stats.set_buffer_fill(buffer.fill());
        if buffer.should_flush(Instant::now()) {
            flush(&mut buffer, &mut writes).await;
        }
    }
    flush(&mut buffer, &mut writes).await;
    stats.set_stopped("shut down");
    store_stats.set_stopped("shut down");
    tracing::info!(duplicates = buffer.duplicates(), "receiver stopped");
}

/// The hub side; once the hub has stopped (shutdown) nothing more is sent.
struct Hub {
    out: mpsc::Sender<Update>,
    open: bool,
}

impl Hub {
    async fn send(&mut self, update: Update) {
        if self.open && self.out.send(update).await.is_err() {
            tracing::debug!("hub gone; receiver only stores from here");
            self.open = false;
        }
    }
}

/// Where flushed ticks go, what is counted about them, and who is told
/// once they are stored.
struct Writes<'a> {
    store: &'a SharedStore,
    stats: &'a StageStats,
    store_stats: &'a StageStats,
    /// Of batches read whole since the last flush: the next flush stores them.
    acks: Vec<Ack>,
}

/// Buffers one (non-duplicate) tick, flushing whenever the buffer is full.
async fn accept(buffer: &mut TickBuffer, mut tick: Tick, writes: &mut Writes<'_>) {
    loop {
        match buffer.push(tick, Instant::now()) {
            Pushed::Accepted | Pushed::Duplicate => return,
            Pushed::Full(refused) => {
                tick = refused;
                flush(buffer, writes).await;
            }
        }
    }
}

/// Stores closed bars and alerts and passes them on. Bars are derived data:
/// a failed write is logged and counted, not retried.
async fn publish(output: Output, store: &SharedStore, hub: &mut Hub, stats: &StageStats) {
    if !output.bars.is_empty() {
        if let Err(err) = store.upsert_analyzed_bars(output.bars.clone()).await {
            stats.add_errors(1);
            tracing::error!(%err, "cannot store closed bars");
        }
        hub.send(Update::Bars(output.bars)).await;
    }
    if !output.alerts.is_empty() {
        for alert in &output.alerts {
            tracing::info!(symbol = %alert.symbol, kind = alert.kind.as_str(), value = alert.value, "alert");
        }
        if let Err(err) = store.insert_alerts(output.alerts.clone()).await {
            stats.add_errors(1);
            tracing::error!(%err, "cannot store alerts");
        }
        hub.send(Update::Alerts(output.alerts)).await;
    }
}

/// Writes everything held, retrying until the store takes it, then tells
/// the sources of the batches it completed.
async fn flush(buffer: &mut TickBuffer, writes: &mut Writes<'_>) {
    if buffer.is_empty() {
        writes.acks.drain(..).for_each(|ack| ack());
        return;
    }
    let Writes { store, stats, store_stats, acks } = writes;
    let batch = buffer.take();
    let mut wait = FIRST_RETRY;
    loop {
        match store.insert_ticks(batch.clone()).await {
            Ok(_) => {
                store_stats.latency.record_ages(now_ns(), batch.iter().map(|t| t.ts));
                store_stats.add_processed(batch.len() as u64);
                store_stats.set_running("storing ticks");
                stats.add_flush();
                stats.set_buffer_fill(buffer.fill());
                acks.drain(..).for_each(|ack| ack());
                return;
            }
            Err(err) => {
                store_stats.add_errors(1);
                store_stats.set_degraded(format!("cannot store ticks (retrying): {err}"));
                tracing::error!(%err, ticks = batch.len(), retry_ms = wait.as_millis() as u64, "cannot store ticks");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_RETRY);
            }
        }
    }
}

async fn sleep_until(due: Option<tokio::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
