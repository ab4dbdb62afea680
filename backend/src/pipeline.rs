//! The pipeline, wired in one place. It reads like the diagram in DESIGN.md:
//!
//! ```text
//! [ingest: demo universe] ──store + events──► [driver] ──ticks──► [receiver] ──ticks, bars, alerts──► [hub] ──► WebSocket clients
//!                                               ▲ events (in-process bus)      │ store              ▲ metrics, health, events
//!                                                                                            [sampler] (once a second)
//! ```
//!
//! Every channel is bounded. Every stage is a task on one [`TaskTracker`];
//! [`Pipeline::wait`] returns once all have drained.

use anyhow::Context;
use marquee_shared::Metrics;
use rand::{RngCore, SeedableRng};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::driver::{Driver, DriverHandle, DriverSettings, WalkParams};
use crate::events::{Events, InProcessBus};
use crate::hub::{Hub, HubHandle, HubSettings};
use crate::ingest::alphavantage::{AlphaVantageClient, ClientSettings};
use crate::ingest::fetch::{FetchHandle, Fetcher};
use crate::metrics::{PipelineStats, Sampler};
use crate::stats::StageStats;
use crate::store::{self, SharedStore};
use crate::{ingest, receiver};

/// Tick batches a stage may run ahead of the next one.
const TICK_CHANNEL: usize = 64;
/// Events a slow subscriber may fall behind before it re-reads the store.
const EVENT_QUEUE: usize = 1024;

/// The running stages and what the gateway needs from them.
#[derive(Debug)]
pub struct Pipeline {
    pub hub: HubHandle,
    pub driver: DriverHandle,
    pub store: SharedStore,
    /// Present when an Alpha Vantage key is configured.
    pub fetch: Option<FetchHandle>,
    /// Publishes as `ingest` (imports through the API).
    pub events: Events,
    pub stats: Arc<PipelineStats>,
    /// The latest measured figures, once a second.
    pub metrics: watch::Receiver<Metrics>,
    tasks: TaskTracker,
}

impl Pipeline {
    /// Opens the store and spawns every stage. The driver and the hub stop
    /// when `shutdown` is cancelled; the receiver then drains what is left.
    pub async fn start(config: &Config, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let stats = Arc::new(PipelineStats::new());
        let tasks = TaskTracker::new();

        let store = store::open(&config.data_dir, config.mongodb.as_ref()).await?;
        let events = Events::new(Arc::new(InProcessBus::new(EVENT_QUEUE)), Arc::clone(&store), "ingest");

        let rng_seed = config.seed.unwrap_or_else(|| rand::rngs::StdRng::from_os_rng().next_u64());
        tracing::info!(seed = rng_seed, "simulation seeded");
        let settings = DriverSettings {
            threshold: config.threshold,
            interval: config.tick_interval,
            walk: WalkParams {
                volatility: config.volatility,
                drift: 0.0,
                step_secs: config.tick_interval.as_secs_f64() * config.time_scale,
                jump_probability: config.jump_probability,
                jump_size: config.jump_size,
            },
            rng_seed,
        };

        let (driver_out, receiver_in) = mpsc::channel(TICK_CHANNEL);
        let (receiver_out, hub_in) = mpsc::channel(TICK_CHANNEL);
        let (driver, driver_handle) = Driver::new(
            settings,
            Arc::clone(&store),
            events.as_source("driver"),
            driver_out,
            Arc::clone(&stats.driver),
        );
        let (hub, hub_handle) = Hub::new(
            hub_in,
            driver_handle.watch(),
            events.subscribe(),
            Arc::clone(&store),
            HubSettings { client_queue: config.client_queue, history: config.resume_history },
            Arc::clone(&stats.gateway),
        );
        let (sampler, metrics) =
            Sampler::new(Arc::clone(&stats), driver_handle.watch(), Arc::clone(&store), receiver_out.clone());

        // Subscribe the driver to events before anything is loaded.
        tasks.spawn(driver.run(shutdown.clone()));
        tasks.spawn(receiver::run(
            receiver_in,
            Arc::clone(&store),
            receiver_out,
            config.buffer,
            receiver::Stats { receiver: Arc::clone(&stats.receiver), store: Arc::clone(&stats.store) },
        ));
        tasks.spawn(hub.run(shutdown.clone()));
        tasks.spawn(sampler.run(shutdown.clone()));
        let fetch = match &config.secrets.alphavantage_api_key {
            Some(key) => {
                let client = AlphaVantageClient::new(ClientSettings {
                    base_url: config.alphavantage.url.clone(),
                    api_key: key.clone(),
                    requests_per_minute: config.alphavantage.requests_per_minute,
                    timeout: config.alphavantage.timeout,
                    max_retries: config.alphavantage.retries,
                    retry_backoff: config.alphavantage.backoff,
                })
                .context("cannot build the Alpha Vantage client")?;
                let (fetcher, handle) = Fetcher::new(
                    Arc::new(client),
                    Arc::clone(&store),
                    events.clone(),
                    Arc::clone(&stats.ingest),
                );
                tasks.spawn(fetcher.run(shutdown.clone()));
                Some(handle)
            }
            None => None,
        };
        if config.load_demo {
            tasks.spawn(load_demo(
                config.clone(),
                Arc::clone(&store),
                events.clone(),
                Arc::clone(&stats.ingest),
                shutdown.clone(),
            ));
        } else if fetch.is_none() {
            stats.ingest.set_running("idle: no Alpha Vantage key and no demo data");
        }
        tasks.close();

        Ok(Self { hub: hub_handle, driver: driver_handle, store, fetch, events, stats, metrics, tasks })
    }

    /// Waits until every stage task has finished.
    pub async fn wait(&self) {
        self.tasks.wait().await;
    }
}

/// Loads the demo universe, retrying with backoff while the store cannot
/// take it (a database that is not up yet), until it succeeds or shutdown.
async fn load_demo(
    config: Config,
    store: SharedStore,
    events: Events,
    stats: Arc<StageStats>,
    shutdown: CancellationToken,
) {
    let mut wait = std::time::Duration::from_secs(1);
    loop {
        stats.set_running("loading the demo universe");
        match ingest::load_demo_universe(&store, &events, &config.symbols).await {
            Ok(records) => {
                stats.add_processed(records);
                stats.set_running("idle");
                return;
            }
            Err(err) => {
                tracing::error!(%err, retry_s = wait.as_secs(), "cannot load the demo universe");
                stats.add_errors(1);
                stats.set_degraded(format!("cannot load the demo universe (retrying): {err}"));
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => wait = (wait * 2).min(std::time::Duration::from_secs(30)),
        }
    }
}
