//! How this process's stages reach the others: bounded channels when all
//! run here, Kafka when `--kafka-brokers` is set (always, with `--role`).

use std::sync::Arc;

use marquee_shared::{Metrics, Tick};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::driver::DriverHandle;
use crate::hub::Update;
use crate::instances::{Instances, ThisInstance};
use crate::metrics::DependencyCheck;
use crate::receiver::Batch;
use crate::shutdown::Grace;
use crate::spill::Spill;
use crate::stats::StageStats;

/// Updates (bars, alerts) a receiver may run ahead of its Kafka producer.
#[cfg(feature = "kafka")]
const UPDATE_CHANNEL: usize = 64;
#[cfg(feature = "kafka")]
use std::time::Duration;

/// The engine between stages.
#[derive(Debug)]
pub enum Links {
    InProcess,
    #[cfg(feature = "kafka")]
    Kafka(Box<crate::kafka::Kafka>),
}

impl Links {
    pub fn new(config: &Config, this: &ThisInstance) -> anyhow::Result<Self> {
        match &config.cluster.kafka {
            None => Ok(Links::InProcess),
            #[cfg(feature = "kafka")]
            Some(kafka) => {
                tracing::info!(brokers = kafka.brokers, "stages joined through Kafka");
                Ok(Links::Kafka(Box::new(crate::kafka::Kafka::new(kafka.clone(), &this.id))))
            }
            #[cfg(not(feature = "kafka"))]
            Some(_) => {
                let _ = this;
                anyhow::bail!("this marquee was built without Kafka support")
            }
        }
    }

    /// Takes the driver's ticks: produced to Kafka, or handed back for a
    /// receiver in this process.
    pub fn send_ticks(
        &self,
        ticks: mpsc::Receiver<Vec<Tick>>,
        stats: &Arc<StageStats>,
        tasks: &TaskTracker,
        grace: &Grace,
        spill: &Spill,
    ) -> anyhow::Result<Option<mpsc::Receiver<Vec<Tick>>>> {
        match self {
            Links::InProcess => {
                let _ = (stats, tasks, grace, spill);
                Ok(Some(ticks))
            }
            #[cfg(feature = "kafka")]
            Links::Kafka(kafka) => {
                let producer = kafka.tick_producer(Arc::clone(stats))?;
                let topic = kafka.config.ticks_topic.clone();
                tasks.spawn(crate::kafka::produce_ticks(
                    ticks,
                    producer,
                    topic,
                    kafka.config.record_ticks,
                    Arc::clone(stats),
                    grace.clone(),
                    spill.clone(),
                ));
                Ok(None)
            }
        }
    }

    /// What a driver must resume after besides the store: the ticks still
    /// in flight on Kafka.
    pub fn recent_ticks(&self) -> Option<Arc<dyn crate::driver::RecentTicks>> {
        match self {
            Links::InProcess => None,
            #[cfg(feature = "kafka")]
            Links::Kafka(kafka) => Some(Arc::new(crate::kafka::TicksTail::new(kafka.as_ref().clone()))),
        }
    }

    /// Where a receiver sends its output: the hub here, or Kafka.
    pub fn send_updates(
        &self,
        hub: mpsc::Sender<Update>,
        stats: &Arc<StageStats>,
        tasks: &TaskTracker,
        grace: &Grace,
    ) -> anyhow::Result<mpsc::Sender<Update>> {
        match self {
            Links::InProcess => {
                let _ = (stats, tasks, grace);
                Ok(hub)
            }
            #[cfg(feature = "kafka")]
            Links::Kafka(kafka) => {
                let (out, updates) = mpsc::channel(UPDATE_CHANNEL);
                // Bars and alerts are in the store too: give one up after 30 s.
                let producer = kafka.producer(Arc::clone(stats), Some(Duration::from_secs(30)))?;
                let (bars, alerts) = (kafka.config.bars_topic.clone(), kafka.config.alerts_topic.clone());
                tasks.spawn(crate::kafka::produce_updates(
                    updates,
                    producer,
                    bars,
                    alerts,
                    Arc::clone(stats),
                    grace.clone(),
                ));
                Ok(out)
            }
        }
    }

    /// A receiver's input from Kafka (in process, the driver's channel is used).
    pub fn receive_ticks(
        &self,
        stats: &Arc<StageStats>,
        tasks: &TaskTracker,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<mpsc::Receiver<Batch>> {
        match self {
            Links::InProcess => {
                let _ = (stats, tasks, shutdown);
                anyhow::bail!("a receiver without a driver in its process needs Kafka")
            }
            #[cfg(feature = "kafka")]
            Links::Kafka(kafka) => {
                let (out, batches) = mpsc::channel(super::TICK_CHANNEL);
                let consumer = kafka.consumer(&kafka.config.receiver_group, "earliest", Arc::clone(stats))?;
                tasks.spawn(crate::kafka::consume_ticks(
                    consumer,
                    kafka.config.clone(),
                    out,
                    Arc::clone(stats),
                    shutdown.clone(),
                ));
                Ok(batches)
            }
        }
    }

    /// Feeds a gateway's hub from Kafka; in process the receiver feeds it.
    pub fn feed_gateway(
        &self,
        hub: mpsc::Sender<Update>,
        instances: &Arc<Instances>,
        stats: &Arc<StageStats>,
        tasks: &TaskTracker,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        match self {
            Links::InProcess => {
                let _ = (hub, instances, stats, tasks, shutdown);
                Ok(())
            }
            #[cfg(feature = "kafka")]
            Links::Kafka(kafka) => {
                let group = format!("marquee-gateway-{}", uuid::Uuid::new_v4().simple());
                let consumer = kafka.consumer(&group, "latest", Arc::clone(stats))?;
                tasks.spawn(crate::kafka::consume_for_gateway(
                    consumer,
                    kafka.config.clone(),
                    hub,
                    Arc::clone(instances),
                    Arc::clone(stats),
                    shutdown.clone(),
                ));
                Ok(())
            }
        }
    }

    /// The engine as a dependency to check, if there is one.
    pub fn check(&self) -> anyhow::Result<Option<DependencyCheck>> {
        match self {
            Links::InProcess => Ok(None),
            #[cfg(feature = "kafka")]
            Links::Kafka(kafka) => {
                let c = &kafka.config;
                let topics = vec![
                    c.ticks_topic.clone(),
                    c.bars_topic.clone(),
                    c.alerts_topic.clone(),
                    c.heartbeats_topic.clone(),
                ];
                Ok(Some(DependencyCheck::Kafka(crate::kafka::KafkaCheck::new(kafka, topics)?)))
            }
        }
    }

    /// Sends this process's heartbeat after every sample (Kafka only: in one
    /// process there is nobody else to tell).
    pub fn send_heartbeats(
        &self,
        this: &ThisInstance,
        metrics: watch::Receiver<Metrics>,
        driver: DriverHandle,
        tasks: &TaskTracker,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        match self {
            Links::InProcess => {
                let _ = (this, metrics, driver, tasks, shutdown);
                Ok(())
            }
            #[cfg(feature = "kafka")]
            Links::Kafka(kafka) => {
                let producer =
                    kafka.producer(Arc::new(StageStats::new("heartbeats")), Some(Duration::from_secs(2)))?;
                let this = this.clone();
                let key = this.key.clone();
                let heartbeat = move |m: &Metrics| this.heartbeat(m, driver.state());
                let topic = kafka.config.heartbeats_topic.clone();
                tasks.spawn(crate::kafka::produce_heartbeats(
                    metrics,
                    heartbeat,
                    key,
                    producer,
                    topic,
                    shutdown.clone(),
                ));
                Ok(())
            }
        }
    }
}
