//! The receiver stage: passes every tick batch on to the gateway's hub at
//! once, stores ticks through a sorted, bounded, batch-flushing buffer
//! ([`buffer::TickBuffer`]), and runs the analytics on every accepted tick:
//! closed bars (with indicators) and alerts are stored and passed on too.
//!
//! Backpressure instead of loss: while the buffer is full the stage flushes
//! and reads no more input, so the bounded channel in front of it fills and
//! the driver waits. A failed write is retried with capped backoff
//! ([`writes`]); a store with no successful write for
//! [`writes::STORE_DOWN_AFTER`] reads as down on `/health`. When the input
//! closes (shutdown), everything held is flushed before the stage returns.
//!
//! Nothing accepted is dropped, even when the store never comes back: once
//! shutdown has begun, writes are tried until the shutdown grace is over
//! ([`Exit`]), and whatever is not stored by then is written to the spill
//! file ([`crate::spill`]), stored at the next start. Kafka offsets of
//! spilled batches are not committed (Kafka delivers them again).

pub mod buffer;
mod core;
mod source;
mod writes;

use std::sync::Arc;
use std::time::{Duration, Instant};

use self::core::{Core, Step};
use buffer::BufferLimits;
use tokio::sync::mpsc;
use writes::{Writes, flush, publish};

use crate::analytics::Output;
use crate::common::shutdown::Grace;
use crate::common::time::now_ns;
use crate::hub::Update;
use crate::metrics::StageStats;
use crate::notify::NotifierHandle;
use crate::spill::Spill;
use crate::store::SharedStore;

pub use source::{Ack, Batch, TickSource};
pub use writes::STORE_DOWN_AFTER;

/// How often the bars still forming are sent on.
const FORMING_EVERY: Duration = Duration::from_secs(1);
/// A symbol with no tick for this long has no forming bar to send (its
/// ticks may now go to another receiver, after a Kafka rebalance).
const FORMING_STALE: Duration = Duration::from_secs(5);

/// The receiver's own figures and those of the writes it makes.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Ticks read, duplicates dropped, buffer fill and flushes; latency is a
    /// tick's age once analysed and passed on.
    pub receiver: Arc<StageStats>,
    /// Ticks written and failed writes; latency is a tick's age once stored.
    pub store: Arc<StageStats>,
}

/// How the receiver ends: it stores until `grace` is over, then spills.
#[derive(Debug, Clone)]
pub struct Exit {
    pub grace: Grace,
    pub spill: Spill,
}

/// Where the receiver's results go: the hub (or the links to the gateways),
/// and the alert sinks.
#[derive(Debug, Clone)]
pub struct Outputs {
    pub hub: mpsc::Sender<Update>,
    pub notify: Option<NotifierHandle>,
}

pub async fn run(
    mut input: impl TickSource,
    store: SharedStore,
    outputs: Outputs,
    limits: BufferLimits,
    all_stats: Stats,
    exit: Exit,
) {
    let Outputs { hub: out, notify } = outputs;
    let Stats { receiver: stats, store: store_stats } = all_stats;
    let stats = &*stats;
    let mut writes = Writes::new(&store, stats, &store_stats, &exit);
    stats.set_running("analysing and buffering ticks");
    store_stats.set_running("storing ticks");
    let mut core = Core::new(limits, FORMING_STALE);
    let mut hub = Hub { out, open: true };
    let mut closed = false;
    let mut forming = tokio::time::interval(FORMING_EVERY);
    forming.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let due = core.buffer.due_at().map(tokio::time::Instant::from_std);
        tokio::select! {
            batch = input.next_batch() => {
                let Some(Batch { ticks: batch, on_stored }) = batch else { break };
                stats.add_processed(batch.len() as u64);
                hub.send(Update::Ticks(batch.clone())).await;
                let mut output = Output::default();
                let mut event_times = Vec::with_capacity(batch.len());
                let now = Instant::now();
                for tick in batch {
                    let ts = tick.ts;
                    let mut step = core.take(tick, now, &mut output);
                    // A full buffer is flushed (the stage reads no more
                    // meanwhile: backpressure), then takes the tick.
                    while let Step::Full(refused) = step {
                        flush(&mut core.buffer, &mut writes).await;
                        step = core.hold(refused, now);
                    }
                    match step {
                        Step::Duplicate => stats.add_dropped(1),
                        Step::Held | Step::Full(_) => event_times.push(ts),
                    }
                }
                // Called after the next flush, which holds this whole batch;
                // at once if nothing is held (all stored or all duplicates).
                writes.acks.extend(on_stored);
                if core.buffer.is_empty() {
                    writes.acknowledge();
                }
                stats.latency.record_ages(now_ns(), event_times);
                if let Some(notify) = &notify {
                    notify.offer(&output.alerts);
                }
                publish(output, &mut hub, &mut writes).await;
            }
            () = sleep_until(due), if due.is_some() => {}
            // Whoever feeds the receiver should have stopped by now; what it
            // handed over is still read (and spilled), then the input ends.
            () = exit.grace.over(), if !closed => {
                closed = true;
                input.close();
            }
            _ = forming.tick() => {
                let bars = core.forming(Instant::now());
                if !bars.is_empty() {
                    hub.send(Update::Forming(bars)).await;
                }
            }
        }
        stats.set_buffer_fill(core.buffer.fill());
        if core.buffer.should_flush(Instant::now()) {
            flush(&mut core.buffer, &mut writes).await;
        }
    }
    flush(&mut core.buffer, &mut writes).await;
    stats.set_stopped("shut down");
    store_stats.set_stopped("shut down");
    if writes.spilled > 0 {
        tracing::warn!(
            ticks = writes.spilled,
            path = %exit.spill.path().display(),
            "receiver stopped; ticks the store did not take are in the spill file, stored at the next start"
        );
    }
    tracing::info!(duplicates = core.buffer.duplicates(), "receiver stopped");
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

async fn sleep_until(due: Option<tokio::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
