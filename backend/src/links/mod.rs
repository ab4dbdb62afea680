//! How this process's stages reach those running in other processes. In
//! one process (the default) nothing here is used: the stages share bounded
//! channels. An engine that joins processes implements [`Links`] in its own
//! module (Kafka: `kafka/links.rs`); `pipeline/wiring.rs` picks it from the
//! config, and the pipeline calls it only for the stages that run apart.

use std::sync::Arc;

use marquee_shared::{Metrics, Tick};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::instances::{Instances, ThisInstance};
use crate::common::shutdown::Grace;
use crate::driver::{DriverHandle, RecentTicks};
use crate::hub::Update;
use crate::metrics::{DependencyCheck, StageStats};
use crate::receiver::Batch;
use crate::spill::Spill;

/// Tick batches a stage may run ahead of the next one.
pub const TICK_CHANNEL: usize = 64;

/// What the tasks a link spawns run under: the stage's task tracker, the
/// shutdown, the grace after it, and the spill for what is left unsent.
#[derive(Debug, Clone)]
pub struct LinkTasks {
    pub tasks: TaskTracker,
    pub shutdown: CancellationToken,
    pub grace: Grace,
    pub spill: Spill,
}

/// An engine between processes: ticks from drivers to receivers and to
/// every gateway, bars and alerts from receivers to gateways, and every
/// process's heartbeat to the gateways.
pub trait Links: Send + Sync + std::fmt::Debug {
    /// Sends the driver's ticks on; what cannot be confirmed by the end of
    /// the grace is spilled.
    fn send_ticks(
        &self,
        ticks: mpsc::Receiver<Vec<Tick>>,
        stats: &Arc<StageStats>,
        run: &LinkTasks,
    ) -> anyhow::Result<()>;

    /// What a driver must resume after besides the store: the ticks still on
    /// their way.
    fn recent_ticks(&self) -> Arc<dyn RecentTicks>;

    /// Where a receiver sends its bars and alerts.
    fn send_updates(&self, stats: &Arc<StageStats>, run: &LinkTasks) -> anyhow::Result<mpsc::Sender<Update>>;

    /// A receiver's ticks, made by drivers elsewhere.
    fn receive_ticks(
        &self,
        stats: &Arc<StageStats>,
        run: &LinkTasks,
    ) -> anyhow::Result<mpsc::Receiver<Batch>>;

    /// Feeds a gateway's hub with the ticks, bars, alerts and heartbeats of
    /// the other processes.
    fn feed_gateway(
        &self,
        hub: mpsc::Sender<Update>,
        instances: &Arc<Instances>,
        stats: &Arc<StageStats>,
        run: &LinkTasks,
    ) -> anyhow::Result<()>;

    /// The engine as a dependency on `/health`.
    fn dependency(&self) -> anyhow::Result<DependencyCheck>;

    /// Tells the others this process is alive, after every sample.
    fn send_heartbeats(
        &self,
        this: &ThisInstance,
        metrics: watch::Receiver<Metrics>,
        driver: DriverHandle,
        run: &LinkTasks,
    ) -> anyhow::Result<()>;
}
