//! Kafka as the [`Links`] between processes: the tasks that produce and
//! consume each topic, spawned for the stages this process runs.

use std::sync::Arc;
use std::time::Duration;

use marquee_shared::{Metrics, Tick};
use tokio::sync::{mpsc, watch};

use super::{Kafka, KafkaCheck, TicksTail};
use crate::cluster::instances::{Instances, ThisInstance};
use crate::driver::{DriverHandle, RecentTicks};
use crate::hub::Update;
use crate::links::{LinkTasks, Links, TICK_CHANNEL};
use crate::metrics::{DependencyCheck, StageStats};
use crate::receiver::Batch;

/// Updates (bars, alerts) a receiver may run ahead of its Kafka producer.
const UPDATE_CHANNEL: usize = 64;

/// The stages of this process joined to the others through Kafka.
#[derive(Debug)]
pub struct KafkaLinks(Kafka);

impl KafkaLinks {
    pub fn new(kafka: Kafka) -> Self {
        tracing::info!(brokers = kafka.config.brokers, "stages joined through Kafka");
        Self(kafka)
    }
}

impl Links for KafkaLinks {
    fn send_ticks(
        &self,
        ticks: mpsc::Receiver<Vec<Tick>>,
        stats: &Arc<StageStats>,
        run: &LinkTasks,
    ) -> anyhow::Result<()> {
        let kafka = &self.0;
        let producer = kafka.tick_producer(Arc::clone(stats))?;
        run.tasks.spawn(super::produce_ticks(
            ticks,
            producer,
            kafka.config.ticks_topic.clone(),
            kafka.config.record_ticks,
            Arc::clone(stats),
            run.grace.clone(),
            run.spill.clone(),
        ));
        Ok(())
    }

    fn recent_ticks(&self) -> Arc<dyn RecentTicks> {
        Arc::new(TicksTail::new(self.0.clone()))
    }

    fn send_updates(&self, stats: &Arc<StageStats>, run: &LinkTasks) -> anyhow::Result<mpsc::Sender<Update>> {
        let kafka = &self.0;
        let (out, updates) = mpsc::channel(UPDATE_CHANNEL);
        // Bars and alerts are in the store too: give one up after 30 s.
        let producer = kafka.producer(Arc::clone(stats), Some(Duration::from_secs(30)))?;
        run.tasks.spawn(super::produce_updates(
            updates,
            producer,
            kafka.config.bars_topic.clone(),
            kafka.config.alerts_topic.clone(),
            Arc::clone(stats),
            run.grace.clone(),
        ));
        Ok(out)
    }

    fn receive_ticks(
        &self,
        stats: &Arc<StageStats>,
        run: &LinkTasks,
    ) -> anyhow::Result<mpsc::Receiver<Batch>> {
        let kafka = &self.0;
        let (out, batches) = mpsc::channel(TICK_CHANNEL);
        let consumer = kafka.consumer(&kafka.config.receiver_group, "earliest", Arc::clone(stats))?;
        run.tasks.spawn(super::consume_ticks(
            consumer,
            kafka.config.clone(),
            out,
            Arc::clone(stats),
            run.shutdown.clone(),
        ));
        Ok(batches)
    }

    fn feed_gateway(
        &self,
        hub: mpsc::Sender<Update>,
        instances: &Arc<Instances>,
        stats: &Arc<StageStats>,
        run: &LinkTasks,
    ) -> anyhow::Result<()> {
        let kafka = &self.0;
        // Every gateway reads everything: a group of its own.
        let group = format!("marquee-gateway-{}", uuid::Uuid::new_v4().simple());
        let consumer = kafka.consumer(&group, "latest", Arc::clone(stats))?;
        run.tasks.spawn(super::consume_for_gateway(
            consumer,
            kafka.config.clone(),
            hub,
            Arc::clone(instances),
            Arc::clone(stats),
            run.shutdown.clone(),
        ));
        Ok(())
    }

    fn dependency(&self) -> anyhow::Result<DependencyCheck> {
        let c = &self.0.config;
        let topics = vec![
            c.ticks_topic.clone(),
            c.bars_topic.clone(),
            c.alerts_topic.clone(),
            c.heartbeats_topic.clone(),
        ];
        Ok(DependencyCheck::new(KafkaCheck::new(&self.0, topics)?))
    }

    fn send_heartbeats(
        &self,
        this: &ThisInstance,
        metrics: watch::Receiver<Metrics>,
        driver: DriverHandle,
        run: &LinkTasks,
    ) -> anyhow::Result<()> {
        let kafka = &self.0;
        let producer =
            kafka.producer(Arc::new(StageStats::unlisted("heartbeats")), Some(Duration::from_secs(2)))?;
        let this = this.clone();
        let key = this.key.clone();
        let heartbeat = move |m: &Metrics| this.heartbeat(m, driver.state());
        run.tasks.spawn(super::produce_heartbeats(
            metrics,
            heartbeat,
            key,
            producer,
            kafka.config.heartbeats_topic.clone(),
            run.shutdown.clone(),
        ));
        Ok(())
    }
}
