//! The MongoDB store when its server is away: it starts anyway, says it is
//! unavailable, and works once the server answers, with no restart. Runs
//! the nx-27017 stand-in named by `MARQUEE_TEST_NX27017` (scripts/test);
//! nx-27017 runs one instance per machine, so no other may be running.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use marquee_shared::Tick;

use super::MongoStore;
use crate::store::{Store, StoreError};

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        if let Err(err) = self.0.kill() {
            eprintln!("cannot stop the MongoDB stand-in: {err}");
        }
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test]
async fn a_store_whose_server_is_down_reports_it_and_recovers_when_it_answers() {
    let program = std::env::var("MARQUEE_TEST_NX27017")
        .expect("MARQUEE_TEST_NX27017 must name the nx-27017 program for the `mongo` feature's tests");
    let port = free_port();
    let url = format!("mongodb://127.0.0.1:{port}/?maxPoolSize=1&serverSelectionTimeoutMS=500");
    let store = MongoStore::connect(&url, "recovery", None)
        .await
        .expect("a server that is down is not a config error");
    assert!(matches!(store.ping().await, Err(StoreError::Unavailable(_))), "down, and said so");
    assert!(store.insert_ticks(vec![tick(1)]).await.is_err());

    let _server = Server(
        Command::new(program)
            .args(["--db", "memory", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nx-27017"),
    );
    let started = Instant::now();
    while let Err(err) = store.ping().await {
        assert!(started.elapsed() < Duration::from_secs(20), "the store never recovered: {err}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(store.insert_ticks(vec![tick(1), tick(2)]).await.expect("insert"), 2);
    assert_eq!(
        store.insert_ticks(vec![tick(2)]).await.expect("insert"),
        0,
        "the unique index was made on recovery"
    );
}

fn tick(seq: u64) -> Tick {
    Tick { symbol: "A".into(), seq, ts: seq as i64, price: 1.0, size: 1.0, change: 0.0, change_pct: 0.0 }
}
