//! The newest ticks on the ticks topic, for a driver that starts while some
//! of its earlier ticks are still in flight (not stored yet): it resumes each
//! symbol after them, so no seq is made twice.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::Kafka;
use crate::driver::RecentTicks;
use crate::store::LastTick;

/// Records read back from the end of each partition: every symbol of a
/// partition ticks on each step, so a few steps' worth covers them all.
const DEPTH: i64 = 5_000;
/// How long reading the tail may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the end of the ticks topic.
#[derive(Debug, Clone)]
pub struct TicksTail {
    kafka: Kafka,
}

impl TicksTail {
    pub fn new(kafka: Kafka) -> Self {
        Self { kafka }
    }

    fn read(&self) -> Result<Vec<LastTick>, String> {
        let topic = &self.kafka.config.ticks_topic;
        let consumer = self.kafka.metadata_client().map_err(|e| e.to_string())?;
        let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT).map_err(|e| e.to_string())?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map(|t| t.partitions().iter().map(|p| p.id()).collect())
            .unwrap_or_default();
        let mut assignment = TopicPartitionList::new();
        let mut ends: HashMap<i32, i64> = HashMap::new();
        for partition in partitions {
            let (low, high) =
                consumer.fetch_watermarks(topic, partition, TIMEOUT).map_err(|e| e.to_string())?;
            if high > low {
                let from = low.max(high - DEPTH);
                assignment
                    .add_partition_offset(topic, partition, Offset::Offset(from))
                    .map_err(|e| e.to_string())?;
                ends.insert(partition, high);
            }
        }
        if ends.is_empty() {
            return Ok(Vec::new());
        }
        consumer.assign(&assignment).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + TIMEOUT;
        let mut newest: HashMap<String, LastTick> = HashMap::new();
        while !ends.is_empty() {
            if Instant::now() >= deadline {
                return Err(format!("the end of {topic} was not read within {} s", TIMEOUT.as_secs()));
            }
            let Some(received) = consumer.poll(Duration::from_millis(200)) else { continue };
            let message = received.map_err(|e| e.to_string())?;
            // An impossible tick (a seq of u64::MAX) is no place to resume after.
            let ticks = message.payload().and_then(|p| super::decode_ticks(p).ok()).unwrap_or_default();
            for tick in ticks.into_iter().flatten() {
                let newer = newest.get(&tick.symbol).is_none_or(|held| held.seq < tick.seq);
                if newer {
                    newest.insert(
                        tick.symbol.clone(),
                        LastTick { symbol: tick.symbol, seq: tick.seq, price: tick.price },
                    );
                }
            }
            if ends.get(&message.partition()).is_some_and(|&end| message.offset() + 1 >= end) {
                ends.remove(&message.partition());
            }
        }
        Ok(newest.into_values().collect())
    }
}

impl RecentTicks for TicksTail {
    fn last_ticks(&self) -> Pin<Box<dyn Future<Output = Result<Vec<LastTick>, String>> + Send + '_>> {
        let this = self.clone();
        Box::pin(
            async move { tokio::task::spawn_blocking(move || this.read()).await.map_err(|e| e.to_string())? },
        )
    }
}
