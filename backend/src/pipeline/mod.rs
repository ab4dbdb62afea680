//! The pipeline, wired in one place. It reads like the diagram in ARCHITECTURE.md:
//!
//! ```text
//! [ingest] ──store + events──► [driver] ──ticks──► [receiver] ──bars, alerts──► [hub] ──► WebSocket clients
//!                                 ▲ events           │ store        ▲ ticks         ▲ metrics, health, events
//!                                                                                 [sampler] (once a second)
//! ```
//!
//! In one process (the default) the arrows are bounded channels. With
//! `--role` a process runs only some stages, and [`Links`] (an engine chosen
//! in [`wiring`], the one place that picks adapters) joins them to the
//! others instead: ticks from the driver to the receivers and to every
//! gateway, bars and alerts from the receivers to the gateways, and every
//! process's heartbeat to the gateways.
//!
//! Every stage is a task on one [`TaskTracker`]; [`Pipeline::wait`] returns
//! once all have drained.

mod follow;
pub mod wiring;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use marquee_shared::Metrics;
use rand::{RngCore, SeedableRng};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::instances::{Instances, ThisInstance};
use crate::common::Stage;
use crate::common::shutdown::Grace;
use crate::config::{Config, Role};
use crate::driver::{self, Driver, DriverHandle, DriverSettings, WalkParams};
use crate::events::Events;
use crate::hub::{Hub, HubHandle, HubSettings};
use crate::ingest::alphavantage::{AlphaVantageClient, ClientSettings};
use crate::ingest::fetch::{FetchHandle, Fetcher};
use crate::links::{LinkTasks, Links, TICK_CHANNEL};
use crate::metrics::feeds::FeedMeter;
use crate::metrics::{DependencyCheck, PipelineStats, Sampler, StageStats};
use crate::spill::{self, Spill};
use crate::store::{self, SharedStore};
use crate::{ingest, receiver};

/// The running stages and what the gateway needs from them.
#[derive(Debug)]
pub struct Pipeline {
    pub hub: HubHandle,
    pub driver: DriverHandle,
    pub store: SharedStore,
    /// Present when an Alpha Vantage key is configured and this process ingests.
    pub fetch: Option<FetchHandle>,
    /// Publishes as `ingest` (imports through the API).
    pub events: Events,
    pub stats: Arc<PipelineStats>,
    /// The latest measured figures, once a second.
    pub metrics: watch::Receiver<Metrics>,
    /// This process and the others it has heard from.
    pub this: ThisInstance,
    pub instances: Arc<Instances>,
    /// Routes the engines' adapters add to the gateway's (SNS's endpoint).
    pub routes: Vec<axum::Router>,
    /// The alert sinks, when this process receives and has some.
    pub notifier: Option<crate::notify::NotifierHandle>,
    tasks: TaskTracker,
}

impl Pipeline {
    /// Opens the store, stores what was spilled at the last shutdown, and
    /// spawns the stages of this process's roles. The driver and the hub stop
    /// when `shutdown` is cancelled; the receiver then drains what is left,
    /// and spills what the store has not taken by the end of
    /// `--shutdown-grace`. `bound` is where the HTTP server listens.
    pub async fn start(
        config: &Config,
        bound: SocketAddr,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        wiring::refuse_unbuilt(config)?;
        let stats = Arc::new(PipelineStats::new());
        let tasks = TaskTracker::new();
        let roles = &config.cluster.roles;
        let this = ThisInstance {
            id: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            roles: roles.clone(),
            address: config.cluster.advertise_url.clone().unwrap_or_else(|| format!("http://{bound}")),
            key: config.cluster.key.clone(),
        };
        let instances = Arc::new(Instances::new(&this));
        tracing::info!(id = this.id, roles = ?roles.names(), address = this.address, "instance");

        let store =
            wiring::open_store(&config.data_dir, config.mongodb.as_ref(), Some(config.tick_retention))
                .await?;
        if roles.has(Role::Ingest) {
            fail_interrupted_jobs(&store).await;
        }
        // Before the driver reads where each symbol resumes: ticks spilled at
        // the last shutdown are made already, so their seqs must not be again.
        let replayed = spill::replay(&config.data_dir, store.as_ref()).await?;
        if replayed.files > 0 {
            tracing::info!(
                files = replayed.files,
                ticks = replayed.ticks,
                skipped = replayed.skipped,
                "stored the ticks spilled at the last shutdown"
            );
        }
        // What cannot be stored or sent by the end of the grace is spilled.
        let grace = Grace::new(shutdown.clone(), config.edge.shutdown_grace);
        let spill = Spill::new(&config.data_dir, &this.id);
        let event_wiring = wiring::event_bus(config, &this, &tasks, &shutdown).await?;
        let events = Events::new(event_wiring.bus, Arc::clone(&store), Stage::Ingest.name());
        let links: Option<Box<dyn Links>> = wiring::links(config, &this)?;
        let run = LinkTasks { tasks: tasks.clone(), shutdown: shutdown.clone(), grace: grace.clone(), spill };

        let (hub_in, hub_rx) = mpsc::channel(TICK_CHANNEL);
        // Driver → receiver, when both run here and no engine joins them.
        let mut local_ticks = None;
        let mut feeds = Vec::new();
        let driver = if roles.has(Role::Driver) {
            let (driver_out, ticks) = mpsc::channel(TICK_CHANNEL);
            // The venues' feeds send down the same channel as the simulation.
            let feed_start = driver::feed::FeedStart {
                store: Arc::clone(&store),
                recent: links.as_ref().map(|links| links.recent_ticks()),
                out: driver_out.clone(),
                events: Some(events.as_source(Stage::Driver.name())),
            };
            feeds = driver::feed::spawn(&config.sources.live, &feed_start, &tasks, &shutdown);
            let (mut driver, handle) = Driver::new(
                driver_settings(config),
                Arc::clone(&store),
                events.as_source(Stage::Driver.name()),
                driver_out,
                Arc::clone(&stats.driver),
            );
            if let Some(links) = &links {
                driver = driver.with_recent_ticks(links.recent_ticks());
            }
            // Subscribed to events before anything is loaded.
            tasks.spawn(driver.run(shutdown.clone()));
            match &links {
                Some(links) => links.send_ticks(ticks, &stats.driver, &run)?,
                None => local_ticks = Some(ticks),
            }
            handle
        } else {
            stats.driver.set_stopped("runs in another process");
            follow::driver_elsewhere(
                Arc::clone(&store),
                Arc::clone(&instances),
                config.threshold,
                &tasks,
                &shutdown,
            )
        };

        let mut notifier = None;
        if roles.has(Role::Receiver) {
            let retention = store::retention::Retention::new(config.tick_retention);
            tasks.spawn(store::retention::run(Arc::clone(&store), retention, shutdown.clone()));
            let hub = match &links {
                Some(links) => links.send_updates(&stats.receiver, &run)?,
                None => hub_in.clone(),
            };
            // Alerts are delivered where they are made: once, whatever the gateways.
            let receiver_events = events.as_source(Stage::Receiver.name());
            notifier = crate::notify::spawn(&config.notify, Some(receiver_events), &tasks, &shutdown)?;
            let out = receiver::Outputs { hub, notify: notifier.clone() };
            let limits = config.buffer;
            let receiver_stats =
                receiver::Stats { receiver: Arc::clone(&stats.receiver), store: Arc::clone(&stats.store) };
            let exit = receiver::Exit { grace: grace.clone(), spill: run.spill.clone() };
            let store = Arc::clone(&store);
            match (local_ticks, &links) {
                (Some(ticks), _) => {
                    tasks.spawn(receiver::run(ticks, store, out, limits, receiver_stats, exit));
                }
                (None, Some(links)) => {
                    let ticks = links.receive_ticks(&stats.receiver, &run)?;
                    tasks.spawn(receiver::run(ticks, store, out, limits, receiver_stats, exit));
                }
                (None, None) => anyhow::bail!("a receiver without a driver in its process needs Kafka"),
            }
        }

        if let (true, Some(links)) = (roles.has(Role::Gateway), &links) {
            links.feed_gateway(hub_in.clone(), &instances, &stats.gateway, &run)?;
        }
        let (hub, hub_handle) = Hub::new(
            hub_rx,
            driver.watch(),
            events.subscribe(),
            Arc::clone(&store),
            HubSettings { client_queue: config.client_queue, history: config.resume_history },
            Arc::clone(&stats.gateway),
        );
        tasks.spawn(hub.run(shutdown.clone()));

        let mut checks = vec![DependencyCheck::store(Arc::clone(&store))];
        checks.extend(links.as_ref().map(|links| links.dependency()).transpose()?);
        checks.extend(event_wiring.checks);
        let (sampler, metrics) = Sampler::new(
            Arc::clone(&stats),
            driver.watch(),
            checks,
            hub_in,
            this.clone(),
            Arc::clone(&instances),
        );
        let feeds = feeds.into_iter().map(|feed| feed as Arc<dyn FeedMeter>).collect();
        tasks.spawn(sampler.with_feeds(feeds).with_sinks(notifier.clone()).run(shutdown.clone()));
        // In one process there is nobody else to tell.
        if let Some(links) = &links {
            links.send_heartbeats(&this, metrics.clone(), driver.clone(), &run)?;
        }

        let ingests = roles.has(Role::Ingest);
        let fetch = match &config.secrets.alphavantage_api_key {
            Some(key) if ingests => {
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
            _ => None,
        };
        if ingests && config.load_demo {
            tasks.spawn(load_demo(
                config.clone(),
                Arc::clone(&store),
                events.clone(),
                Arc::clone(&stats.ingest),
                shutdown.clone(),
            ));
        } else if ingests && fetch.is_none() {
            stats.ingest.set_running("idle: no Alpha Vantage key and no demo data");
        }
        tasks.close();

        Ok(Self {
            hub: hub_handle,
            driver,
            store,
            fetch,
            events,
            stats,
            metrics,
            this,
            instances,
            routes: event_wiring.routes,
            notifier,
            tasks,
        })
    }

    /// Waits until every stage task has finished.
    pub async fn wait(&self) {
        self.tasks.wait().await;
    }
}

/// Fetch jobs a stop or a crash cut short end failed, so none shows
/// "queued" or "fetching" forever (the fetcher keeps no queue across runs).
async fn fail_interrupted_jobs(store: &SharedStore) {
    let reason = "interrupted: the server stopped before this symbol was fetched; fetch it again".to_owned();
    match store.fail_unfinished_jobs(reason).await {
        Ok(0) => {}
        Ok(jobs) => tracing::warn!(jobs, "fetch jobs interrupted by the last stop marked failed"),
        Err(err) => tracing::warn!(%err, "cannot mark interrupted fetch jobs failed"),
    }
}

fn driver_settings(config: &Config) -> DriverSettings {
    let rng_seed = config.seed.unwrap_or_else(|| rand::rngs::StdRng::from_os_rng().next_u64());
    tracing::info!(seed = rng_seed, "simulation seeded");
    DriverSettings {
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
        simulate: config.sources.simulation,
        replay: config.sources.replay,
        live: config
            .sources
            .live
            .iter()
            .flat_map(|source| {
                source.symbols.iter().map(|(_, shown)| (shown.clone(), source.venue.label().to_owned()))
            })
            .collect(),
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
