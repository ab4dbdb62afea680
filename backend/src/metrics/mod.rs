//! The measured figures: every stage's counters ([`StageStats`]), latency
//! histograms, and a sampler that once a second turns counter changes into
//! rates and histograms into percentiles. `/health`, `/metrics` and the
//! dashboard's `metrics` messages all read the same sample.

mod dependencies;
pub mod edge;
pub mod feeds;
pub mod latency;
pub mod prometheus;
pub mod stats;

pub use dependencies::{Checked, DependencyCheck};

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use marquee_shared::{Dependency, Health, Latency, Metrics, SimulationState, StageHealth};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::cluster::instances::{Instances, ThisInstance};
use crate::common::Stage;
use crate::common::time::now_ns;
use crate::config::Role;
use crate::hub::Update;
pub use stats::{Gauge, StageStats};

/// How often figures are sampled and sent to clients.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// Throughput values kept for the dashboard's chart (one per sample).
const THROUGHPUT_POINTS: usize = 60;

/// Live counters of every stage.
#[derive(Debug)]
pub struct PipelineStats {
    pub started: Instant,
    pub ingest: Arc<StageStats>,
    pub driver: Arc<StageStats>,
    pub receiver: Arc<StageStats>,
    pub store: Arc<StageStats>,
    /// The hub and the WebSocket clients; its latency is end to end.
    pub gateway: Arc<StageStats>,
    /// WebSocket clients connected now.
    pub clients: Gauge,
    /// Connections, refusals, conflations and disconnects at the edge.
    pub edge: edge::EdgeStats,
}

impl PipelineStats {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            ingest: Arc::new(StageStats::new(Stage::Ingest)),
            driver: Arc::new(StageStats::new(Stage::Driver)),
            receiver: Arc::new(StageStats::new(Stage::Receiver)),
            store: Arc::new(StageStats::new(Stage::Store)),
            gateway: Arc::new(StageStats::new(Stage::Gateway)),
            clients: Gauge::default(),
            edge: edge::EdgeStats::default(),
        }
    }

    /// One stage's counters.
    pub fn stage(&self, stage: Stage) -> &Arc<StageStats> {
        match stage {
            Stage::Ingest => &self.ingest,
            Stage::Driver => &self.driver,
            Stage::Receiver => &self.receiver,
            Stage::Store => &self.store,
            Stage::Gateway => &self.gateway,
        }
    }

    /// Every stage's counters, in pipeline order.
    pub fn stages(&self) -> [&StageStats; Stage::ALL.len()] {
        Stage::ALL.map(|stage| self.stage(stage).as_ref())
    }

    pub fn uptime_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// `/health` now: live statuses and counters, rates and latencies from
    /// the latest sample.
    pub fn health(&self, simulation: SimulationState, sample: &Metrics) -> Health {
        let stages: Vec<StageHealth> = self
            .stages()
            .iter()
            .map(|stage| stage.health())
            // Only the stages this process runs (those the sampler measured).
            .filter_map(|mut health| {
                let sampled = sample.stages.iter().find(|s| s.name == health.name)?;
                health.rate = sampled.rate;
                health.error_rate = sampled.error_rate;
                health.latency = sampled.latency;
                Some(health)
            })
            .collect();
        let others_down = sample.instances.iter().any(|i| i.status != marquee_shared::Status::Up);
        let mut status = Health::overall_with(&stages, &sample.dependencies);
        if others_down && status == marquee_shared::Status::Up {
            status = marquee_shared::Status::Degraded;
        }
        Health {
            status,
            instances: sample.instances.clone(),
            dependencies: sample.dependencies.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_ms: self.uptime_ms(),
            clients: self.clients.get(),
            simulation,
            stages,
            end_to_end: sample.end_to_end,
        }
    }
}

impl Default for PipelineStats {
    fn default() -> Self {
        Self::new()
    }
}

/// Counter values at the previous sample, to take differences from.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    processed: u64,
    errors: u64,
}

/// Takes a sample every [`SAMPLE_EVERY`], publishes it for `/health` and
/// `/metrics`, and sends it (and health changes) to the hub for clients.
#[derive(Debug)]
pub struct Sampler {
    stats: Arc<PipelineStats>,
    simulation: watch::Receiver<crate::driver::SimulationView>,
    checks: Vec<DependencyCheck>,
    this: ThisInstance,
    instances: Arc<Instances>,
    hub: mpsc::Sender<Update>,
    latest: watch::Sender<Metrics>,
    previous: Vec<Counters>,
    previous_at: Instant,
    throughput: VecDeque<f64>,
    /// Status and detail of every stage as last sent in a `health` message.
    last_health: Vec<(marquee_shared::Status, String)>,
    /// The venues' feeds this process runs.
    feeds: Vec<Arc<dyn feeds::FeedMeter>>,
    /// The alert sinks this process delivers to.
    sinks: Option<crate::notify::NotifierHandle>,
}

impl Sampler {
    pub fn new(
        stats: Arc<PipelineStats>,
        simulation: watch::Receiver<crate::driver::SimulationView>,
        checks: Vec<DependencyCheck>,
        hub: mpsc::Sender<Update>,
        this: ThisInstance,
        instances: Arc<Instances>,
    ) -> (Self, watch::Receiver<Metrics>) {
        let first = Metrics {
            ts: now_ns(),
            uptime_ms: 0,
            clients: 0,
            stages: stats.stages().iter().map(|s| s.health()).collect(),
            end_to_end: None,
            throughput: Vec::new(),
            dependencies: Vec::new(),
            instances: Vec::new(),
            edge: None,
            feeds: Vec::new(),
            sinks: Vec::new(),
        };
        let (latest, reader) = watch::channel(first);
        let previous = vec![Counters::default(); stats.stages().len()];
        let sampler = Self {
            previous_at: stats.started,
            stats,
            simulation,
            checks,
            this,
            instances,
            hub,
            latest,
            previous,
            throughput: VecDeque::with_capacity(THROUGHPUT_POINTS + 1),
            last_health: Vec::new(),
            feeds: Vec::new(),
            sinks: None,
        };
        (sampler, reader)
    }

    /// Also measures these feeds each sample.
    pub fn with_feeds(mut self, feeds: Vec<Arc<dyn feeds::FeedMeter>>) -> Self {
        self.feeds = feeds;
        self
    }

    /// Also reads these alert sinks' figures each sample.
    pub fn with_sinks(mut self, sinks: Option<crate::notify::NotifierHandle>) -> Self {
        self.sinks = sinks;
        self
    }

    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut every = tokio::time::interval(SAMPLE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = every.tick() => {}
            }
            let checks = self.checks.iter().map(DependencyCheck::run);
            let dependencies = futures_util::future::join_all(checks).await;
            let metrics = self.sample(Instant::now(), dependencies);
            let health = self.stats.health(self.simulation.borrow().state, &metrics);
            self.latest.send_replace(metrics.clone());
            let mut updates = vec![Update::Metrics(metrics)];
            let statuses: Vec<_> = health
                .stages
                .iter()
                .map(|s| (s.status, s.detail.clone()))
                .chain(health.dependencies.iter().map(|d| (d.status, d.detail.clone())))
                .collect();
            if statuses != self.last_health {
                self.last_health = statuses;
                updates.push(Update::Health(health));
            }
            for update in updates {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    sent = self.hub.send(update) => if sent.is_err() { return },
                }
            }
        }
    }

    /// Rates since the previous sample and latencies over the window.
    fn sample(&mut self, now: Instant, mut dependencies: Vec<Dependency>) -> Metrics {
        let elapsed = now.saturating_duration_since(self.previous_at).as_secs_f64().max(1e-3);
        let feeds: Vec<_> = self.feeds.iter().map(|feed| feed.measure(elapsed)).collect();
        dependencies.extend(feeds.iter().map(feeds::dependency));
        self.previous_at = now;
        let mut stages = Vec::with_capacity(self.previous.len());
        for (stage, previous) in Stage::ALL.into_iter().zip(self.previous.iter_mut()) {
            if !self.this.roles.has(stage.role()) {
                continue;
            }
            let stage = self.stats.stage(stage);
            let mut health = stage.health();
            health.rate = health.processed.saturating_sub(previous.processed) as f64 / elapsed;
            health.error_rate = health.errors.saturating_sub(previous.errors) as f64 / elapsed;
            health.latency = stage.latency.roll();
            *previous = Counters { processed: health.processed, errors: health.errors };
            stages.push(health);
        }
        let gateway = stages.iter().find(|s| s.name == Stage::Gateway.name());
        let end_to_end: Option<Latency> = gateway.and_then(|s| s.latency);
        self.throughput.push_back(gateway.map_or(0.0, |s| s.rate));
        while self.throughput.len() > THROUGHPUT_POINTS {
            self.throughput.pop_front();
        }
        let mut metrics = Metrics {
            ts: now_ns(),
            uptime_ms: self.stats.uptime_ms(),
            clients: self.stats.clients.get(),
            stages,
            end_to_end,
            throughput: self.throughput.iter().copied().collect(),
            dependencies,
            instances: Vec::new(),
            edge: self
                .this
                .roles
                .has(Role::Gateway)
                .then(|| self.stats.edge.figures(self.stats.clients.get())),
            feeds,
            sinks: self.sinks.as_ref().map(|sinks| sinks.figures()).unwrap_or_default(),
        };
        metrics.instances.push(self.this.describe(&metrics));
        metrics.instances.extend(self.instances.others(now));
        metrics
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::SimulationView;

    fn sampler() -> (Sampler, Arc<PipelineStats>, mpsc::Receiver<Update>) {
        let stats = Arc::new(PipelineStats::new());
        let (_view_tx, view) = watch::channel(SimulationView {
            state: SimulationState::Stopped { symbols: 0 },
            symbols: vec![],
        });
        let (hub, hub_rx) = mpsc::channel(8);
        let this = ThisInstance {
            id: "me".into(),
            roles: crate::config::Roles::all(),
            address: "http://me".into(),
            key: None,
        };
        let instances = Arc::new(Instances::new(&this));
        let (sampler, _) = Sampler::new(Arc::clone(&stats), view, vec![], hub, this, instances);
        (sampler, stats, hub_rx)
    }

    #[test]
    fn rates_are_counter_differences_over_the_measured_interval() {
        let (mut sampler, stats, _hub) = sampler();
        let start = sampler.previous_at;
        stats.gateway.add_processed(500);
        stats.store.add_errors(3);
        let first = sampler.sample(start + Duration::from_millis(500), vec![]);
        let rate = |m: &Metrics, name: &str| m.stages.iter().find(|s| s.name == name).map(|s| s.rate);
        assert_eq!(rate(&first, "gateway"), Some(1000.0), "500 in half a second");
        let store = first.stages.iter().find(|s| s.name == "store").expect("store stage");
        assert_eq!(store.error_rate, 6.0);

        stats.gateway.add_processed(100);
        let second = sampler.sample(start + Duration::from_millis(1500), vec![]);
        assert_eq!(rate(&second, "gateway"), Some(100.0), "only the change since the last sample");
        assert_eq!(second.throughput, [1000.0, 100.0]);
        assert_eq!(second.stages.iter().find(|s| s.name == "store").map(|s| s.error_rate), Some(0.0));
    }

    #[test]
    fn end_to_end_latency_is_the_gateways_histogram() {
        let (mut sampler, stats, _hub) = sampler();
        let now = now_ns();
        stats.gateway.latency.record_ages(now, [now - 2_000_000, now - 4_000_000]);
        let metrics = sampler.sample(Instant::now(), vec![]);
        let e2e = metrics.end_to_end.expect("recorded");
        assert_eq!(e2e.samples, 2);
        assert!((e2e.max_ms - 4.0).abs() < 0.01, "{e2e:?}");
        let health = stats.health(SimulationState::Stopped { symbols: 0 }, &metrics);
        assert_eq!(health.end_to_end, Some(e2e), "/health shows the same figures");
    }

    #[tokio::test]
    async fn a_store_that_does_not_answer_is_a_dependency_down_and_degrades_health() {
        let refused = dependencies::tests::refused_store();
        let (mut sampler, stats, _hub) = sampler();
        stats.stages().iter().for_each(|s| s.set_running("ok"));
        let metrics = sampler.sample(Instant::now(), vec![refused.clone()]);
        let health = stats.health(SimulationState::Stopped { symbols: 0 }, &metrics);
        assert_eq!(health.dependencies, [refused]);
        assert_eq!(health.status, marquee_shared::Status::Degraded, "what is held keeps streaming");
    }

    #[test]
    fn the_throughput_history_keeps_one_minute() {
        let (mut sampler, _stats, _hub) = sampler();
        let start = sampler.previous_at;
        let mut last = Metrics::default();
        for second in 1..=75 {
            last = sampler.sample(start + Duration::from_secs(second), vec![]);
        }
        assert_eq!(last.throughput.len(), THROUGHPUT_POINTS);
    }
}
