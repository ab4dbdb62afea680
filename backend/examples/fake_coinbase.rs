//! The integration tests' local venue (`tests/api/fake_venue.rs`) as a
//! program, for the browser tests: a Coinbase Exchange feed on 127.0.0.1 and
//! a free port that, on every connection, takes the subscription, confirms
//! it, and streams a BTC-USD trade every 100 ms (a gentle walk around
//! 60,000, fractional sizes, the current time) for ten minutes. It prints
//! one JSON line `{"url": ...}` on stdout and stops on Ctrl+C or SIGTERM
//! (or when its stdin closes). `--port N` listens on N (to come back where
//! it was, for the browser test of a venue that stops and returns).
//!
//!     cargo run -p marquee --example fake_coinbase [-- --port N]

#[path = "../tests/api/fake_venue.rs"]
#[allow(dead_code, reason = "the tests use more of it than the program does")]
mod fake_venue;
mod program;

use std::sync::Arc;
use std::time::Duration;

use fake_venue::{FakeVenue, Script, Step, coinbase_match, fixture};

/// Ten minutes at ten trades a second.
const TRADES: u64 = 6_000;

/// Trade `id`, made when it is sent (its time is the current time).
fn trade(id: u64) -> String {
    let price = 60_000.0 + 25.0 * ((id as f64) / 40.0).sin() + (id % 7) as f64 * 0.5;
    let size = format!("0.{:04}", 10 + (id * 37) % 4_000);
    coinbase_match("BTC-USD", id, &format!("{price:.2}"), &size, &jiff::Timestamp::now().to_string())
}

fn script(_connection: usize) -> Vec<Step> {
    vec![
        Step::Recv,
        Step::Send(fixture("coinbase", "subscriptions.json")),
        Step::Stream { count: TRADES, every: Duration::from_millis(100), frames: Arc::new(trade) },
    ]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = match args.iter().position(|a| a == "--port") {
        Some(at) => args.get(at + 1).and_then(|p| p.parse().ok()).expect("--port takes a port number"),
        None => 0,
    };
    let venue = FakeVenue::start_on(port, Arc::new(script) as Script).await;
    program::announce_and_serve(serde_json::json!({ "url": venue.url() })).await;
}
