//! Consuming from Kafka: ticks for a receiver (committed once stored), and
//! everything a gateway shows.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use marquee_shared::{Alert, Tick, Validate};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::BarRecord;
use super::client::Figures;
use super::settings::KafkaConfig;
use crate::cluster::cluster_key::HEARTBEAT_HEADER;
use crate::cluster::instances::{HeartbeatRefused, Instances};
use crate::hub::Update;
use crate::metrics::StageStats;
use crate::receiver::Batch;

/// Messages gathered into one batch at most.
const BATCH_MESSAGES: usize = 1024;
/// Payload bytes gathered into one batch at most (a record of ticks may
/// hold hundreds).
const BATCH_BYTES: usize = 4 << 20;
/// Pause after a consumer error before reading again.
const ERROR_PAUSE: Duration = Duration::from_millis(200);

type Consumer_ = StreamConsumer<Figures>;

/// Waits for a message, then takes whatever else is already there (up to
/// [`BATCH_MESSAGES`] or [`BATCH_BYTES`]) without waiting: under load batches grow by
/// themselves, and a lone tick is never held back. `None` on shutdown.
async fn gather(
    consumer: &Consumer_,
    stats: &StageStats,
    shutdown: &CancellationToken,
) -> Option<Vec<OwnedMessage>> {
    let first = loop {
        tokio::select! {
            () = shutdown.cancelled() => return None,
            received = consumer.recv() => match received {
                Ok(message) => break message.detach(),
                Err(err) => {
                    stats.add_errors(1);
                    stats.set_degraded(format!("Kafka: {err}"));
                    tracing::warn!(%err, "cannot read from Kafka");
                    tokio::time::sleep(ERROR_PAUSE).await;
                }
            },
        }
    };
    let mut bytes = first.payload().map_or(0, <[u8]>::len);
    let mut messages = vec![first];
    // `recv` is cancel-safe: a message not taken stays for the next call.
    while messages.len() < BATCH_MESSAGES && bytes < BATCH_BYTES {
        match consumer.recv().now_or_never() {
            Some(Ok(message)) => {
                bytes += message.payload().map_or(0, <[u8]>::len);
                messages.push(message.detach());
            }
            Some(Err(_)) | None => break,
        }
    }
    stats.add_batch(messages.len() as u64);
    Some(messages)
}

/// The checked value in a message, or `None` (logged and counted) if it is
/// not one: a bad record is skipped, never passed on.
fn decode<T: DeserializeOwned + Validate>(message: &OwnedMessage, stats: &StageStats) -> Option<T> {
    match super::decode(message.payload().unwrap_or_default()) {
        Ok(value) => Some(value),
        Err(refused) => {
            skipping(message, stats, &refused, "skipping a record");
            None
        }
    }
}

/// The checked ticks in a record of the ticks topic: one that is not ticks
/// is skipped whole, an impossible tick alone (each logged and counted).
fn decode_ticks(message: &OwnedMessage, stats: &StageStats) -> Vec<Tick> {
    match super::decode_ticks(message.payload().unwrap_or_default()) {
        Ok(ticks) => ticks
            .into_iter()
            .filter_map(|checked| {
                checked.map_err(|invalid| skipping(message, stats, &invalid, "skipping a tick")).ok()
            })
            .collect(),
        Err(err) => {
            skipping(message, stats, &super::records::Refused::from(err), "skipping a record");
            Vec::new()
        }
    }
}

fn skipping(message: &OwnedMessage, stats: &StageStats, why: &dyn std::fmt::Display, what: &'static str) {
    stats.add_errors(1);
    tracing::error!(
        refused = %why,
        topic = message.topic(),
        partition = message.partition(),
        offset = message.offset(),
        "{what}"
    );
}

/// Lists the sender of a heartbeat signed with the cluster secret; anything
/// else on the topic is counted as an error and dropped.
fn receive_heartbeat(message: &OwnedMessage, instances: &Instances, stats: &StageStats) {
    let signature = message.headers().and_then(|headers| {
        headers.iter().find(|header| header.key == HEARTBEAT_HEADER).and_then(|header| header.value)
    });
    match instances.receive(message.payload().unwrap_or_default(), signature) {
        Ok(()) => {}
        // Without a secret this process lists nobody else; that is no error.
        Err(refused @ HeartbeatRefused::NoSecret) => tracing::trace!(%refused, "heartbeat ignored"),
        Err(refused) => {
            stats.add_errors(1);
            tracing::warn!(
                %refused,
                partition = message.partition(),
                offset = message.offset(),
                "heartbeat refused"
            );
        }
    }
}

/// A receiver's side: reads the ticks topic in the receivers' group and
/// passes batches on; each batch's offsets are committed only once the
/// receiver has stored all its ticks. Ends on shutdown, dropping `out` so
/// the receiver flushes what it holds.
pub async fn consume_ticks(
    consumer: Consumer_,
    config: KafkaConfig,
    out: mpsc::Sender<Batch>,
    stats: Arc<StageStats>,
    shutdown: CancellationToken,
) {
    if let Err(err) = consumer.subscribe(&[&config.ticks_topic]) {
        stats.set_stopped(format!("cannot subscribe to {}: {err}", config.ticks_topic));
        tracing::error!(%err, topic = config.ticks_topic, "cannot subscribe");
        return;
    }
    let consumer = Arc::new(consumer);
    while let Some(messages) = gather(&consumer, &stats, &shutdown).await {
        stats.set_running(format!("consuming {} in group {}", config.ticks_topic, config.receiver_group));
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        let mut ticks = Vec::with_capacity(messages.len());
        for message in &messages {
            next.insert(message.partition(), message.offset() + 1);
            ticks.extend(decode_ticks(message, &stats));
        }
        let on_stored = commit_later(Arc::clone(&consumer), config.ticks_topic.clone(), next);
        // A receiver that stops reading (its store is failing) holds this
        // send; shutdown does not wait for it: the batch is uncommitted, so
        // Kafka delivers it again.
        tokio::select! {
            sent = out.send(Batch { ticks, on_stored: Some(on_stored) }) => if sent.is_err() { break },
            () = shutdown.cancelled() => break,
        }
    }
    tracing::info!("tick consumer stopped");
    close(consumer);
}

/// Leaves the group off the async threads: librdkafka's close blocks.
fn close<C: Send + 'static>(consumer: C) {
    drop(tokio::task::spawn_blocking(move || drop(consumer)));
}

/// Commits `next` offsets per partition when called.
fn commit_later(consumer: Arc<Consumer_>, topic: String, next: BTreeMap<i32, i64>) -> crate::receiver::Ack {
    Box::new(move || {
        let mut offsets = TopicPartitionList::new();
        for (partition, offset) in next {
            if let Err(err) = offsets.add_partition_offset(&topic, partition, Offset::Offset(offset)) {
                tracing::error!(%err, "cannot build the offsets to commit");
                return;
            }
        }
        // A failed commit (after a rebalance, say) only means these ticks are
        // read again and dropped as duplicates.
        if let Err(err) = consumer.commit(&offsets, CommitMode::Async) {
            tracing::warn!(%err, "cannot commit offsets");
        }
    })
}

/// A gateway's side: ticks, bars and alerts to the hub, heartbeats to the
/// list of instances. The group is the gateway's own and starts at the
/// newest offsets: a gateway shows what happens from now on, and the store
/// has what came before.
pub async fn consume_for_gateway(
    consumer: Consumer_,
    config: KafkaConfig,
    out: mpsc::Sender<Update>,
    instances: Arc<Instances>,
    stats: Arc<StageStats>,
    shutdown: CancellationToken,
) {
    let topics = [&config.ticks_topic, &config.bars_topic, &config.alerts_topic, &config.heartbeats_topic];
    let topics: Vec<&str> = topics.iter().map(|t| t.as_str()).collect();
    if let Err(err) = consumer.subscribe(&topics) {
        stats.set_stopped(format!("cannot subscribe to {}: {err}", topics.join(", ")));
        tracing::error!(%err, "cannot subscribe");
        return;
    }
    while let Some(messages) = gather(&consumer, &stats, &shutdown).await {
        let mut updates = Updates::default();
        for message in &messages {
            let topic = message.topic();
            if topic == config.ticks_topic {
                updates.ticks.extend(decode_ticks(message, &stats));
            } else if topic == config.bars_topic {
                if let Some(record) = decode::<BarRecord>(message, &stats) {
                    if record.closed { &mut updates.closed } else { &mut updates.forming }.push(record.bar);
                }
            } else if topic == config.alerts_topic {
                updates.alerts.extend(decode::<Alert>(message, &stats));
            } else if topic == config.heartbeats_topic {
                receive_heartbeat(message, &instances, &stats);
            }
        }
        for update in updates.into_updates() {
            if out.send(update).await.is_err() {
                close(consumer);
                return;
            }
        }
    }
    tracing::info!("gateway consumer stopped");
    close(consumer);
}

/// What one gathered batch holds, by kind.
#[derive(Default)]
struct Updates {
    ticks: Vec<Tick>,
    closed: Vec<marquee_shared::AnalyzedBar>,
    forming: Vec<marquee_shared::AnalyzedBar>,
    alerts: Vec<Alert>,
}

impl Updates {
    fn into_updates(self) -> impl Iterator<Item = Update> {
        [
            (!self.ticks.is_empty()).then_some(Update::Ticks(self.ticks)),
            (!self.closed.is_empty()).then_some(Update::Bars(self.closed)),
            (!self.forming.is_empty()).then_some(Update::Forming(self.forming)),
            (!self.alerts.is_empty()).then_some(Update::Alerts(self.alerts)),
        ]
        .into_iter()
        .flatten()
    }
}

#[cfg(test)]
mod tests {
    use marquee_shared::{AnalyzedBar, BarInterval, Indicators, OhlcvBar};

    use super::*;

    fn tick_json(seq: &str, price: &str, size: &str) -> Vec<u8> {
        format!(
            r#"{{"symbol":"AAPL","seq":{seq},"ts":1763900000000000000,"price":{price},"size":{size},"change":0.5,"change_pct":0.25}}"#
        )
        .into_bytes()
    }

    #[test]
    fn hostile_ticks_are_refused_with_the_field_named() {
        assert!(super::super::decode::<Tick>(&tick_json("7", "189.25", "300")).is_ok());
        let refused =
            |json: Vec<u8>| super::super::decode::<Tick>(&json).map(drop).map_err(|e| e.to_string());
        assert_eq!(
            refused(tick_json("18446744073709551615", "1", "1")),
            Err("an impossible value: seq 18446744073709551615 is outside 1 to 9007199254740991 (2^53 - 1)"
                .into())
        );
        assert_eq!(
            refused(tick_json("7", "1e308", "1")),
            Err("an impossible value: price 1e308 is above the ceiling 1e9".into())
        );
        assert!(matches!(
            refused(tick_json("7", "1", "1e30")),
            Err(m) if m.contains("size 1e30 is above the ceiling 1e12")
        ));
        assert!(matches!(refused(tick_json("7", "1", "-1")), Err(m) if m.contains("size -1")));
        assert!(
            matches!(refused(tick_json("7", "1e400", "1")), Err(m) if m.starts_with("not what its topic"))
        );
        assert!(matches!(
            refused(tick_json("7", "1", "1000000000000000")),
            Err(m) if m.contains("size 1e15 is above the ceiling 1e12")
        ));
    }

    #[test]
    fn a_record_of_ticks_keeps_its_possible_ticks_and_one_tick_is_still_read() {
        let record =
            [tick_json("7", "189.25", "300"), tick_json("8", "1e308", "1"), tick_json("9", "190", "5")];
        let record = format!("[{}]", record.map(|t| String::from_utf8(t).expect("UTF-8")).join(","));
        let read = super::super::decode_ticks(record.as_bytes()).expect("ticks");
        let seqs: Vec<Result<u64, String>> =
            read.into_iter().map(|t| t.map(|t| t.seq).map_err(|e| e.to_string())).collect();
        assert_eq!(seqs, [Ok(7), Err("price 1e308 is above the ceiling 1e9".into()), Ok(9)]);
        // As Marquee wrote them before records carried several ticks.
        let one = super::super::decode_ticks(&tick_json("7", "1", "1")).expect("a tick");
        assert_eq!(one.len(), 1);
        assert!(super::super::decode_ticks(br#"[{"symbol":"AAPL"}]"#).is_err(), "not ticks");
        assert!(super::super::decode_ticks(br#"{"closed":true}"#).is_err(), "not ticks");
        let ticks = [marquee_shared::Tick {
            seq: 3,
            ..serde_json::from_slice(&tick_json("1", "2", "3")).expect("tick")
        }];
        let again =
            super::super::decode_ticks(&super::super::encode_ticks(&ticks).expect("JSON")).expect("ticks");
        assert_eq!(again.into_iter().map(|t| t.expect("valid")).collect::<Vec<_>>(), ticks);
    }

    #[test]
    fn bars_with_impossible_values_are_refused() {
        let bar = |vwap: f64, sma20: Option<f64>| BarRecord {
            closed: true,
            bar: AnalyzedBar {
                bar: OhlcvBar {
                    symbol: "AAPL".into(),
                    interval: BarInterval::OneMinute,
                    start: 1_763_900_000_000_000_000,
                    open: 10.0,
                    high: 11.0,
                    low: 9.0,
                    close: 10.5,
                    volume: 100.0,
                    vwap,
                    trades: 3,
                },
                indicators: Indicators { sma20, ..Indicators::default() },
            },
        };
        let json = |record: BarRecord| serde_json::to_vec(&record).expect("json");
        assert!(super::super::decode::<BarRecord>(&json(bar(10.2, Some(10.0)))).is_ok());
        assert!(super::super::decode::<BarRecord>(&json(bar(1e300, None))).is_err());
        assert!(
            super::super::decode::<BarRecord>(&json(bar(10.2, Some(1e300)))).is_ok(),
            "finite, if absurd"
        );
    }
}
