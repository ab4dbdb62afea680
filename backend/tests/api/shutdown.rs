use std::time::{Duration, Instant};

use marquee_shared::ServerMessage;

use crate::helpers::{config, next_message, next_reply, spawn_app};

#[tokio::test]
async fn shutdown_closes_clients_and_returns_promptly() {
    let app = spawn_app(config(5)).await;
    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));

    let started = Instant::now();
    app.stop().await.expect("run returns Ok");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());

    // The client sees its stream end (after any frames already in flight).
    let end = next_reply(&mut ws).await;
    assert!(end.is_none(), "unexpected {end:?}");
}

/// Starts the real binary, reads ticks over a WebSocket, sends SIGTERM and
/// audits the store: every tick any client saw is stored, and per symbol the
/// stored seqs run 1, 2, 3, ... with no gap.
#[tokio::test]
async fn after_sigterm_every_tick_made_is_in_the_store() {
    use std::collections::BTreeMap;
    use std::process::{Command, Stdio};

    use marquee::store::{SqliteStore, Store};

    let dir = tempfile::tempdir().expect("tempdir");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
        probe.local_addr().expect("addr").port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_marquee"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--symbols", "AAPL,MSFT,KO,IBM,NVDA"])
        .args([
            "--tick-interval-ms",
            "5",
            "--flush-age-ms",
            "1000",
            "--flush-batch",
            "5000",
            "--shutdown-grace",
            "2s",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .env_remove("ALPHAVANTAGE_API_KEY")
        .stdout(Stdio::null())
        .spawn()
        .expect("start marquee");

    let mut ws = None;
    for _ in 0..100 {
        if let Ok((socket, _)) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws")).await {
            ws = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut ws = ws.expect("marquee accepts WebSocket clients");
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(800) {
        if let Some(ServerMessage::Ticks { ticks }) = next_message(&mut ws).await {
            for tick in ticks {
                let max = seen.entry(tick.symbol).or_default();
                *max = (*max).max(tick.seq);
            }
        }
    }
    assert_eq!(seen.len(), 5, "ticks for every symbol: {seen:?}");

    // Two requests that will never finish: one stops in its headers, one in its body.
    use tokio::io::AsyncWriteExt;
    let mut half_headers = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    half_headers.write_all(b"GET /health HTTP/1.1\r\nHost: marquee\r\n").await.expect("write");
    let mut half_body = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    half_body
        .write_all(b"POST /api/v1/import?symbol=ZZZ HTTP/1.1\r\nHost: marquee\r\nContent-Length: 1000\r\n\r\ndate,open")
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;

    // With a 1 s flush age and a large batch, much is still buffered now.
    let pid = child.id().to_string();
    let asked = Instant::now();
    let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait()).await.expect("join").expect("wait");
    assert!(exit.success(), "marquee exits cleanly on SIGTERM: {exit:?}");
    // The grace (2 s) for the request in flight, and the flush beside it.
    assert!(asked.elapsed() < Duration::from_millis(3500), "exit took {:?}", asked.elapsed());
    drop((half_headers, half_body));

    let store = SqliteStore::open(dir.path()).expect("store");
    for (symbol, max_seen) in seen {
        let stored: Vec<u64> = store
            .recent_ticks(symbol.clone(), 10_000_000)
            .await
            .expect("read")
            .iter()
            .map(|t| t.seq)
            .collect();
        let expected: Vec<u64> = (1..=stored.len() as u64).collect();
        assert_eq!(stored, expected, "{symbol}: stored seqs have a gap");
        assert!(
            stored.len() as u64 >= max_seen,
            "{symbol}: saw seq {max_seen}, stored only {}",
            stored.len()
        );
    }
}
