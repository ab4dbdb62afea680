//! Store contention benchmark: REST readers while the receiver writes.
//!
//! Starts `marquee serve` (the demo universe of 22 symbols, one tick per
//! symbol every `--tick-interval-ms`: 2,200 ticks/s at the default 10 ms),
//! waits until ticks are stored, then runs N concurrent HTTP readers that
//! cycle through the REST reads a dashboard makes (symbols, daily bars,
//! live bars, recent ticks, alerts, events) for a number of seconds. Prints
//! the readers' requests/s and latency (p50/p99/max, hdrhistogram), failed
//! requests, the ticks the simulation made and the store wrote per second
//! (the receiver's flush rate, from `/metrics`), and the server's CPU.
//!
//! ```sh
//! cargo bench -p marquee --bench store_readers                       # the bench's own build
//! cargo bench -p marquee --bench store_readers -- --marquee /path/to/old/marquee --label before
//! ```

#[path = "fanout/process.rs"]
#[expect(dead_code, reason = "shared with the fan-out bench, which reads memory too")]
mod process;
#[path = "fanout/server.rs"]
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use server::Server;

#[derive(Debug, Parser)]
#[command(about = "REST readers against Marquee's store while the receiver writes")]
struct Args {
    /// The `marquee` binary to run; default: the one cargo built with this bench.
    #[arg(long, env = "MARQUEE_BENCH_BIN")]
    marquee: Option<PathBuf>,
    /// Names the row (e.g. `before`, `after`).
    #[arg(long, default_value = "this build")]
    label: String,
    /// Concurrent REST readers.
    #[arg(long, default_value_t = 20)]
    readers: usize,
    /// Milliseconds between two ticks of a symbol (22 symbols: 10 ms = 2,200 ticks/s).
    #[arg(long, default_value_t = 10)]
    tick_interval_ms: u64,
    /// Seconds measured.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Seconds of streaming (and reading) before measuring.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Symbols whose history the readers ask for (all in the demo universe).
const SYMBOLS: [&str; 4] = ["AAPL", "MSFT", "NVDA", "JPM"];

/// A stage's processed counter from `/metrics`, and when it was read.
async fn processed(client: &reqwest::Client, addr: SocketAddr, stage: &str) -> Option<(f64, Instant)> {
    let text = client.get(format!("http://{addr}/metrics")).send().await.ok()?.text().await.ok()?;
    let prefix = format!("marquee_stage_processed_total{{stage=\"{stage}\"}} ");
    text.lines().find_map(|line| line.strip_prefix(&prefix)?.parse().ok()).map(|n| (n, Instant::now()))
}

fn rate(from: Option<(f64, Instant)>, to: Option<(f64, Instant)>) -> f64 {
    from.zip(to).map_or(f64::NAN, |((a, at_a), (b, at_b))| {
        (b - a) / at_b.duration_since(at_a).as_secs_f64().max(1e-9)
    })
}

/// One reader's tally.
struct Tally {
    latency_us: Histogram<u64>,
    requests: u64,
    failed: u64,
}

/// Reads the REST API in a loop; records only while `measuring`.
async fn reader(
    client: reqwest::Client,
    addr: SocketAddr,
    n: usize,
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Tally> {
    let mut tally =
        Tally { latency_us: Histogram::new_with_bounds(1, 60_000_000, 3)?, requests: 0, failed: 0 };
    let mut i = n;
    while !stop.load(Ordering::Relaxed) {
        let symbol = SYMBOLS[i % SYMBOLS.len()];
        let path = match i % 6 {
            0 => "/api/v1/symbols".to_owned(),
            1 => format!("/api/v1/bars/{symbol}?interval=1d&limit=100"),
            2 => format!("/api/v1/bars/{symbol}?interval=1m&limit=100"),
            3 => format!("/api/v1/ticks/{symbol}?limit=100"),
            4 => "/api/v1/alerts?limit=50".to_owned(),
            _ => "/api/v1/events?limit=50".to_owned(),
        };
        i += 1;
        let started = Instant::now();
        let ok = match client.get(format!("http://{addr}{path}")).send().await {
            Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
            Err(_) => false,
        };
        if measuring.load(Ordering::Relaxed) {
            let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX).max(1);
            tally.latency_us.saturating_record(us);
            tally.requests += 1;
            tally.failed += u64::from(!ok);
        }
    }
    Ok(tally)
}

#[expect(clippy::print_stdout, reason = "the figures are the benchmark's output")]
async fn bench(args: Args) -> anyhow::Result<()> {
    let program = args.marquee.clone().unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_marquee")));
    let server = Server::marquee(&program, args.tick_interval_ms, &[])?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while processed(&client, server.addr, "store").await.is_none_or(|(n, _)| n < 1.0) {
        anyhow::ensure!(Instant::now() < deadline, "no tick stored within 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let (measuring, stop) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let readers: Vec<_> = (0..args.readers)
        .map(|n| {
            let reader = reader(client.clone(), server.addr, n, Arc::clone(&measuring), Arc::clone(&stop));
            tokio::spawn(reader)
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;

    let (made_from, stored_from) =
        (processed(&client, server.addr, "driver").await, processed(&client, server.addr, "store").await);
    let (cpu_from, self_from) = (process::cpu(&server.pid)?, process::cpu("self")?);
    let started = Instant::now();
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu_to, self_to) = (process::cpu(&server.pid)?, process::cpu("self")?);
    let (made_to, stored_to) =
        (processed(&client, server.addr, "driver").await, processed(&client, server.addr, "store").await);
    stop.store(true, Ordering::Relaxed);

    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut requests, mut failed) = (0, 0);
    for reader in readers {
        let tally = reader.await??;
        latency.add(&tally.latency_us)?;
        requests += tally.requests;
        failed += tally.failed;
    }
    let ms = |quantile: f64| latency.value_at_quantile(quantile) as f64 / 1e3;
    println!(
        "| {} | {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {:.1} | {failed} | {:.0} | {:.0} |",
        args.label,
        args.readers,
        rate(made_from, made_to),
        rate(stored_from, stored_to),
        requests as f64 / elapsed,
        ms(0.5),
        ms(0.99),
        latency.max() as f64 / 1e3,
        process::percent(cpu_from, cpu_to),
        process::percent(self_from, self_to),
    );
    Ok(())
}

#[expect(clippy::print_stdout, reason = "the table's header")]
fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    println!(
        "| build | readers | ticks made/s | ticks stored/s | reads/s | read p50 ms | read p99 ms | read max ms | failed reads | server CPU % | load generator CPU % |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(bench(args))
}
