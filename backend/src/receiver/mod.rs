//! The receiver stage: passes every tick batch on to the gateway's hub at
//! once, and stores ticks through a sorted, bounded, batch-flushing buffer
//! ([`buffer::TickBuffer`]).
//!
//! Backpressure instead of loss: while the buffer is full the stage flushes
//! and reads no more input, so the bounded channel in front of it fills and
//! the driver waits. A failed write is retried (with backoff) until it
//! succeeds; nothing accepted is dropped. When the input closes (shutdown),
//! everything held is flushed before the stage returns.

pub mod buffer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use buffer::{BufferLimits, Pushed, TickBuffer};
use marquee_shared::Tick;
use tokio::sync::mpsc;

use crate::stats::StageStats;
use crate::store::SharedStore;

/// How long to wait before retrying a failed write, doubling up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(5);

pub async fn run(
    mut input: mpsc::Receiver<Vec<Tick>>,
    store: SharedStore,
    out: mpsc::Sender<Vec<Tick>>,
    limits: BufferLimits,
    stats: Arc<StageStats>,
) {
    stats.set_running("storing ticks");
    let mut buffer = TickBuffer::new(limits);
    let mut hub_open = true;
    loop {
        let due = buffer.due_at().map(tokio::time::Instant::from_std);
        tokio::select! {
            batch = input.recv() => {
                let Some(batch) = batch else { break };
                stats.add_processed(batch.len() as u64);
                if hub_open && out.send(batch.clone()).await.is_err() {
                    // The hub has stopped (shutdown): keep storing what comes.
                    tracing::debug!("hub gone; receiver only stores from here");
                    hub_open = false;
                }
                for tick in batch {
                    accept(&mut buffer, tick, &store, &stats).await;
                }
            }
            () = sleep_until(due), if due.is_some() => {}
        }
        if buffer.should_flush(Instant::now()) {
            flush(&mut buffer, &store, &stats).await;
        }
    }
    flush(&mut buffer, &store, &stats).await;
    stats.set_stopped("shut down");
    tracing::info!(duplicates = buffer.duplicates(), "receiver stopped");
}

/// Buffers one tick, flushing first whenever the buffer is full.
async fn accept(buffer: &mut TickBuffer, tick: Tick, store: &SharedStore, stats: &StageStats) {
    loop {
        match buffer.push(tick.clone(), Instant::now()) {
            Pushed::Accepted => return,
            Pushed::Duplicate => {
                stats.add_dropped(1);
                return;
            }
            Pushed::Full => flush(buffer, store, stats).await,
        }
    }
}

/// Writes everything held, retrying until the store takes it.
async fn flush(buffer: &mut TickBuffer, store: &SharedStore, stats: &StageStats) {
    if buffer.is_empty() {
        return;
    }
    let batch = buffer.take();
    let mut wait = FIRST_RETRY;
    loop {
        match store.insert_ticks(batch.clone()).await {
            Ok(_) => {
                stats.set_running("storing ticks");
                return;
            }
            Err(err) => {
                stats.add_errors(1);
                stats.set_degraded(format!("cannot store ticks (retrying): {err}"));
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
