//! Producing to Kafka: ticks from the driver (`ticks.rs`), bars and alerts
//! from a receiver, and heartbeats from every process.

mod in_flight;
mod partitions;
mod ticks;

pub use in_flight::{IN_FLIGHT_BYTES, IN_FLIGHT_TICKS};
pub use ticks::produce_ticks;

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use marquee_shared::Metrics;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::BarRecord;
use super::client::Figures;
use crate::cluster::cluster_key::{ClusterKey, HEARTBEAT_HEADER};
use crate::cluster::instances::Heartbeat;
use crate::common::shutdown::Grace;
use crate::hub::Update;
use crate::metrics::StageStats;

/// How long to wait before offering a message again to a full producer queue.
const QUEUE_FULL_WAIT: Duration = Duration::from_millis(20);
/// How long the bar and alert producer flushes at most when it stops (less
/// if the shutdown grace ends first).
const FLUSH_AT_MOST: Duration = Duration::from_secs(5);

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

    fn record(&self) -> FutureRecord<'_, String, Vec<u8>> {
        FutureRecord::to(self.topic).key(&self.key).payload(&self.payload)
    }
}

/// Queues a message, waiting while the producer's queue is full, until the
/// shutdown grace is over (then the queue-full error is returned).
async fn enqueue(
    producer: &FutureProducer<Figures>,
    message: &Outgoing<'_>,
    grace: &Grace,
) -> Result<DeliveryFuture, KafkaError> {
    loop {
        match producer.send_result(message.record()) {
            Ok(delivery) => return Ok(delivery),
            Err((err @ KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                tokio::select! {
                    () = tokio::time::sleep(QUEUE_FULL_WAIT) => {}
                    () = grace.over() => return Err(err),
                }
            }
            Err((err, _)) => return Err(err),
        }
    }
}

/// A receiver's side: closed and forming bars to `bars_topic`, alerts to
/// `alerts_topic`, keyed by symbol. It never waits for the brokers, so a
/// slow bars topic cannot hold up storing ticks: messages are queued (the
/// producer gives them up after its timeout; bars are in the store anyway),
/// and forming bars that find the queue full are skipped (counted), the next
/// second brings fresh ones. Ticks are not sent again: gateways read them
/// from the ticks topic. Delivery reports are settled here, beside the
/// sending (a failed one is counted); none outlives the task.
pub async fn produce_updates(
    mut input: mpsc::Receiver<Update>,
    producer: FutureProducer<Figures>,
    bars_topic: String,
    alerts_topic: String,
    stats: Arc<StageStats>,
    grace: Grace,
) {
    let mut deliveries = FuturesUnordered::new();
    let settle = |delivered: bool| {
        if !delivered {
            stats.add_errors(1);
        }
    };
    loop {
        let update = tokio::select! {
            Some(delivered) = deliveries.next(), if !deliveries.is_empty() => {
                settle(matches!(delivered, Ok(Ok(_))));
                continue;
            }
            update = input.recv() => match update {
                Some(update) => update,
                None => break,
            },
        };
        let bars = |bars: Vec<marquee_shared::AnalyzedBar>, closed: bool| -> Vec<Outgoing<'_>> {
            bars.into_iter()
                .filter_map(|bar| {
                    let key = bar.bar.symbol.clone();
                    Outgoing::json(&bars_topic, &key, &BarRecord { closed, bar })
                })
                .collect()
        };
        let (messages, skippable) = match update {
            Update::Bars(closed) => (bars(closed, true), false),
            Update::Forming(forming) => (bars(forming, false), true),
            Update::Alerts(alerts) => {
                (alerts.iter().filter_map(|a| Outgoing::json(&alerts_topic, &a.symbol, a)).collect(), false)
            }
            Update::Ticks(_) | Update::Metrics(_) | Update::Health(_) => continue,
        };
        if messages.is_empty() {
            continue;
        }
        for message in &messages {
            let queued = if skippable {
                producer.send_result(message.record()).map_err(|(err, _)| err)
            } else {
                enqueue(&producer, message, &grace).await
            };
            match queued {
                Ok(delivery) => deliveries.push(delivery),
                Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)) => stats.add_dropped(1),
                Err(err) => {
                    stats.add_errors(1);
                    tracing::warn!(%err, topic = message.topic, "cannot queue a bar or alert for Kafka");
                }
            }
        }
    }
    // Dropping a producer discards what it holds: deliver that first, within
    // the shutdown grace (bars and alerts are in the store anyway).
    let flushing = tokio::task::spawn_blocking(move || producer.flush(FLUSH_AT_MOST));
    let flushed = tokio::select! {
        flushed = flushing => flushed,
        () = grace.over() => {
            tracing::warn!("bar and alert producer stopped at the end of the shutdown grace, still flushing");
            return;
        }
    };
    // Flushed: every report is in.
    while let Some(Some(delivered)) = deliveries.next().now_or_never() {
        settle(matches!(delivered, Ok(Ok(_))));
    }
    match flushed {
        Ok(Ok(())) => tracing::info!("bar and alert producer stopped"),
        Ok(Err(err)) => {
            tracing::warn!(%err, "bar and alert producer stopped with messages Kafka did not take")
        }
        Err(err) => tracing::warn!(%err, "bar and alert producer stopped without flushing"),
    }
}

/// Every process's side: a heartbeat each time the figures are sampled,
/// signed with the cluster secret (in a Kafka header) when there is one.
pub async fn produce_heartbeats(
    mut metrics: watch::Receiver<Metrics>,
    heartbeat: impl Fn(&Metrics) -> Heartbeat + Send,
    key: Option<ClusterKey>,
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
        let mut record = message.record();
        if let Some(key) = &key {
            let signature = key.sign_heartbeat(&message.payload);
            record = record.headers(
                OwnedHeaders::new()
                    .insert(Header { key: HEARTBEAT_HEADER, value: Some(signature.as_bytes()) }),
            );
        }
        // A heartbeat is worth only its moment: the producer gives it up
        // soon, and one that finds the queue full is skipped.
        if let Err((err, _)) = producer.send_result(record) {
            tracing::debug!(%err, "heartbeat not sent");
        }
    }
}
