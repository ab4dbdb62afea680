//! The Kafka path at broker speed (issue 15): on one Tansu broker, in one
//! run, a raw rdkafka producer and consumer (the plain baseline, with
//! Marquee's producer settings, one tick a message), the raw round trip at
//! 10,000 ticks/s (the broker's own latency floor), then Marquee split
//! across processes (`ingest,driver` → Kafka → `receiver`, and → `gateway`
//! → one WebSocket client) with one tick a record and with records of up
//! to 256 ticks (the default), at 2,200 and 10,000 ticks/s asked and at
//! the most the driver can be asked.
//! Every figure is measured: rates from counters over the window, tick age
//! at the receiver from its own histogram (`/health`), at the gateway from a
//! WebSocket client (event time to arrival), CPU from `/proc`.
//!
//! ```sh
//! cargo bench -p marquee --features kafka --bench kafka_path
//! cargo bench -p marquee --features kafka --bench kafka_path -- --seconds 10 --rate 10000
//! ```

#![expect(clippy::print_stdout, reason = "the figures are the benchmark's output")]

#[allow(dead_code)]
#[path = "../fanout/load.rs"]
mod load;
#[allow(dead_code)]
#[path = "../fanout/plain.rs"]
mod plain;
#[allow(dead_code)]
#[path = "../fanout/process.rs"]
mod process;

mod broker;
mod raw;
mod split;
#[path = "../../tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use marquee_shared::Latency;

#[derive(Debug, Parser)]
#[command(about = "Marquee's Kafka path against a raw rdkafka client on the same broker")]
struct Args {
    /// Seconds measured per rate (the receiver's latency window is 10 s).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds at a new rate before measuring.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Messages the raw producer sends (and the raw consumer reads).
    #[arg(long, default_value_t = 300_000)]
    messages: u64,
    /// Rates asked of the driver, ticks/s (repeatable); `max` asks for
    /// 220,000/s, beyond what this path carries. Default: 2200, 10000, max.
    #[arg(long)]
    rate: Vec<String>,
    /// The Tansu binary (default: `MARQUEE_TEST_TANSU` or ~/.cache/marquee/tansu/bin/tansu).
    #[arg(long)]
    tansu: Option<PathBuf>,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Ticks/s asked at speed 1: the demo universe's symbols at `--tick-interval-ms 10`.
fn base_rate() -> f64 {
    marquee::sources::demo_universe::SYMBOLS.len() as f64 * 100.0
}

/// One measured rate of the Marquee path.
struct Row {
    variant: &'static str,
    asked: String,
    made: f64,
    received: f64,
    /// Kafka records the receiver read per second (a record carries the
    /// ticks of one partition's symbols).
    records: f64,
    receiver_age: Option<Latency>,
    gateway_p50_ms: f64,
    gateway_p99_ms: f64,
    gateway_ticks: f64,
    gaps: u64,
    cpu: [f64; 4],
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let broker = broker::Broker::start(args.tansu.clone()).await?;
    println!("broker: Tansu on {} (SQLite storage)", broker.address);

    let raw_topic = "raw.ticks".to_owned();
    broker.create_topics(std::slice::from_ref(&raw_topic), 3).await?;
    let symbols: Vec<&str> = marquee::sources::demo_universe::SYMBOLS.iter().map(|s| s.ticker).collect();
    let produced =
        raw::produce(&broker.address, &raw_topic, &symbols, args.messages, 20_000, &broker.pid()).await?;
    println!(
        "raw producer: {} messages in flight at most 20,000: {:.0}/s (broker CPU {:.0} %)",
        args.messages, produced.per_second, produced.broker_cpu
    );
    let consumed = raw::consume(&broker.address, &raw_topic, args.messages, &broker.pid()).await?;
    println!("raw consumer: {:.0}/s (broker CPU {:.0} %)", consumed.per_second, consumed.broker_cpu);
    let mut trips = Vec::new();
    for fetch_wait_ms in [20, 1] {
        let (p50, p99) =
            raw::round_trip(&broker.address, &raw_topic, &symbols, 10_000, fetch_wait_ms, args.seconds)
                .await?;
        println!(
            "raw producer → consumer at 10,000 ticks/s, fetch wait {fetch_wait_ms} ms: age p50 {p50:.1} ms, p99 {p99:.1} ms"
        );
        trips.push((fetch_wait_ms, p50, p99));
    }

    let rates = if args.rate.is_empty() {
        vec!["2200".into(), "10000".into(), "max".into()]
    } else {
        args.rate.clone()
    };
    let mut rows = Vec::new();
    for variant in VARIANTS {
        let topics: Vec<String> = ["ticks", "bars", "alerts", "heartbeats"]
            .iter()
            .map(|t| format!("{}.{t}", variant.prefix))
            .collect();
        broker.create_topics(&topics, 3).await?;
        let split = split::Split::start(&broker.address, variant.prefix, variant.args)?;
        let gateway: SocketAddr =
            split.gateway.url.trim_start_matches("http://").parse().context("gateway address")?;
        load::wait_for_ticks(gateway, Duration::from_secs(60)).await?;
        let variant_rates =
            variant.rates.map_or(rates.clone(), |only| only.iter().map(|r| (*r).to_owned()).collect());
        for rate in &variant_rates {
            let speed = match rate.as_str() {
                "max" => 100.0,
                asked => asked.parse::<f64>().context("--rate: a number or max")? / base_rate(),
            };
            split.set_speed(speed).await?;
            let row = measure(&split, &broker, gateway, variant.name, rate, &args).await?;
            print_row(&row);
            rows.push(row);
        }
    }

    println!();
    println!("| path | ticks/s | of the raw producer's messages/s |");
    println!("|---|---|---|");
    println!(
        "| raw rdkafka producer, one tick a message (idempotent, acks=all, linger 5 ms, 20,000 in flight) | {:.0} | 100 % |",
        produced.per_second
    );
    println!(
        "| raw rdkafka consumer group | {:.0} | {:.0} % |",
        consumed.per_second,
        consumed.per_second / produced.per_second * 100.0
    );
    for row in rows.iter().filter(|row| row.asked == "max") {
        println!(
            "| Marquee driver → Kafka → receiver, {}, at \"max\" | {:.0} | {:.0} % |",
            row.variant,
            row.received,
            row.received / produced.per_second * 100.0
        );
    }
    println!();
    println!("| at 10,000 ticks/s | age p50 ms | age p99 ms |");
    println!("|---|---|---|");
    for (fetch_wait_ms, p50, p99) in &trips {
        println!(
            "| raw rdkafka producer → raw consumer, fetch wait {fetch_wait_ms} ms (sent to read) | {p50:.1} | {p99:.1} |"
        );
    }
    for row in rows.iter().filter(|row| row.asked == "10000") {
        let (rp50, rp99) = row.receiver_age.as_ref().map_or((f64::NAN, f64::NAN), |l| (l.p50_ms, l.p99_ms));
        println!(
            "| Marquee, {}: driver → receiver (made to analysed) | {rp50:.1} | {rp99:.1} |",
            row.variant
        );
        println!(
            "| Marquee, {}: driver → gateway → WebSocket client (made to arrival) | {:.1} | {:.1} |",
            row.variant, row.gateway_p50_ms, row.gateway_p99_ms
        );
    }
    println!();
    println!(
        "| Marquee | asked ticks/s | made/s | received/s | Kafka records/s | receiver age p50 / p99 ms | gateway client ticks/s | gateway age p50 / p99 ms | gaps | CPU % broker / driver / receiver / gateway |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        let (rp50, rp99) = row.receiver_age.as_ref().map_or((f64::NAN, f64::NAN), |l| (l.p50_ms, l.p99_ms));
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.1} / {:.1} | {:.0} | {:.1} / {:.1} | {} | {:.0} / {:.0} / {:.0} / {:.0} |",
            row.variant,
            row.asked,
            row.made,
            row.received,
            row.records,
            rp50,
            rp99,
            row.gateway_ticks,
            row.gateway_p50_ms,
            row.gateway_p99_ms,
            row.gaps,
            row.cpu[0],
            row.cpu[1],
            row.cpu[2],
            row.cpu[3]
        );
    }
    Ok(())
}

/// One way to run Marquee's path, measured side by side with the others.
struct Variant {
    name: &'static str,
    /// Topic prefix: each variant has topics of its own.
    prefix: &'static str,
    args: &'static [&'static str],
    /// Rates measured, if not all of them.
    rates: Option<&'static [&'static str]>,
}

const VARIANTS: [Variant; 3] = [
    Variant {
        name: "one tick a record",
        prefix: "bench-one",
        args: &["--kafka-record-ticks", "1"],
        rates: None,
    },
    Variant { name: "records of up to 256 ticks (default)", prefix: "bench-records", args: &[], rates: None },
    Variant {
        name: "records, consumers' fetch wait 1 ms",
        prefix: "bench-records-wait-1",
        args: &["--kafka-consumer-options", "fetch.wait.max.ms=1"],
        rates: Some(&["10000"]),
    },
];

async fn measure(
    split: &split::Split,
    broker: &broker::Broker,
    gateway: SocketAddr,
    variant: &'static str,
    rate: &str,
    args: &Args,
) -> anyhow::Result<Row> {
    let measuring = Arc::new(AtomicBool::new(false));
    let clients = load::Clients::connect(gateway, 1, Arc::clone(&measuring)).await?;
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let pids = [broker.pid(), split.driver.pid(), split.receiver.pid(), split.gateway.pid()];
    let cpu_before = pids.iter().map(|p| process::cpu(p)).collect::<anyhow::Result<Vec<_>>>()?;
    let made_before = split.driver.stage("driver").await?.processed;
    let receiver_before = split.receiver.stage("receiver").await?;
    let started = Instant::now();
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let made = split.driver.stage("driver").await?.processed - made_before;
    let receiver = split.receiver.stage("receiver").await?;
    let cpu_after = pids.iter().map(|p| process::cpu(p)).collect::<anyhow::Result<Vec<_>>>()?;
    let seen = clients.finish().await;
    let client = seen.first().context("the gateway client ended early")?;
    let quantile = |q: f64| client.latency.value_at_quantile(q) as f64 / 1000.0;
    let mut cpu = [0.0; 4];
    for (i, (before, after)) in cpu_before.into_iter().zip(cpu_after).enumerate() {
        cpu[i] = process::percent(before, after);
    }
    Ok(Row {
        variant,
        asked: rate.to_owned(),
        made: made as f64 / elapsed,
        received: (receiver.processed - receiver_before.processed) as f64 / elapsed,
        records: (receiver.batched.unwrap_or(0) - receiver_before.batched.unwrap_or(0)) as f64 / elapsed,
        receiver_age: receiver.latency,
        gateway_p50_ms: quantile(0.5),
        gateway_p99_ms: quantile(0.99),
        gateway_ticks: client.ticks as f64 / elapsed,
        gaps: client.gaps,
        cpu,
    })
}

fn print_row(row: &Row) {
    println!(
        "{}, asked {}: made {:.0}/s, received {:.0}/s in {:.0} records/s, receiver age {:?}, gateway client {:.0}/s age p50 {:.1} ms p99 {:.1} ms, gaps {}, CPU % {:?}",
        row.variant,
        row.asked,
        row.made,
        row.received,
        row.records,
        row.receiver_age,
        row.gateway_ticks,
        row.gateway_p50_ms,
        row.gateway_p99_ms,
        row.gaps,
        row.cpu
    );
}
