//! The driver's ticks to Kafka, pipelined: batches are queued as they come
//! without waiting for the brokers to confirm the ones before, and the
//! deliveries are settled as their reports arrive.
//!
//! - **Order and no duplicates** come from the idempotent producer: within
//!   a partition (a symbol's ticks share one, keyed by symbol) librdkafka
//!   keeps the order through its own retries and the broker drops repeats.
//! - **Backpressure by what is in flight**, not by stop-and-wait: at most
//!   [`IN_FLIGHT_MESSAGES`] ticks or [`IN_FLIGHT_BYTES`] of payload are
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

use std::collections::BTreeMap;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use marquee_shared::Tick;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use tokio::sync::mpsc;

use super::QUEUE_FULL_WAIT;
use crate::kafka::client::Figures;
use crate::shutdown::Grace;
use crate::spill::Spill;
use crate::stats::StageStats;

/// Ticks queued and not yet confirmed, at most. Also librdkafka's queue
/// limit for this producer (`queue.buffering.max.messages`).
pub const IN_FLIGHT_MESSAGES: usize = 20_000;
/// Payload bytes queued and not yet confirmed, at most (about 200 B a tick).
/// librdkafka's own limit (`queue.buffering.max.kbytes`) is set to this too.
pub const IN_FLIGHT_BYTES: usize = 8 << 20;
/// Waits between attempts to send what Kafka refused, doubling up to the last.
const FIRST_RETRY: Duration = Duration::from_millis(200);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// How one delivery ended: its id, and the refusal if any.
type Settled = (u64, Result<(), String>);

/// Deliveries queued and not yet settled, with their ticks (in the order
/// they were sent), so what is unconfirmed at the end can be spilled.
#[derive(Default)]
struct InFlight {
    deliveries: FuturesUnordered<BoxFuture<'static, Settled>>,
    ticks: BTreeMap<u64, (Tick, usize)>,
    next_id: u64,
    bytes: usize,
}

impl InFlight {
    fn len(&self) -> usize {
        self.ticks.len()
    }

    fn has_room(&self) -> bool {
        self.len() < IN_FLIGHT_MESSAGES && self.bytes < IN_FLIGHT_BYTES
    }

    fn push(&mut self, tick: Tick, size: usize, delivery: DeliveryFuture) {
        let id = self.next_id;
        self.next_id += 1;
        self.bytes += size;
        self.ticks.insert(id, (tick, size));
        self.deliveries.push(Box::pin(async move {
            let outcome = match delivery.await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err((err, _))) => Err(err.to_string()),
                Err(_cancelled) => Err("the producer dropped it".to_owned()),
            };
            (id, outcome)
        }));
    }

    /// The next delivery to settle, with its tick; `None` when there is none.
    async fn next(&mut self) -> Option<(Tick, Result<(), String>)> {
        let (id, outcome) = self.deliveries.next().await?;
        let (tick, size) = self.ticks.remove(&id)?;
        self.bytes -= size;
        Some((tick, outcome))
    }

    /// The ticks not settled, in the order they were sent.
    fn into_ticks(self) -> Vec<Tick> {
        self.ticks.into_values().map(|(tick, _)| tick).collect()
    }
}

/// The tick producer's state between batches.
struct Pipeline {
    producer: FutureProducer<Figures>,
    topic: String,
    stats: Arc<StageStats>,
    in_flight: InFlight,
    /// Ticks the brokers refused, to send again after `wait`.
    refused: Vec<Tick>,
    wait: Duration,
    last_error: String,
}

impl Pipeline {
    fn show(&self) {
        self.stats.set_in_flight(self.in_flight.len() as u64, self.in_flight.bytes as u64);
    }

    /// Queues `tick`; while the producer's queue is full, settles deliveries
    /// to make room. Gives the tick back when the grace ends first.
    async fn send(&mut self, tick: Tick, grace: &Grace) -> Result<(), Tick> {
        let payload = match serde_json::to_vec(&tick) {
            Ok(payload) => payload,
            Err(err) => {
                // A Tick always encodes; counted if that ever changes.
                self.stats.add_errors(1);
                tracing::error!(%err, symbol = tick.symbol, seq = tick.seq, "cannot encode a tick");
                return Ok(());
            }
        };
        loop {
            let record = FutureRecord::to(&self.topic).key(&tick.symbol).payload(&payload);
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    self.in_flight.push(tick, payload.len(), delivery);
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    let waiting = self.in_flight.len() > 0;
                    tokio::select! {
                        settled = self.in_flight.next(), if waiting => {
                            if let Some(settled) = settled {
                                self.settle(settled);
                            }
                        }
                        () = tokio::time::sleep(QUEUE_FULL_WAIT), if !waiting => {}
                        () = grace.over() => return Err(tick),
                    }
                }
                Err((err, _)) => {
                    self.refuse(tick, err.to_string());
                    return Ok(());
                }
            }
        }
    }

    fn settle(&mut self, (tick, outcome): (Tick, Result<(), String>)) {
        // `stats` are the driver's: its processed count is the ticks it made.
        if let Err(err) = outcome {
            self.refuse(tick, err);
        }
    }

    fn refuse(&mut self, tick: Tick, err: String) {
        self.stats.add_errors(1);
        self.last_error = err;
        self.refused.push(tick);
    }

    /// Sends `ticks` in order; those the grace left unsent come back.
    async fn send_all(&mut self, ticks: Vec<Tick>, grace: &Grace) -> Vec<Tick> {
        let mut ticks = ticks.into_iter();
        while let Some(tick) = ticks.next() {
            if let Err(tick) = self.send(tick, grace).await {
                return std::iter::once(tick).chain(ticks).collect();
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

/// The driver's side: every tick to `topic`, keyed by symbol (see the
/// module docs for the guarantees).
pub async fn produce_ticks(
    mut input: mpsc::Receiver<Vec<Tick>>,
    producer: FutureProducer<Figures>,
    topic: String,
    stats: Arc<StageStats>,
    grace: Grace,
    spill: Spill,
) {
    let mut pipeline = Pipeline {
        producer,
        topic,
        stats,
        in_flight: InFlight::default(),
        refused: Vec::new(),
        wait: FIRST_RETRY,
        last_error: String::new(),
    };
    let mut unsent: Vec<Tick> = Vec::new();
    let mut open = true;
    while open || pipeline.in_flight.len() > 0 || !pipeline.refused.is_empty() {
        pipeline.show();
        if !pipeline.refused.is_empty() && pipeline.in_flight.len() == 0 {
            unsent = pipeline.retry(&grace).await;
            if !unsent.is_empty() {
                break;
            }
            continue;
        }
        let reading = open && pipeline.in_flight.has_room() && pipeline.refused.is_empty();
        let settling = pipeline.in_flight.len() > 0;
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
                    unsent = pipeline.send_all(batch, &grace).await;
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
