//! Producing to Kafka: ticks from the driver, bars and alerts from a
//! receiver, and heartbeats from every process.

use std::sync::Arc;
use std::time::Duration;

use marquee_shared::{Metrics, Tick};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::BarRecord;
use super::client::Figures;
use crate::cluster_key::{ClusterKey, HEARTBEAT_HEADER};
use crate::hub::Update;
use crate::instances::Heartbeat;
use crate::shutdown::Grace;
use crate::spill::Spill;
use crate::stats::StageStats;

/// How long to wait before offering a message again to a full producer queue.
const QUEUE_FULL_WAIT: Duration = Duration::from_millis(20);
/// Waits between attempts to send what Kafka refused, doubling up to the last.
const FIRST_RETRY: Duration = Duration::from_millis(200);
const MAX_RETRY: Duration = Duration::from_secs(5);
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

/// Sends every message and waits until the brokers have them all, sending
/// again what they refused (with capped backoff) until they take it. Gives
/// up only when the shutdown grace is over; returns the indices of the
/// messages not confirmed by then (some may still arrive: storing is
/// idempotent).
async fn deliver_all(
    producer: &FutureProducer<Figures>,
    messages: &[Outgoing<'_>],
    stats: &StageStats,
    grace: &Grace,
) -> Vec<usize> {
    let mut wait = FIRST_RETRY;
    let mut live: Vec<usize> = (0..messages.len()).collect();
    loop {
        if grace.is_over() {
            return live;
        }
        let mut failed = Vec::new();
        let mut last_error = String::new();
        let mut pending = Vec::with_capacity(live.len());
        for &index in &live {
            match enqueue(producer, &messages[index], grace).await {
                Ok(delivery) => pending.push((index, delivery)),
                Err(err) => {
                    last_error = err.to_string();
                    failed.push(index);
                }
            }
        }
        let confirmed = async {
            let mut refused = Vec::new();
            for (index, delivery) in pending {
                match delivery.await {
                    Ok(Ok(_)) => {}
                    Ok(Err((err, _))) => refused.push((index, err.to_string())),
                    Err(_cancelled) => refused.push((index, "the producer dropped it".to_owned())),
                }
            }
            refused
        };
        tokio::select! {
            refused = confirmed => {
                for (index, err) in refused {
                    last_error = err;
                    failed.push(index);
                }
            }
            () = grace.over() => {
                tracing::error!(messages = live.len(), "shutdown grace over: Kafka has not confirmed these messages");
                return live;
            }
        }
        if failed.is_empty() {
            return Vec::new();
        }
        failed.sort_unstable();
        stats.add_errors(failed.len() as u64);
        stats.set_degraded(format!("Kafka refused {} messages (retrying): {last_error}", failed.len()));
        tracing::warn!(
            messages = failed.len(),
            error = last_error,
            retry_ms = wait.as_millis() as u64,
            "Kafka refused messages; sending them again"
        );
        tokio::select! {
            () = grace.over() => return failed,
            () = tokio::time::sleep(wait) => wait = (wait * 2).min(MAX_RETRY),
        }
        live = failed;
    }
}

/// The driver's side: every tick to `topic`, keyed by symbol, batch after
/// batch. A batch is confirmed by the brokers before the next is read, so a
/// slow or absent broker holds the driver back through the channel; what
/// they refuse is sent again. What they have not confirmed by the end of
/// the shutdown grace is written to the spill file (stored, not sent, at
/// the next start, before the driver resumes after it): nothing the driver
/// handed over is dropped.
pub async fn produce_ticks(
    mut input: mpsc::Receiver<Vec<Tick>>,
    producer: FutureProducer<Figures>,
    topic: String,
    stats: Arc<StageStats>,
    grace: Grace,
    spill: Spill,
) {
    let mut unconfirmed = 0;
    while let Some(batch) = input.recv().await {
        let (ticks, messages): (Vec<&Tick>, Vec<Outgoing<'_>>) =
            batch.iter().filter_map(|tick| Some((tick, Outgoing::json(&topic, &tick.symbol, tick)?))).unzip();
        let left = deliver_all(&producer, &messages, &stats, &grace).await;
        if left.is_empty() {
            continue;
        }
        unconfirmed += left.len();
        let left: Vec<Tick> = left.into_iter().map(|index| ticks[index].clone()).collect();
        let count = left.len() as u64;
        if let Err(err) = spill.append(left, "not confirmed by Kafka by the end of the shutdown grace").await
        {
            stats.add_dropped(count);
            tracing::error!(%err, ticks = count, path = %spill.path().display(), "cannot write the spill file: these ticks are lost");
        }
    }
    if unconfirmed > 0 {
        tracing::warn!(
            ticks = unconfirmed,
            path = %spill.path().display(),
            "tick producer stopped; ticks Kafka did not confirm are in the spill file, stored at the next start"
        );
    } else {
        tracing::info!("tick producer stopped");
    }
}

/// A receiver's side: closed and forming bars to `bars_topic`, alerts to
/// `alerts_topic`, keyed by symbol. It never waits for the brokers, so a
/// slow bars topic cannot hold up storing ticks: messages are queued (the
/// producer gives them up after its timeout; bars are in the store anyway),
/// and forming bars that find the queue full are skipped (counted), the next
/// second brings fresh ones. Ticks are not sent again: gateways read them
/// from the ticks topic.
pub async fn produce_updates(
    mut input: mpsc::Receiver<Update>,
    producer: FutureProducer<Figures>,
    bars_topic: String,
    alerts_topic: String,
    stats: Arc<StageStats>,
    grace: Grace,
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
                Ok(delivery) => {
                    let stats = Arc::clone(&stats);
                    tokio::spawn(async move {
                        if !matches!(delivery.await, Ok(Ok(_))) {
                            stats.add_errors(1);
                        }
                    });
                }
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
