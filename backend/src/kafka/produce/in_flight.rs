//! The tick producer's deliveries queued and not yet settled, with their
//! ticks, so that what is unconfirmed at the end can be spilled.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use marquee_shared::Tick;
use rdkafka::producer::DeliveryFuture;

/// Ticks queued and not yet confirmed, at most.
pub const IN_FLIGHT_TICKS: usize = 20_000;
/// Payload bytes queued and not yet confirmed, at most (about 160 B a
/// tick). librdkafka's own limit (`queue.buffering.max.kbytes`) is set to
/// this too.
pub const IN_FLIGHT_BYTES: usize = 8 << 20;

/// How one delivery ended: its id, and the refusal if any.
type Settled = (u64, Result<(), String>);

/// Deliveries in flight, each a record of ticks.
#[derive(Default)]
pub struct InFlight {
    deliveries: FuturesUnordered<BoxFuture<'static, Settled>>,
    records: BTreeMap<u64, (Vec<Tick>, usize)>,
    next_id: u64,
    ticks: usize,
    bytes: usize,
}

impl InFlight {
    /// Ticks in flight.
    pub fn ticks(&self) -> usize {
        self.ticks
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Whether more may be read to send.
    pub fn has_room(&self) -> bool {
        self.ticks < IN_FLIGHT_TICKS && self.bytes < IN_FLIGHT_BYTES
    }

    /// Whether a record of `ticks` and `bytes` may be queued now; always
    /// when nothing is in flight.
    pub fn fits(&self, ticks: usize, bytes: usize) -> bool {
        self.is_empty() || (self.ticks + ticks <= IN_FLIGHT_TICKS && self.bytes + bytes <= IN_FLIGHT_BYTES)
    }

    pub fn push(&mut self, ticks: Vec<Tick>, size: usize, delivery: DeliveryFuture) {
        let id = self.next_id;
        self.next_id += 1;
        self.ticks += ticks.len();
        self.bytes += size;
        self.records.insert(id, (ticks, size));
        self.deliveries.push(Box::pin(async move {
            let outcome = match delivery.await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err((err, _))) => Err(err.to_string()),
                Err(_cancelled) => Err("the producer dropped it".to_owned()),
            };
            (id, outcome)
        }));
    }

    /// The next delivery to settle, with its ticks; `None` when there is none.
    pub async fn next(&mut self) -> Option<(Vec<Tick>, Result<(), String>)> {
        let (id, outcome) = self.deliveries.next().await?;
        let (ticks, size) = self.records.remove(&id)?;
        self.ticks -= ticks.len();
        self.bytes -= size;
        Some((ticks, outcome))
    }

    /// The ticks not settled, in the order they were sent.
    pub fn into_ticks(self) -> Vec<Tick> {
        self.records.into_values().flat_map(|(ticks, _)| ticks).collect()
    }
}
