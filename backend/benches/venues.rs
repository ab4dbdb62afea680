//! Frame → normalised tick, per venue, on one core: the venue's protocol
//! reads a text frame as it came off the socket (`Protocol::read`) and the
//! feed's book turns the trade into a Marquee `Tick` (repeat check by
//! trade id, seq, change). Beside it, in the same run, the plain baseline:
//! `serde_json::from_str::<serde_json::Value>` of the same frames (an
//! untyped parse that makes no tick). Prints ns per frame, frames per
//! second, the ratio to the baseline, and heap allocations per frame.
//!
//!     taskset -c 0 cargo bench -p marquee --bench venues
//!
//! Anchor: nautilus_trader reports about 0.74 µs from a raw frame to a
//! trade in its Rust adapters.

#![expect(clippy::print_stdout, reason = "a bench binary reports on stdout")]

use std::alloc::System;
use std::hint::black_box;
use std::time::{Duration, Instant};

use marquee::config::Secret;
use marquee::sources::feed::{FeedBook, Outcome, Resume};
use marquee::sources::venues::alpaca::Alpaca;
use marquee::sources::venues::binance::Binance;
use marquee::sources::venues::coinbase::Coinbase;
use marquee::sources::venues::finnhub::Finnhub;
use marquee::sources::venues::{Message, Protocol};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Frames per pass: each a distinct trade, so none is dropped as a repeat.
const FRAMES: u64 = 200_000;
const PASSES: usize = 5;

struct Case {
    name: &'static str,
    protocol: Box<dyn Protocol>,
    /// The venue's symbol and the one Marquee shows.
    symbol: &'static str,
    frame: fn(u64) -> String,
}

/// One trade per frame, in the shape of each venue's documented example
/// (`backend/tests/fixtures/venues/`), the id and price moving.
fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "Coinbase match",
            protocol: Box::new(Coinbase::new(vec!["BTC-USD".into()])),
            symbol: "BTC-USD",
            frame: |i| {
                format!(
                    r#"{{"type":"match","trade_id":{i},"sequence":{},"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8","taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","time":"2024-05-01T12:00:00.{:06}Z","product_id":"BTC-USD","size":"0.01","price":"{}.5","side":"sell"}}"#,
                    i + 100,
                    i % 1_000_000,
                    60_000 + i % 1000
                )
            },
        },
        Case {
            name: "Binance trade (combined stream)",
            protocol: Box::new(Binance::new(vec!["BTCUSDT".into()])),
            symbol: "BTCUSDT",
            frame: |i| {
                format!(
                    r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":{i},"p":"{}.83","q":"0.00120","T":{},"m":false,"M":true}}}}"#,
                    16_000 + i % 1000,
                    1_672_515_782_134 + i
                )
            },
        },
        Case {
            name: "Finnhub trade",
            protocol: Box::new(Finnhub::new(vec!["AAPL".into()], Some(Secret::new("bench")))),
            symbol: "AAPL",
            frame: |i| {
                format!(
                    r#"{{"type":"trade","data":[{{"c":["1","12"],"p":{}.11,"s":"AAPL","t":{},"v":100}}]}}"#,
                    100 + i % 100,
                    1_672_348_887_195 + i
                )
            },
        },
        Case {
            name: "Alpaca trade",
            protocol: Box::new(Alpaca::new(
                vec!["AAPL".into()],
                Some(Secret::new("bench")),
                Some(Secret::new("bench")),
            )),
            symbol: "AAPL",
            frame: |i| {
                format!(
                    r#"[{{"T":"t","S":"AAPL","i":{i},"x":"V","p":{}.55,"s":100,"t":"2021-02-22T15:51:44.{:09}Z","c":["@"],"z":"C"}}]"#,
                    100 + i % 100,
                    i % 1_000_000_000
                )
            },
        },
    ]
}

/// Frame → ticks for every frame; returns the elapsed time and the ticks made.
fn normalise(case: &Case, frames: &[String]) -> (Duration, u64) {
    let resume = [Resume { symbol: case.symbol.into(), last_seq: 0, reference: None }];
    let mut book = FeedBook::new(resume, case.protocol.venue().ids());
    let mut ticks = 0;
    let started = Instant::now();
    for frame in frames {
        for message in case.protocol.read(frame).expect("a frame of the venue's shape") {
            if let Message::Trade(trade) = message
                && let Outcome::Tick(tick) = book.trade(trade, case.symbol)
            {
                black_box(tick);
                ticks += 1;
            }
        }
    }
    (started.elapsed(), ticks)
}

/// The baseline: an untyped parse of every frame.
fn baseline(frames: &[String]) -> Duration {
    let started = Instant::now();
    for frame in frames {
        black_box(serde_json::from_str::<serde_json::Value>(frame).expect("json"));
    }
    started.elapsed()
}

fn ns_per(elapsed: Duration, count: u64) -> f64 {
    elapsed.as_nanos() as f64 / count as f64
}

fn main() {
    println!("{FRAMES} frames per pass, best of {PASSES} passes, one trade per frame");
    println!();
    println!(
        "| venue frame | bytes | frame → tick ns | ticks/s | serde_json::Value ns | ratio | allocs/frame |"
    );
    println!("|---|---|---|---|---|---|---|");
    for case in cases() {
        let frames: Vec<String> = (1..=FRAMES).map(case.frame).collect();
        let mut best = Duration::MAX;
        let mut best_baseline = Duration::MAX;
        let mut allocations = 0;
        for _ in 0..PASSES {
            let region = Region::new(GLOBAL);
            let (elapsed, ticks) = normalise(&case, &frames);
            allocations = region.change().allocations;
            assert_eq!(ticks, FRAMES, "{}: every frame made a tick", case.name);
            best = best.min(elapsed);
            best_baseline = best_baseline.min(baseline(&frames));
        }
        let ns = ns_per(best, FRAMES);
        let baseline_ns = ns_per(best_baseline, FRAMES);
        println!(
            "| {} | {} | {ns:.0} | {:.2} M | {baseline_ns:.0} | {:.2}× | {:.1} |",
            case.name,
            frames[0].len(),
            1e3 / ns,
            ns / baseline_ns,
            allocations as f64 / FRAMES as f64,
        );
    }
}
