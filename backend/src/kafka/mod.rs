//! Kafka adapters (cargo feature `kafka`): the engine between processes
//! when the stages run apart.
//!
//! - the driver's ticks go to the ticks topic, several to a record (one
//!   record per partition, a symbol always on the same partition), from an
//!   idempotent producer with `acks=all` ([`produce_ticks`]);
//! - receivers read that topic as one consumer group and commit a batch's
//!   offsets only once its ticks are stored ([`consume_ticks`]): at least
//!   once, with duplicates dropped by seq;
//! - a receiver's bars and alerts go to topics of their own
//!   ([`produce_updates`]);
//! - every gateway reads ticks, bars, alerts and heartbeats in a group of
//!   its own, from the newest offset on ([`consume_for_gateway`]);
//! - every process sends a heartbeat a second ([`produce_heartbeats`]);
//! - a driver that starts reads the newest ticks back ([`TicksTail`]) and
//!   resumes each symbol after them, so no seq is made twice.
//!
//! Messages are JSON of the `shared` crate's types. librdkafka's own
//! statistics give the producer queue depth and the consumer lag.

pub mod settings;

#[cfg(feature = "kafka")]
mod check;
#[cfg(feature = "kafka")]
mod client;
#[cfg(feature = "kafka")]
mod consume;
#[cfg(feature = "kafka")]
mod links;
#[cfg(feature = "kafka")]
mod produce;
#[cfg(feature = "kafka")]
mod records;
#[cfg(feature = "kafka")]
mod tail;

#[cfg(feature = "kafka")]
pub use check::KafkaCheck;
#[cfg(feature = "kafka")]
pub use client::Kafka;
#[cfg(feature = "kafka")]
pub use consume::{consume_for_gateway, consume_ticks};
#[cfg(feature = "kafka")]
pub use links::KafkaLinks;
#[cfg(feature = "kafka")]
pub use produce::{IN_FLIGHT_BYTES, IN_FLIGHT_TICKS, produce_heartbeats, produce_ticks, produce_updates};
#[cfg(feature = "kafka")]
pub use records::{BarRecord, decode, decode_ticks, encode_ticks};
#[cfg(feature = "kafka")]
pub use tail::TicksTail;

#[cfg(all(test, feature = "kafka"))]
mod tests;
