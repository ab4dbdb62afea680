//! The plain baseline: a raw rdkafka producer with Marquee's settings
//! (idempotent, `acks=all`, linger 5 ms) sending ticks as fast as the
//! broker confirms them, and a raw consumer group reading them back.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use marquee_shared::Tick;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::process;

/// Messages per second and the broker's CPU (percent of one core) meanwhile.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_second: f64,
    pub broker_cpu: f64,
}

/// A realistic tick of the demo universe's `i`-th symbol (about 150 bytes of JSON).
pub fn tick(symbols: &[&str], i: u64) -> Tick {
    let symbol = symbols[(i % symbols.len() as u64) as usize];
    Tick {
        symbol: symbol.to_owned(),
        seq: i / symbols.len() as u64 + 1,
        ts: 1_764_000_000_000_000_000 + i as i64,
        price: 187.4213,
        size: 300.0,
        change: -1.2345,
        change_pct: -0.6543,
    }
}

/// Sends `count` ticks keyed by symbol, at most `in_flight` unconfirmed.
pub async fn produce(
    brokers: &str,
    topic: &str,
    symbols: &[&str],
    count: u64,
    in_flight: usize,
    broker_pid: &str,
) -> anyhow::Result<Rate> {
    let producer: FutureProducer =
        producer_config(brokers).set("queue.buffering.max.messages", in_flight.to_string()).create()?;
    let payloads: Vec<(String, Vec<u8>)> = (0..count)
        .map(|i| {
            let t = tick(symbols, i);
            Ok((t.symbol.clone(), serde_json::to_vec(&t)?))
        })
        .collect::<anyhow::Result<_>>()?;
    let cpu = process::cpu(broker_pid)?;
    let started = Instant::now();
    let mut pending = FuturesUnordered::new();
    for (key, payload) in &payloads {
        loop {
            match producer.send_result(FutureRecord::to(topic).key(key).payload(payload)) {
                Ok(delivery) => {
                    pending.push(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    if let Some(done) = pending.next().await {
                        anyhow::ensure!(matches!(done, Ok(Ok(_))), "a delivery failed: {done:?}");
                    }
                }
                Err((err, _)) => anyhow::bail!("cannot queue: {err}"),
            }
            while pending.len() >= in_flight {
                if let Some(done) = pending.next().await {
                    anyhow::ensure!(matches!(done, Ok(Ok(_))), "a delivery failed: {done:?}");
                }
            }
        }
    }
    while let Some(done) = pending.next().await {
        anyhow::ensure!(matches!(done, Ok(Ok(_))), "a delivery failed: {done:?}");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let broker_cpu = process::percent(cpu, process::cpu(broker_pid)?);
    Ok(Rate { per_second: count as f64 / elapsed, broker_cpu })
}

/// Reads `count` messages of `topic` from the start in a new group.
pub async fn consume(brokers: &str, topic: &str, count: u64, broker_pid: &str) -> anyhow::Result<Rate> {
    let consumer: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("bench-raw-{}", uuid::Uuid::new_v4().simple()))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "20")
        .set("session.timeout.ms", "6000")
        .create()?;
    consumer.subscribe(&[topic])?;
    // The clock starts at the first message: joining the group is not reading.
    let first = tokio::time::timeout(Duration::from_secs(60), consumer.recv()).await??;
    drop(first);
    let cpu = process::cpu(broker_pid)?;
    let started = Instant::now();
    let mut read = 1;
    while read < count {
        tokio::time::timeout(Duration::from_secs(30), consumer.recv()).await??;
        read += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let broker_cpu = process::percent(cpu, process::cpu(broker_pid)?);
    Ok(Rate { per_second: (count - 1) as f64 / elapsed, broker_cpu })
}

/// Event time to read, through the broker, for a raw producer sending
/// `rate` ticks/s (stamped as sent) and a raw consumer reading them: the
/// floor a tick's trip through this broker has at that rate, whatever the
/// client. The consumer asks the broker to hold a fetch `fetch_wait_ms` at
/// most. Percentiles in ms over `seconds`, after one second unmeasured.
pub async fn round_trip(
    brokers: &str,
    topic: &str,
    symbols: &[&str],
    rate: u64,
    fetch_wait_ms: u32,
    seconds: u64,
) -> anyhow::Result<(f64, f64)> {
    let consumer: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("bench-raw-{}", uuid::Uuid::new_v4().simple()))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", fetch_wait_ms.to_string())
        .create()?;
    let mut partitions = rdkafka::TopicPartitionList::new();
    for partition in 0..3 {
        partitions.add_partition_offset(topic, partition, rdkafka::Offset::End)?;
    }
    consumer.assign(&partitions)?;
    let producer: FutureProducer = producer_config(brokers).create()?;
    // Let the consumer find its partitions' ends before anything is sent.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let total = rate * (seconds + 1);
    let reading = tokio::spawn(async move {
        let mut ages = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)?;
        let mut read = 0;
        while read < total {
            let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv()).await??;
            read += 1;
            let tick: Tick = serde_json::from_slice(rdkafka::Message::payload(&message).unwrap_or_default())?;
            if tick.seq > rate {
                ages.saturating_record(((now_ns() - tick.ts) / 1_000).max(1) as u64);
            }
        }
        anyhow::Ok(ages)
    });
    let mut pace = tokio::time::interval(Duration::from_millis(1));
    let per_ms = rate / 1000;
    let mut pending = FuturesUnordered::new();
    for i in 0..total / per_ms {
        pace.tick().await;
        for j in 0..per_ms {
            let mut t = tick(symbols, i * per_ms + j);
            // seq counts every tick sent, so the first second can be skipped.
            t.seq = i * per_ms + j + 1;
            t.ts = now_ns();
            let payload = serde_json::to_vec(&t)?;
            let delivery = producer
                .send_result(FutureRecord::to(topic).key(&t.symbol).payload(&payload))
                .map_err(|(err, _)| err)?;
            pending.push(delivery);
        }
        while let Some(Some(done)) = futures_util::FutureExt::now_or_never(pending.next()) {
            anyhow::ensure!(matches!(done, Ok(Ok(_))), "a delivery failed: {done:?}");
        }
    }
    let ages = reading.await??;
    let ms = |q: f64| ages.value_at_quantile(q) as f64 / 1000.0;
    Ok((ms(0.5), ms(0.99)))
}

fn now_ns() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    since.as_nanos() as i64
}

/// Marquee's producer settings: idempotent, `acks=all`, linger 5 ms, never
/// timing a message out.
fn producer_config(brokers: &str) -> rdkafka::ClientConfig {
    let mut config = rdkafka::ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "0");
    config
}
