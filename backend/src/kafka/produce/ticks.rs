//! The driver's ticks to Kafka, pipelined: batches are queued as they come
//! without waiting for the brokers to confirm the ones before, and the
//! deliveries are settled as their reports arrive.
//!
//! - **Records of several ticks**: what is ready is taken at once and sent
//!   as one record per partition ([`Partitions`]), so the broker handles a
//!   record per partition per driver step rather than one per tick.
//! - **Order and no duplicates** come from the idempotent producer: within
//!   a partition (a symbol's ticks always go to the same one) librdkafka
//!   keeps the order through its own retries and the broker drops repeats.
//! - **Backpressure by what is in flight**, not by stop-and-wait: at most
//!   [`IN_FLIGHT_TICKS`] ticks or [`IN_FLIGHT_BYTES`] of payload are
//!   queued and unconfirmed; beyond that no batch is read, so the channel
//!   fills and the driver waits. Memory stays flat while a broker is away.
//! - **Refusals are sent again** (with capped backoff; no batch is read
//!   meanwhile). librdkafka retries transient failures by itself and never
//!   times a tick out, so a refusal is something lasting (a topic that
//!   does not exist, a record too large).
//! - **Nothing is dropped at shutdown**: what is not confirmed by the end of
//!   the grace (in flight, refused, or still in the channel) goes to the
//!   spill file, stored at the next start before the driver resumes after it.

use std::sync::Arc;
use std::time::Duration;

use marquee_shared::Tick;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use tokio::sync::mpsc;

use super::QUEUE_FULL_WAIT;
use super::in_flight::{IN_FLIGHT_TICKS, InFlight};
use super::partitions::Partitions;
use crate::common::shutdown::Grace;
use crate::kafka::client::Figures;
use crate::kafka::records::encode_ticks;
use crate::metrics::StageStats;
use crate::spill::Spill;

/// Waits between attempts to send what Kafka refused, doubling up to the last.
const FIRST_RETRY: Duration = Duration::from_millis(200);
const MAX_RETRY: Duration = Duration::from_secs(5);
/// Ticks taken from the channel at once, at most: what is ready, so under
/// load records fill by themselves and a lone step is never held back.
const GATHER_TICKS: usize = 4_096;
/// How long asking for the topic's partitions may take.
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);

/// The tick producer's state between batches.
struct Pipeline {
    producer: FutureProducer<Figures>,
    topic: String,
    partitions: Partitions,
    stats: Arc<StageStats>,
    in_flight: InFlight,
    /// Ticks the brokers refused, to send again after `wait`.
    refused: Vec<Tick>,
    wait: Duration,
    last_error: String,
}

impl Pipeline {
    fn show(&self) {
        self.stats.set_in_flight(self.in_flight.ticks() as u64, self.in_flight.bytes() as u64);
    }

    /// Queues one record of `ticks` on `partition`; while it does not fit
    /// in flight (or the producer's queue is full), settles deliveries to
    /// make room. Gives the ticks back when the grace ends first.
    async fn send(&mut self, partition: i32, ticks: Vec<Tick>, grace: &Grace) -> Result<(), Vec<Tick>> {
        let payload = match encode_ticks(&ticks) {
            Ok(payload) => payload,
            Err(err) => {
                // Ticks always encode; counted if that ever changes.
                self.stats.add_errors(ticks.len() as u64);
                tracing::error!(%err, ticks = ticks.len(), "cannot encode ticks");
                return Ok(());
            }
        };
        loop {
            let full = if self.in_flight.fits(ticks.len(), payload.len()) {
                let record =
                    FutureRecord::<[u8], [u8]>::to(&self.topic).partition(partition).payload(&payload);
                match self.producer.send_result(record) {
                    Ok(delivery) => {
                        self.in_flight.push(ticks, payload.len(), delivery);
                        return Ok(());
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => true,
                    Err((err, _)) => {
                        self.refuse(ticks, err.to_string());
                        return Ok(());
                    }
                }
            } else {
                true
            };
            debug_assert!(full);
            let waiting = !self.in_flight.is_empty();
            tokio::select! {
                settled = self.in_flight.next(), if waiting => {
                    if let Some(settled) = settled {
                        self.settle(settled);
                    }
                }
                () = tokio::time::sleep(QUEUE_FULL_WAIT), if !waiting => {}
                () = grace.over() => return Err(ticks),
            }
        }
    }

    fn settle(&mut self, (ticks, outcome): (Vec<Tick>, Result<(), String>)) {
        // `stats` are the driver's: its processed count is the ticks it made.
        if let Err(err) = outcome {
            self.refuse(ticks, err);
        }
    }

    fn refuse(&mut self, ticks: Vec<Tick>, err: String) {
        self.stats.add_errors(ticks.len() as u64);
        self.last_error = err;
        self.refused.extend(ticks);
    }

    /// Sends `ticks` as records, in order per partition; those the grace
    /// left unsent come back.
    async fn send_all(&mut self, ticks: Vec<Tick>, grace: &Grace) -> Vec<Tick> {
        let mut records = self.partitions.records(ticks).into_iter();
        while let Some((partition, ticks)) = records.next() {
            if let Err(ticks) = self.send(partition, ticks, grace).await {
                return ticks.into_iter().chain(records.flat_map(|(_, ticks)| ticks)).collect();
            }
        }
        Vec::new()
    }

    /// Sends the refused ticks again, in seq order per symbol, after the
    /// backoff; those the grace left unsent come back.
    async fn retry(&mut self, grace: &Grace) -> Vec<Tick> {
        let mut again = std::mem::take(&mut self.refused);
        again.sort_by(|a, b| (&a.symbol, a.seq).cmp(&(&b.symbol, b.seq)));
        self.stats.set_degraded(format!(
            "Kafka refused {} ticks (sending them again): {}",
            again.len(),
            self.last_error
        ));
        tracing::warn!(
            ticks = again.len(),
            error = self.last_error,
            retry_ms = self.wait.as_millis() as u64,
            "Kafka refused ticks; sending them again"
        );
        tokio::select! {
            () = grace.over() => return again,
            () = tokio::time::sleep(self.wait) => self.wait = (self.wait * 2).min(MAX_RETRY),
        }
        self.send_all(again, grace).await
    }
}

/// The partitions of `topic`, asked until known; `None` if the grace ends
/// first.
async fn partitions_of(
    producer: &FutureProducer<Figures>,
    topic: &str,
    record_ticks: usize,
    stats: &StageStats,
    grace: &Grace,
) -> Option<Partitions> {
    let mut wait = FIRST_RETRY;
    loop {
        let (client, name) = (producer.clone(), topic.to_owned());
        let asked = tokio::task::spawn_blocking(move || {
            let metadata =
                client.client().fetch_metadata(Some(&name), METADATA_TIMEOUT).map_err(|e| e.to_string())?;
            let count =
                metadata.topics().iter().find(|t| t.name() == name).map_or(0, |t| t.partitions().len());
            Partitions::new(count, record_ticks).ok_or_else(|| format!("the topic {name} has no partitions"))
        });
        let found = tokio::select! {
            () = grace.over() => return None,
            asked = asked => asked.map_err(|e| e.to_string()).and_then(|found| found),
        };
        match found {
            Ok(partitions) => return Some(partitions),
            Err(err) => {
                stats.set_degraded(format!("cannot learn the partitions of {topic}: {err}"));
                tracing::warn!(%err, topic, retry_ms = wait.as_millis() as u64, "cannot learn the partitions of the ticks topic");
            }
        }
        tokio::select! {
            () = grace.over() => return None,
            () = tokio::time::sleep(wait) => wait = (wait * 2).min(MAX_RETRY),
        }
    }
}

/// Takes what else is ready after `ticks`, up to what may be put in flight.
fn gather(mut ticks: Vec<Tick>, input: &mut mpsc::Receiver<Vec<Tick>>, in_flight: &InFlight) -> Vec<Tick> {
    let room = IN_FLIGHT_TICKS.saturating_sub(in_flight.ticks()).min(GATHER_TICKS);
    while ticks.len() < room {
        match input.try_recv() {
            Ok(more) => ticks.extend(more),
            Err(_) => break,
        }
    }
    ticks
}

/// The driver's side: every tick to `topic`, in records per partition (see
/// the module docs for the guarantees).
pub async fn produce_ticks(
    mut input: mpsc::Receiver<Vec<Tick>>,
    producer: FutureProducer<Figures>,
    topic: String,
    record_ticks: usize,
    stats: Arc<StageStats>,
    grace: Grace,
    spill: Spill,
) {
    let Some(partitions) = partitions_of(&producer, &topic, record_ticks, &stats, &grace).await else {
        spill_left(Vec::new(), input, &stats, &spill).await;
        return;
    };
    let mut pipeline = Pipeline {
        producer,
        topic,
        partitions,
        stats,
        in_flight: InFlight::default(),
        refused: Vec::new(),
        wait: FIRST_RETRY,
        last_error: String::new(),
    };
    let mut unsent: Vec<Tick> = Vec::new();
    let mut open = true;
    while open || !pipeline.in_flight.is_empty() || !pipeline.refused.is_empty() {
        pipeline.show();
        if !pipeline.refused.is_empty() && pipeline.in_flight.is_empty() {
            unsent = pipeline.retry(&grace).await;
            if !unsent.is_empty() {
                break;
            }
            continue;
        }
        let reading = open && pipeline.in_flight.has_room() && pipeline.refused.is_empty();
        let settling = !pipeline.in_flight.is_empty();
        tokio::select! {
            biased;
            () = grace.over() => break,
            settled = pipeline.in_flight.next(), if settling => {
                if let Some(settled) = settled {
                    pipeline.settle(settled);
                    if pipeline.refused.is_empty() {
                        pipeline.wait = FIRST_RETRY;
                    }
                }
            }
            batch = input.recv(), if reading => match batch {
                Some(batch) => {
                    let ticks = gather(batch, &mut input, &pipeline.in_flight);
                    unsent = pipeline.send_all(ticks, &grace).await;
                    if !unsent.is_empty() {
                        break;
                    }
                }
                None => open = false,
            },
        }
    }
    pipeline.show();
    // The grace is over (or everything was confirmed): spill what is left,
    // including what the driver handed over and this loop had not read.
    let Pipeline { in_flight, refused, stats, .. } = pipeline;
    let mut left = in_flight.into_ticks();
    left.extend(refused);
    left.extend(unsent);
    spill_left(left, input, &stats, &spill).await;
}

/// Spills `left` and what is still in the channel, if anything.
async fn spill_left(
    mut left: Vec<Tick>,
    mut input: mpsc::Receiver<Vec<Tick>>,
    stats: &StageStats,
    spill: &Spill,
) {
    input.close();
    while let Some(batch) = input.recv().await {
        left.extend(batch);
    }
    if left.is_empty() {
        tracing::info!("tick producer stopped");
        return;
    }
    let count = left.len() as u64;
    match spill.append(left, "not confirmed by Kafka by the end of the shutdown grace").await {
        Ok(()) => tracing::warn!(
            ticks = count,
            path = %spill.path().display(),
            "tick producer stopped; ticks Kafka did not confirm are in the spill file, stored at the next start"
        ),
        Err(err) => {
            stats.add_dropped(count);
            tracing::error!(%err, ticks = count, path = %spill.path().display(), "cannot write the spill file: these ticks are lost");
        }
    }
}
