//! Producing to Kafka: ticks from the driver, bars and alerts from a
//! receiver, and heartbeats from every process.

use std::sync::Arc;
use std::time::Duration;

use marquee_shared::{Metrics, Tick};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::BarRecord;
use super::client::Figures;
use crate::hub::Update;
use crate::instances::Heartbeat;
use crate::stats::StageStats;

/// How long to wait before offering a message again to a full producer queue.
const QUEUE_FULL_WAIT: Duration = Duration::from_millis(20);

/// One message to send: the topic, its key and its JSON.
struct Outgoing<'a> {
    topic: &'a str,
    key: String,
    payload: Vec<u8>,
}

impl<'a> Outgoing<'a> {
    fn json(topic: &'a str, key: &str, value: &impl Serialize) -> Option<Self> {
        match serde_json::to_vec(value) {
            Ok(payload) => Some(Self { topic, key: key.to_owned(), payload }),
            Err(err) => {
                tracing::error!(%err, topic, key, "cannot encode a message");
                None
            }
        }
    }
}

/// Queues every message (waiting while the producer's queue is full), then
/// waits for the brokers to acknowledge them all. Returns how many failed.
async fn send_all(producer: &FutureProducer<Figures>, messages: Vec<Outgoing<'_>>) -> u64 {
    let mut deliveries: Vec<DeliveryFuture> = Vec::with_capacity(messages.len());
    for message in &messages {
        loop {
            let record = FutureRecord::to(message.topic).key(&message.key).payload(&message.payload);
            match producer.send_result(record) {
                Ok(delivery) => {
                    deliveries.push(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    tokio::time::sleep(QUEUE_FULL_WAIT).await;
                }
                Err((err, _)) => {
                    tracing::error!(%err, topic = message.topic, "cannot queue a message for Kafka");
                    break;
                }
            }
        }
    }
    let mut failed = (messages.len() - deliveries.len()) as u64;
    for delivery in deliveries {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((err, _))) => {
                tracing::error!(%err, "Kafka did not take a message");
                failed += 1;
            }
            Err(_cancelled) => failed += 1,
        }
    }
    failed
}

/// The driver's side: every tick to `topic`, keyed by symbol, batch after
/// batch. A batch is acknowledged by the brokers before the next is read,
/// so a slow or absent broker holds the driver back through the channel.
pub async fn produce_ticks(
    mut input: mpsc::Receiver<Vec<Tick>>,
    producer: FutureProducer<Figures>,
    topic: String,
    stats: Arc<StageStats>,
) {
    while let Some(batch) = input.recv().await {
        let messages = batch.iter().filter_map(|tick| Outgoing::json(&topic, &tick.symbol, tick)).collect();
        let failed = send_all(&producer, messages).await;
        if failed > 0 {
            stats.add_errors(failed);
        }
    }
    tracing::info!("tick producer stopped");
}

/// A receiver's side: closed and forming bars to `bars_topic`, alerts to
/// `alerts_topic`, keyed by symbol. Ticks are not sent again: gateways read
/// them from the ticks topic.
pub async fn produce_updates(
    mut input: mpsc::Receiver<Update>,
    producer: FutureProducer<Figures>,
    bars_topic: String,
    alerts_topic: String,
    stats: Arc<StageStats>,
) {
    while let Some(update) = input.recv().await {
        let bars = |bars: Vec<marquee_shared::AnalyzedBar>, closed: bool| -> Vec<Outgoing<'_>> {
            bars.into_iter()
                .filter_map(|bar| {
                    let key = bar.bar.symbol.clone();
                    Outgoing::json(&bars_topic, &key, &BarRecord { closed, bar })
                })
                .collect()
        };
        let messages = match update {
            Update::Bars(closed) => bars(closed, true),
            Update::Forming(forming) => bars(forming, false),
            Update::Alerts(alerts) => {
                alerts.iter().filter_map(|a| Outgoing::json(&alerts_topic, &a.symbol, a)).collect()
            }
            Update::Ticks(_) | Update::Metrics(_) | Update::Health(_) => continue,
        };
        let failed = send_all(&producer, messages).await;
        if failed > 0 {
            stats.add_errors(failed);
        }
    }
    tracing::info!("bar and alert producer stopped");
}

/// Every process's side: a heartbeat each time the figures are sampled.
pub async fn produce_heartbeats(
    mut metrics: watch::Receiver<Metrics>,
    heartbeat: impl Fn(&Metrics) -> Heartbeat + Send,
    producer: FutureProducer<Figures>,
    topic: String,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            changed = metrics.changed() => if changed.is_err() { break },
        }
        let beat = heartbeat(&metrics.borrow_and_update());
        let Some(message) = Outgoing::json(&topic, &beat.instance.id, &beat) else { continue };
        // A heartbeat is worth only its moment: don't queue up old ones.
        let record = FutureRecord::to(message.topic).key(&message.key).payload(&message.payload);
        if let Err((err, _)) = producer.send_result(record) {
            tracing::debug!(%err, "heartbeat not sent");
        }
    }
}
