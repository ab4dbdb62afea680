//! The integration tests' local Alpha Vantage (`tests/api/fake_alphavantage.rs`)
//! as a program, for the browser tests: it serves on 127.0.0.1 and a free
//! port, prints one JSON line `{"url": ..., "api_key": ...}` on stdout, and
//! answers `GET /requests` with every request it has seen. Stops on Ctrl+C
//! or SIGTERM (or when its stdin closes).
//!
//!     cargo run -p marquee --example fake_alphavantage

#[path = "../tests/api/fake_alphavantage.rs"]
#[allow(dead_code, reason = "the tests use more of it than the program does")]
mod fake_alphavantage;
mod program;

use fake_alphavantage::{API_KEY, FakeAlphaVantage};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let fake = FakeAlphaVantage::default();
    let url = fake.start().await;
    program::announce_and_serve(serde_json::json!({ "url": url, "api_key": API_KEY })).await;
}
