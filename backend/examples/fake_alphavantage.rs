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

use fake_alphavantage::{API_KEY, FakeAlphaVantage};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let fake = FakeAlphaVantage::default();
    let url = fake.start().await;
    #[expect(clippy::print_stdout, reason = "the address is the program's output")]
    {
        println!("{}", serde_json::json!({ "url": url, "api_key": API_KEY }));
    }
    // Whoever started it is gone once its stdin closes. A thread of its
    // own, not the runtime's blocking pool: the runtime would wait for that
    // read at exit, and a signal would never stop the program.
    let (closed, stdin_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _read = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _told = closed.send(());
    });
    tokio::select! {
        () = marquee::common::shutdown::signal() => {}
        _ = stdin_closed => {}
    }
}
