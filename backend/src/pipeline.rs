//! The pipeline, wired in one place. It reads like the diagram in DESIGN.md:
//!
//! ```text
//! [driver] ──ticks (bounded mpsc)──► [hub] ──frames (bounded broadcast)──► WebSocket clients
//! ```
//!
//! Every stage is a task on one [`TaskTracker`] and watches one
//! [`CancellationToken`]; [`Pipeline::wait`] returns once all have drained.

use std::sync::Arc;
use std::time::Instant;

use rand::{RngCore, SeedableRng};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::driver::{self, RandomWalk, Seed, WalkParams};
use crate::hub::{Hub, HubHandle};
use crate::stats::{Gauge, StageStats};

/// Tick batches the driver may run ahead of the hub.
const TICK_CHANNEL: usize = 64;

/// The running stages and what the gateway needs from them.
#[derive(Debug)]
pub struct Pipeline {
    pub hub: HubHandle,
    pub stats: Arc<PipelineStats>,
    tasks: TaskTracker,
}

/// Live counters of every stage, read by `/health`.
#[derive(Debug)]
pub struct PipelineStats {
    pub started: Instant,
    pub driver: Arc<StageStats>,
    pub hub: Arc<StageStats>,
    pub clients: Gauge,
}

impl Pipeline {
    /// Spawns every stage. They stop when `shutdown` is cancelled.
    pub fn start(config: &Config, shutdown: CancellationToken) -> Self {
        let stats = Arc::new(PipelineStats {
            started: Instant::now(),
            driver: Arc::new(StageStats::new("driver")),
            hub: Arc::new(StageStats::new("gateway")),
            clients: Gauge::default(),
        });
        let tasks = TaskTracker::new();

        let seed = config.seed.unwrap_or_else(|| rand::rngs::StdRng::from_os_rng().next_u64());
        let seeds =
            config.symbols.iter().map(|s| Seed { symbol: s.ticker.to_owned(), reference: s.reference });
        let params = WalkParams {
            volatility: config.volatility,
            drift: 0.0,
            step_secs: config.tick_interval.as_secs_f64() * config.time_scale,
        };
        let walk = RandomWalk::new(seeds.collect(), params, seed);
        tracing::info!(seed, "simulation seeded");

        let (ticks_tx, ticks_rx) = mpsc::channel(TICK_CHANNEL);
        let (hub, hub_handle) = Hub::new(ticks_rx, config.client_queue, Arc::clone(&stats.hub));

        tasks.spawn(driver::run(
            walk,
            config.tick_interval,
            ticks_tx,
            Arc::clone(&stats.driver),
            shutdown.clone(),
        ));
        tasks.spawn(hub.run(shutdown));
        tasks.close();

        Self { hub: hub_handle, stats, tasks }
    }

    /// Waits until every stage task has finished.
    pub async fn wait(&self) {
        self.tasks.wait().await;
    }
}
