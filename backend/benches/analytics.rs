//! Throughput of the receiver's per-tick work on one core: dedupe, the
//! sorted bounded buffer (batches are taken, not stored), bars for three
//! intervals, indicators on every closed bar, and anomaly checks, for 100
//! symbols. Prints ticks per second and heap allocations per tick.
//!
//! Then the same work side by side with alert delivery on (issue 18): every
//! alert offered to a webhook sink whose receiver never answers, plus a
//! burst of 1,000 alerts every 100,000 ticks; the ratio of the two rates is
//! what delivery costs the receiver.
//!
//!     taskset -c 0 cargo bench -p marquee --bench analytics
//!
//! The store is left out on purpose: this measures Marquee's own code.

#![expect(clippy::print_stdout, reason = "a bench binary reports on stdout")]

use std::alloc::System;
use std::time::{Duration, Instant};

use marquee::analytics::{Analytics, Output};
use marquee::config::Secret;
use marquee::driver::{RandomWalk, Seed, WalkParams};
use marquee::notify::rules::Rules;
use marquee::notify::sink::Transport;
use marquee::notify::webhook::SigningKey;
use marquee::notify::{self, NotifierHandle, NotifyConfig, SinkConfig};
use marquee::receiver::buffer::{BufferLimits, Pushed, TickBuffer};
use marquee_shared::{Alert, AlertKind, Severity, Tick};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const SYMBOLS: usize = 100;
const STEPS: usize = 20_000;
/// Event time between steps: 2 000 steps make 200 s, so bars close.
const STEP_NS: i64 = 100_000_000;

fn ticks() -> Vec<Tick> {
    let seeds = (0..SYMBOLS).map(|i| Seed::at(format!("S{i:03}"), 50.0 + i as f64)).collect();
    let params =
        WalkParams { volatility: 0.4, drift: 0.0, step_secs: 6.0, jump_probability: 0.0005, jump_size: 0.01 };
    let mut walk = RandomWalk::new(seeds, params, 7);
    let start = 1_763_900_000_000_000_000;
    (0..STEPS).flat_map(|step| walk.step(start + step as i64 * STEP_NS)).collect()
}

/// Alerts offered to `notify` every this many ticks, a burst of 1,000.
const BURST_EVERY: usize = 100_000;

/// One pass over `ticks`, offering the alerts to `notify` if given;
/// returns (elapsed, closed bars, alerts).
fn run(ticks: Vec<Tick>, notify: Option<&(NotifierHandle, Vec<Alert>)>) -> (Duration, u64, u64) {
    let limits = BufferLimits { capacity: 10_000, batch: 5_000, max_age: Duration::from_millis(250) };
    let mut buffer = TickBuffer::new(limits);
    let mut analytics = Analytics::default();
    let mut output = Output::default();
    let (mut bars, mut alerts) = (0, 0);
    let started = Instant::now();
    let mut now = started;
    for (i, tick) in ticks.into_iter().enumerate() {
        // The receiver reads the clock once per input batch (one step here).
        if i % SYMBOLS == 0 {
            now = Instant::now();
        }
        if buffer.is_duplicate(&tick) {
            continue;
        }
        analytics.on_tick(&tick, &mut output);
        if let Pushed::Full(tick) = buffer.push(tick, now) {
            std::hint::black_box(buffer.take());
            buffer.push(tick, now);
        }
        if buffer.should_flush(now) {
            std::hint::black_box(buffer.take());
        }
        if let Some((notify, burst)) = notify {
            notify.offer(&output.alerts);
            if i % BURST_EVERY == 0 {
                notify.offer(burst);
            }
        }
        if !output.bars.is_empty() || !output.alerts.is_empty() {
            bars += output.bars.len() as u64;
            alerts += output.alerts.len() as u64;
            output.bars.clear();
            output.alerts.clear();
        }
    }
    std::hint::black_box(buffer.take());
    (started.elapsed(), bars, alerts)
}

/// A notifier whose one sink posts to a port that takes connections but
/// never answers (the kernel's backlog), so every delivery hangs until its
/// timeout and the queue fills; and a burst of 1,000 alerts.
fn stuck_notifier(runtime: &tokio::runtime::Runtime) -> (NotifierHandle, Vec<Alert>, std::net::TcpListener) {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hook", silent.local_addr().expect("addr"));
    let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("key");
    let sink = SinkConfig {
        name: "stuck".into(),
        rules: Rules { min_severity: Severity::Info, cooldown: Duration::ZERO, ..Rules::default() },
        transport: Transport::Webhook { url: Secret::new(url), key },
    };
    let config = NotifyConfig { sinks: vec![sink], ..NotifyConfig::default() };
    let _entered = runtime.enter();
    let notify = notify::spawn(&config, None, &TaskTracker::new(), &CancellationToken::new())
        .expect("spawn")
        .expect("a sink");
    let burst = (0..1_000)
        .map(|i| Alert {
            symbol: format!("B{i}"),
            kind: AlertKind::PriceJump,
            severity: Severity::Critical,
            value: 5.0,
            threshold: 4.0,
            ts: 0,
        })
        .collect();
    (notify, burst, silent)
}

fn main() {
    // Warm up (page in, settle the allocator), then measure.
    run(ticks(), None);
    let mut best = f64::MAX;
    let mut rows = Vec::new();
    for _ in 0..5 {
        let input = ticks();
        let n = input.len() as f64;
        let region = Region::new(GLOBAL);
        let (elapsed, bars, alerts) = run(input, None);
        let stats = region.change();
        let per_tick_ns = elapsed.as_nanos() as f64 / n;
        best = best.min(per_tick_ns);
        rows.push((n / elapsed.as_secs_f64(), stats.allocations as f64 / n, bars, alerts));
    }
    println!("analytics pipeline: {SYMBOLS} symbols, {} ticks per run, 5 runs", SYMBOLS * STEPS);
    for (i, (rate, allocs, bars, alerts)) in rows.iter().enumerate() {
        println!(
            "  run {}: {:>12.0} ticks/s   {:.3} allocations/tick   {bars} bars closed, {alerts} alerts",
            i + 1,
            rate,
            allocs
        );
    }
    println!("best: {:.0} ticks/s ({best:.1} ns/tick)", 1e9 / best);
    with_delivery();
}

/// The same passes with and without alert delivery, alternating.
fn with_delivery() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let (notify, burst, _silent) = stuck_notifier(&runtime);
    let delivering = (notify, burst);
    let (mut plain, mut with) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        let input = ticks();
        let n = input.len() as f64;
        plain = plain.min(run(input, None).0.as_nanos() as f64 / n);
        let input = ticks();
        with = with.min(run(input, Some(&delivering)).0.as_nanos() as f64 / n);
    }
    let figures = delivering.0.figures().remove(0);
    println!(
        "with alert delivery (a sink that never answers, 1,000-alert bursts every {BURST_EVERY} ticks), 5 runs each, alternating:"
    );
    println!("  without: {:.0} ticks/s ({plain:.1} ns/tick)", 1e9 / plain);
    println!("  with:    {:.0} ticks/s ({with:.1} ns/tick)", 1e9 / with);
    println!(
        "  ratio: {:.3}; the sink: {} queued, {} dropped, {} delivered",
        plain / with,
        figures.queued,
        figures.dropped,
        figures.delivered
    );
}
