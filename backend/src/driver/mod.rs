//! The driver stage: turns the random walk into a live tick stream.

mod random_walk;

use std::sync::Arc;
use std::time::Duration;

use marquee_shared::Tick;
pub use random_walk::{RandomWalk, Seed, WalkParams};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::stats::StageStats;
use crate::time::now_ns;

/// Steps `walk` every `interval` and sends each step's ticks downstream.
///
/// Sending waits when the channel is full, so a slow consumer slows the
/// simulation instead of growing a queue. Returns when `shutdown` fires or
/// the consumer has gone away.
pub async fn run(
    mut walk: RandomWalk,
    interval: Duration,
    out: mpsc::Sender<Vec<Tick>>,
    stats: Arc<StageStats>,
    shutdown: CancellationToken,
) {
    let mut clock = tokio::time::interval(interval);
    // After a stall, carry on at the normal pace rather than bursting.
    clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
    stats.set_running(format!("streaming {} symbols every {} ms", walk.len(), interval.as_millis()));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = clock.tick() => {
                let ticks = walk.step(now_ns());
                let count = ticks.len() as u64;
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    sent = out.send(ticks) => if sent.is_err() {
                        tracing::warn!("tick consumer is gone; driver stops");
                        stats.set_stopped("tick consumer is gone");
                        return;
                    }
                }
                stats.add_processed(count);
            }
        }
    }
    stats.set_stopped("shut down");
    tracing::info!("driver stopped");
}
