//! Fan-out benchmark: `marquee serve` against a plain tokio `broadcast`
//! WebSocket server (see `plain.rs`), under the same load, in the same run,
//! so every figure is also a ratio. Each scenario starts a fresh server
//! process, connects the clients, warms up, then measures: ticks delivered
//! per second, tick age at arrival (p50/p99/max, hdrhistogram), seq gaps per
//! client, `lagged` notices, bytes per delivered tick, the server's CPU (also
//! alone, before any client connects, so the fan-out's own share per tick is
//! shown apart from the work the server does anyway) and peak RSS, and this
//! load generator's own CPU (it shares the 2 cores).
//!
//! ```sh
//! cargo bench -p marquee --bench fanout                      # every scenario
//! cargo bench -p marquee --bench fanout -- --scenario 100c-2200 --seconds 5
//! ```

mod load;
mod plain;
mod process;
mod server;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use server::Server;

#[derive(Debug, Parser)]
#[command(about = "Marquee's WebSocket fan-out against a plain broadcast server")]
struct Args {
    /// Run as the plain baseline server (the benchmark starts itself so).
    #[arg(long, hide = true)]
    plain_server: bool,
    #[arg(long, hide = true, default_value = "127.0.0.1:0")]
    listen: String,
    #[arg(long, hide = true, default_value_t = 100)]
    tick_interval_ms: u64,
    /// Scenarios to run (repeatable); default: all, then the memory check.
    #[arg(long)]
    scenario: Vec<String>,
    /// Seconds measured per scenario and server.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds between connecting the clients and measuring.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

/// How long the server's CPU is measured with no client, before each scenario.
const ALONE: Duration = Duration::from_secs(5);

/// How long the memory check lets the server run before its idle figure:
/// Marquee's resume history (3,000 ticks per symbol, 100 ticks/s per symbol
/// here) and other windows fill in 30 s, and they are not the clients' memory.
const STEADY: Duration = Duration::from_secs(40);

/// Symbols streamed (the demo universe).
const SYMBOLS: usize = 22;

#[derive(Debug, Clone, Copy)]
struct Scenario {
    name: &'static str,
    clients: usize,
    interval_ms: u64,
    stalled: usize,
}

const SCENARIOS: [Scenario; 7] = [
    Scenario { name: "100c-220", clients: 100, interval_ms: 100, stalled: 0 },
    Scenario { name: "1000c-220", clients: 1_000, interval_ms: 100, stalled: 0 },
    Scenario { name: "100c-2200", clients: 100, interval_ms: 10, stalled: 0 },
    Scenario { name: "1000c-2200", clients: 1_000, interval_ms: 10, stalled: 0 },
    Scenario { name: "1000c-2200+10stalled", clients: 1_000, interval_ms: 10, stalled: 10 },
    Scenario { name: "100c-22000", clients: 100, interval_ms: 1, stalled: 0 },
    Scenario { name: "1000c-22000", clients: 1_000, interval_ms: 1, stalled: 0 },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Marquee,
    Plain,
}

impl Server {
    fn start(kind: Kind, interval_ms: u64) -> anyhow::Result<Self> {
        match kind {
            Kind::Marquee => Server::marquee(
                std::path::Path::new(env!("CARGO_BIN_EXE_marquee")),
                interval_ms,
                &["--max-connections-per-ip", "100000"],
            ),
            Kind::Plain => {
                let mut command = Command::new(std::env::current_exe()?);
                command.args(["--plain-server", "--tick-interval-ms", &interval_ms.to_string()]);
                Server::spawn(command, tempfile::tempdir()?)
            }
        }
    }
}

/// One server's figures in one scenario.
#[derive(Debug)]
struct Figures {
    delivered_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    gaps_per_client: f64,
    lagged: u64,
    dropped_clients: usize,
    bytes_per_tick: f64,
    server_cpu: f64,
    /// The server's CPU with no client connected: its own work (Marquee's
    /// whole pipeline; the plain server's random walk).
    alone_cpu: f64,
    cpu_us_per_1k: f64,
    /// CPU per delivered tick above what the server uses alone: the fan-out.
    fanout_us_per_1k: f64,
    peak_rss_mib: f64,
    loadgen_cpu: f64,
    /// Ticks the simulation made per second while measuring (Marquee only).
    made_per_s: Option<f64>,
}

async fn measure(kind: Kind, scenario: Scenario, args: &Args) -> anyhow::Result<Figures> {
    let server = Server::start(kind, scenario.interval_ms)?;
    load::wait_for_ticks(server.addr, Duration::from_secs(30)).await?;
    let alone_from = process::cpu(&server.pid)?;
    tokio::time::sleep(ALONE).await;
    let alone_cpu = process::percent(alone_from, process::cpu(&server.pid)?);
    let stalled = load::stalled(server.addr, scenario.stalled).await?;
    let measuring = Arc::new(AtomicBool::new(false));
    let clients = load::Clients::connect(server.addr, scenario.clients, Arc::clone(&measuring)).await?;
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;

    let made_from = made(kind, server.addr).await;
    let (server_from, self_from) = (process::cpu(&server.pid)?, process::cpu("self")?);
    let started = Instant::now();
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let (server_to, self_to) = (process::cpu(&server.pid)?, process::cpu("self")?);
    let made_to = made(kind, server.addr).await;
    let (_, peak_rss_mib) = process::memory(&server.pid)?;
    let seen = clients.finish().await;
    drop(stalled);

    let mut latency = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)?;
    let (mut ticks, mut bytes, mut gaps, mut lagged) = (0u64, 0u64, 0u64, 0u64);
    for client in &seen {
        latency.add(&client.latency)?;
        ticks += client.ticks;
        bytes += client.bytes;
        gaps += client.gaps;
        lagged += client.lagged;
    }
    let busy = process::seconds(server_from, server_to);
    let fanout = (busy - alone_cpu / 100.0 * elapsed).max(0.0);
    let per_1k = |seconds: f64| seconds * 1e6 / (ticks.max(1) as f64 / 1e3);
    let ms = |quantile: f64| latency.value_at_quantile(quantile) as f64 / 1e3;
    Ok(Figures {
        delivered_per_s: ticks as f64 / elapsed,
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
        max_ms: latency.max() as f64 / 1e3,
        gaps_per_client: gaps as f64 / seen.len().max(1) as f64,
        lagged,
        dropped_clients: seen.iter().filter(|c| c.dropped).count(),
        bytes_per_tick: bytes as f64 / ticks.max(1) as f64,
        server_cpu: process::percent(server_from, server_to),
        alone_cpu,
        cpu_us_per_1k: per_1k(busy),
        fanout_us_per_1k: per_1k(fanout),
        peak_rss_mib,
        loadgen_cpu: process::percent(self_from, self_to),
        made_per_s: made_from.zip(made_to).map(|((from, at_from), (to, at_to))| {
            (to - from) / at_to.duration_since(at_from).as_secs_f64().max(1e-9)
        }),
    })
}

/// Ticks Marquee's simulation has made so far, from its `/metrics`, and when
/// the answer came (a loaded server may take a while to answer).
async fn made(kind: Kind, addr: SocketAddr) -> Option<(f64, Instant)> {
    if kind != Kind::Marquee {
        return None;
    }
    let text = reqwest::get(format!("http://{addr}/metrics")).await.ok()?.text().await.ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("marquee_stage_processed_total{stage=\"driver\"} ")?.parse().ok())
        .map(|made| (made, Instant::now()))
}

/// Memory after a crowd leaves: idle, with 1,000 clients, and 30 s after they go.
async fn memory_return(kind: Kind, args: &Args) -> anyhow::Result<(f64, f64, f64)> {
    let server = Server::start(kind, 10)?;
    load::wait_for_ticks(server.addr, Duration::from_secs(30)).await?;
    tokio::time::sleep(STEADY).await;
    let (idle, _) = process::memory(&server.pid)?;
    let clients = load::Clients::connect(server.addr, 1_000, Arc::new(AtomicBool::new(false))).await?;
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let (crowded, _) = process::memory(&server.pid)?;
    drop(clients.finish().await);
    tokio::time::sleep(Duration::from_secs(30)).await;
    let (after, _) = process::memory(&server.pid)?;
    Ok((idle, crowded, after))
}

fn row(name: &str, kind: Kind, f: &Figures) -> String {
    format!(
        "| {name} | {kind:?} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {:.1} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {:.1} |",
        f.made_per_s.map_or("–".to_owned(), |made| format!("{made:.0}")),
        f.delivered_per_s,
        f.p50_ms,
        f.p99_ms,
        f.max_ms,
        f.gaps_per_client,
        f.lagged,
        f.dropped_clients,
        f.bytes_per_tick,
        f.server_cpu,
        f.alone_cpu,
        f.cpu_us_per_1k,
        f.fanout_us_per_1k,
        f.peak_rss_mib,
        f.loadgen_cpu,
    )
}

fn ratio_row(name: &str, m: &Figures, p: &Figures) -> String {
    let r = |a: f64, b: f64| if b > 0.0 { format!("{:.2}×", a / b) } else { "–".to_owned() };
    format!(
        "| {name} | Marquee / plain | | {} | {} | {} | {} | | | | {} | {} | {} | {} | {} | {} | |",
        r(m.delivered_per_s, p.delivered_per_s),
        r(m.p50_ms, p.p50_ms),
        r(m.p99_ms, p.p99_ms),
        r(m.max_ms, p.max_ms),
        r(m.bytes_per_tick, p.bytes_per_tick),
        r(m.server_cpu, p.server_cpu),
        r(m.alone_cpu, p.alone_cpu),
        r(m.cpu_us_per_1k, p.cpu_us_per_1k),
        r(m.fanout_us_per_1k, p.fanout_us_per_1k),
        r(m.peak_rss_mib, p.peak_rss_mib),
    )
}

#[expect(clippy::print_stdout, reason = "the figures are the benchmark's output")]
async fn bench(args: Args) -> anyhow::Result<()> {
    let chosen: Vec<Scenario> = SCENARIOS
        .into_iter()
        .filter(|s| args.scenario.is_empty() || args.scenario.iter().any(|name| name == s.name))
        .collect();
    println!(
        "Fan-out: {SYMBOLS} symbols; {} s measured after {} s of warm-up per scenario and server.\n",
        args.seconds, args.warmup
    );
    println!(
        "| scenario | server | ticks made/s | delivered ticks/s | p50 ms | p99 ms | max ms | gaps/client | lagged | clients cut | bytes/tick | server CPU % | alone CPU % | server CPU µs per 1k ticks | fan-out CPU µs per 1k ticks | peak RSS MiB | load generator CPU % |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for scenario in chosen {
        eprintln!("scenario {} ...", scenario.name);
        let marquee = measure(Kind::Marquee, scenario, &args).await?;
        let plain = measure(Kind::Plain, scenario, &args).await?;
        println!("{}", row(scenario.name, Kind::Marquee, &marquee));
        println!("{}", row(scenario.name, Kind::Plain, &plain));
        println!("{}", ratio_row(scenario.name, &marquee, &plain));
    }
    if args.scenario.is_empty() || args.scenario.iter().any(|name| name == "memory") {
        eprintln!("memory after 1,000 clients leave ...");
        println!(
            "\n| memory (2,200 ticks/s) | RSS idle MiB | with 1,000 clients | 30 s after they left | after / idle |"
        );
        println!("|---|---|---|---|---|");
        for kind in [Kind::Marquee, Kind::Plain] {
            let (idle, crowded, after) = memory_return(kind, &args).await?;
            println!("| {kind:?} | {idle:.1} | {crowded:.1} | {after:.1} | {:.2}× |", after / idle.max(1e-9));
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if args.plain_server {
        let interval = Duration::from_millis(args.tick_interval_ms);
        return runtime.block_on(plain::serve(&args.listen, SYMBOLS, interval));
    }
    runtime.block_on(bench(args))
}
