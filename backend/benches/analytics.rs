//! Throughput of the receiver's per-tick work on one core: dedupe, the
//! sorted bounded buffer (batches are taken, not stored), bars for three
//! intervals, indicators on every closed bar, and anomaly checks, for 100
//! symbols. Prints ticks per second and heap allocations per tick.
//!
//!     taskset -c 0 cargo bench -p marquee --bench analytics
//!
//! The store is left out on purpose: this measures Marquee's own code.

#![expect(clippy::print_stdout, reason = "a bench binary reports on stdout")]

use std::alloc::System;
use std::time::{Duration, Instant};

use marquee::analytics::{Analytics, Output};
use marquee::driver::{RandomWalk, Seed, WalkParams};
use marquee::receiver::buffer::{BufferLimits, Pushed, TickBuffer};
use marquee_shared::Tick;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

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

/// One pass over `ticks`; returns (elapsed, closed bars, alerts).
fn run(ticks: Vec<Tick>) -> (Duration, u64, u64) {
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

fn main() {
    // Warm up (page in, settle the allocator), then measure.
    run(ticks());
    let mut best = f64::MAX;
    let mut rows = Vec::new();
    for _ in 0..5 {
        let input = ticks();
        let n = input.len() as f64;
        let region = Region::new(GLOBAL);
        let (elapsed, bars, alerts) = run(input);
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
}
