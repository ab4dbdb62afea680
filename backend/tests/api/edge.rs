//! The edge under slow, stalled and hostile clients: real sockets against
//! the real server on port 0.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use marquee::sources::demo_universe::SYMBOLS;
use marquee_shared::{ErrorCode, ServerMessage, SymbolSelection};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::helpers::{TestApp, config, next_message, next_reply, send_text, spawn_app};

/// A socket that reads at most `rate` bytes every 250 ms (0: reads nothing),
/// until `rate` is raised.
struct Throttled {
    inner: TcpStream,
    rate: Arc<AtomicUsize>,
    budget: usize,
    refill: Pin<Box<tokio::time::Sleep>>,
}

const REFILL: Duration = Duration::from_millis(250);

impl AsyncRead for Throttled {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let rate = self.rate.load(Ordering::Relaxed);
        if rate == usize::MAX {
            return Pin::new(&mut self.inner).poll_read(cx, buf);
        }
        while self.budget == 0 {
            ready!(self.refill.as_mut().poll(cx));
            let next = tokio::time::Instant::now() + REFILL;
            self.refill.as_mut().reset(next);
            self.budget = self.rate.load(Ordering::Relaxed);
        }
        let allowed = self.budget.min(buf.remaining());
        let mut limited = ReadBuf::new(buf.initialize_unfilled_to(allowed));
        ready!(Pin::new(&mut self.inner).poll_read(cx, &mut limited))?;
        let read = limited.filled().len();
        buf.advance(read);
        self.budget -= read;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Throttled {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A WebSocket client that reads `bytes_per_second` (raised later through
/// the returned handle; `usize::MAX` for no limit) with a small receive buffer.
async fn throttled_client(
    app: &TestApp,
    bytes_per_second: usize,
) -> (WebSocketStream<Throttled>, Arc<AtomicUsize>) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("recv buffer");
    let stream = socket.connect(app.addr).await.expect("tcp connect");
    let rate = Arc::new(AtomicUsize::new(usize::MAX));
    let throttled = Throttled {
        inner: stream,
        rate: Arc::clone(&rate),
        budget: 0,
        refill: Box::pin(tokio::time::sleep(Duration::ZERO)),
    };
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{}/ws", app.addr), throttled)
        .await
        .expect("ws handshake");
    // The snapshot at full speed, then the throttle.
    let first = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("snapshot in time");
    assert!(matches!(first, Some(Ok(Message::Text(_)))), "{first:?}");
    rate.store(bytes_per_second / 4, Ordering::Relaxed);
    (ws, rate)
}

async fn metric(app: &TestApp, line_start: &str) -> f64 {
    let text = reqwest::get(app.url("/metrics")).await.expect("GET /metrics").text().await.expect("body");
    text.lines()
        .find_map(|line| line.strip_prefix(line_start)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in {text}"))
}

/// A fast stream: every demo symbol every millisecond (about 2 MB/s of JSON).
fn fast_config() -> marquee::Config {
    let mut config = config(SYMBOLS.len());
    config.tick_interval = Duration::from_millis(1);
    config.client_queue = 32;
    config.edge.client_queue_bytes = 64 * 1024;
    config
}

#[tokio::test]
async fn a_slow_reader_is_conflated_and_stays_while_a_fast_reader_sees_no_gap() {
    // Room for 2 s of stream per client: the fast reader never needs it, even
    // on a busy machine; the slow one fills it (and the kernel's 4 MiB) in 4 s.
    let mut config = fast_config();
    config.client_queue = 4096;
    config.edge.client_queue_bytes = 4 * 1024 * 1024;
    // Slow is not stalled: at 4 KB/s a batch of frames (a snapshot among
    // them) can take the writer longer than the default 10 s to flush when
    // the machine is busy, and that counts as a stall (tested on its own).
    config.edge.client_stall_timeout = Duration::from_secs(60);
    let app = spawn_app(config).await;
    let (mut slow, rate) = throttled_client(&app, 4096).await;
    let mut fast = app.connect().await;
    assert!(matches!(next_message(&mut fast).await, Some(ServerMessage::Snapshot { .. })));

    // The fast reader reads everything for 8 s while the slow one trickles.
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    let (mut gaps, mut ticks) = (0, 0);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(8) {
        match next_message(&mut fast).await {
            Some(ServerMessage::Ticks { ticks: batch }) => {
                for tick in batch {
                    ticks += 1;
                    if let Some(previous) = last.insert(tick.symbol.clone(), tick.seq) {
                        gaps += u64::from(tick.seq != previous + 1);
                    }
                }
            }
            Some(ServerMessage::Lagged { skipped }) => panic!("the fast reader lagged by {skipped}"),
            Some(_) => {}
            None => panic!("the fast reader was disconnected"),
        }
    }
    assert!(ticks > 10_000, "the fast reader kept up with the stream: {ticks} ticks");
    assert_eq!(gaps, 0, "no seq gap for the fast reader");
    assert!(metric(&app, "marquee_gateway_conflations_total").await >= 1.0);

    // Now the slow reader reads at full speed: somewhere in its backlog the
    // server said it lagged and sent a fresh snapshot, and it is still connected.
    rate.store(usize::MAX, Ordering::Relaxed);
    let (mut lagged, mut snapshot_after_lag, mut ponged) = (false, false, false);
    let reading = Instant::now();
    while !(snapshot_after_lag && ponged) {
        assert!(
            reading.elapsed() < Duration::from_secs(20),
            "lagged {lagged}, snapshot {snapshot_after_lag}"
        );
        let frame =
            tokio::time::timeout(Duration::from_secs(10), slow.next()).await.expect("slow reader reads");
        let Some(Ok(Message::Text(text))) = frame else {
            panic!("the slow reader was disconnected: {frame:?}")
        };
        match serde_json::from_str::<ServerMessage>(text.as_str()).expect("json") {
            ServerMessage::Lagged { skipped } => {
                assert!(skipped > 0);
                lagged = true;
            }
            ServerMessage::Snapshot { .. } if lagged && !snapshot_after_lag => {
                snapshot_after_lag = true;
                // Still connected: it answers a ping.
                send_text_to(&mut slow, r#"{"type":"ping","nonce":7}"#).await;
            }
            ServerMessage::Pong { nonce: 7, .. } => ponged = true,
            _ => {}
        }
    }
    assert!(lagged && snapshot_after_lag, "lagged then a snapshot");
    app.stop().await.expect("clean stop");
}

async fn send_text_to<S>(ws: &mut WebSocketStream<S>, text: &str)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.send(Message::text(text)).await.expect("send");
}

#[tokio::test]
async fn a_stalled_socket_is_closed_with_1008_and_counted() {
    let mut config = fast_config();
    config.edge.client_stall_timeout = Duration::from_millis(1000);
    let app = spawn_app(config).await;
    let (mut stalled, rate) = throttled_client(&app, 0).await;

    // Kernel buffers fill within a couple of seconds, then the stall timeout runs.
    let started = Instant::now();
    while metric(&app, "marquee_gateway_disconnects_total{reason=\"stalled\"}").await < 1.0 {
        assert!(started.elapsed() < Duration::from_secs(10), "no stall disconnect after 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Reading again, the client finds the close frame after its backlog.
    rate.store(usize::MAX, Ordering::Relaxed);
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), stalled.next()).await.expect("in time") {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => {}
            other => panic!("ended without a close frame: {other:?}"),
        }
    };
    let close = close.expect("a close frame with a code");
    assert_eq!(close.code, CloseCode::Policy);
    assert!(close.reason.contains("stalled"), "{}", close.reason);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn messages_over_the_frame_limit_close_with_1009_and_large_ones_get_an_error() {
    let app = spawn_app(config(5)).await;
    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));

    let large = format!(r#"{{"type":"ping","nonce":1,"pad":"{}"}}"#, "x".repeat(20 * 1024));
    send_text(&mut ws, &large).await;
    let reply = next_reply(&mut ws).await;
    assert!(matches!(reply, Some(ServerMessage::Error { code: ErrorCode::TooLarge, .. })), "{reply:?}");
    send_text(&mut ws, r#"{"type":"ping","nonce":2}"#).await;
    assert!(matches!(next_reply(&mut ws).await, Some(ServerMessage::Pong { nonce: 2, .. })), "still open");

    let huge = "x".repeat(100 * 1024);
    send_text(&mut ws, &huge).await;
    assert_eq!(close_code(&mut ws).await, Some(CloseCode::Size));
    let counted = metric(&app, "marquee_gateway_disconnects_total{reason=\"too_large\"}").await;
    assert_eq!(counted, 1.0);
    app.stop().await.expect("clean stop");
}

/// Reads until the server's close frame; its code.
async fn close_code(ws: &mut crate::helpers::Ws) -> Option<CloseCode> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("close in time") {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

#[tokio::test]
async fn protocol_errors_close_with_1002_and_a_clients_close_is_echoed() {
    let app = spawn_app(config(5)).await;

    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));
    // A masked frame with a reserved opcode (0x3), written under the client library.
    let raw = match ws.get_mut() {
        tokio_tungstenite::MaybeTlsStream::Plain(stream) => stream,
        _ => panic!("plain TCP"),
    };
    raw.write_all(&[0x83, 0x80, 1, 2, 3, 4]).await.expect("write");
    assert_eq!(close_code(&mut ws).await, Some(CloseCode::Protocol));

    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));
    ws.close(None).await.expect("send close");
    let echoed = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("echo in time") {
            Some(Ok(Message::Close(_))) => break true,
            Some(Ok(_)) => {}
            // tokio-tungstenite ends the stream once the echo arrives.
            None => break true,
            Some(Err(err)) => panic!("no echo: {err}"),
        }
    };
    assert!(echoed);
    assert_eq!(metric(&app, "marquee_gateway_disconnects_total{reason=\"protocol_error\"}").await, 1.0);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn ten_thousand_subscribes_with_new_names_leave_the_subscription_bounded() {
    let mut config = config(5);
    config.edge.max_subscriptions = 100;
    let app = spawn_app(config).await;
    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));

    for n in 0..10_000 {
        let names: Vec<String> = (0..10).map(|i| format!("\"N{n}X{i}\"")).collect();
        send_text(&mut ws, &format!(r#"{{"type":"unsubscribe","symbols":[{}]}}"#, names.join(","))).await;
    }
    // The limiter refills; a ping marks the end of the flood's replies.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    send_text(&mut ws, r#"{"type":"ping","nonce":999}"#).await;
    let (mut accepted, mut refused) = (0, 0);
    loop {
        match next_reply(&mut ws).await {
            Some(ServerMessage::Subscribed { .. }) => accepted += 1,
            Some(ServerMessage::Error { code: ErrorCode::BadMessage, message }) => {
                assert!(message.contains("at most 100"), "{message}");
                refused += 1;
            }
            Some(ServerMessage::Error { code: ErrorCode::RateLimited, .. }) => {}
            Some(ServerMessage::Pong { nonce: 999, .. }) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(accepted, 10, "ten messages of ten new names fill the subscription");
    assert!(refused >= 1, "the cap refused names");
    // Read the subscription back by taking one name out of it.
    send_text(&mut ws, r#"{"type":"subscribe","symbols":["N0X0"]}"#).await;
    let Some(ServerMessage::Subscribed { symbols: SymbolSelection::All { except: held }, .. }) =
        next_reply(&mut ws).await
    else {
        panic!("a subscribed answer")
    };
    assert_eq!(held, 99, "the subscription held 100 names, the cap");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn websockets_beyond_the_cap_get_503_while_http_keeps_answering() {
    let mut config = config(5);
    config.edge.max_connections = 2;
    let app = spawn_app(config).await;
    let _a = app.connect().await;
    let _b = app.connect().await;
    let refused = tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr)).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned();
            assert!(body.contains("too_many_connections"), "{body}");
        }
        other => panic!("expected 503, got {other:?}"),
    }
    let health = reqwest::get(app.url("/health")).await.expect("GET /health");
    assert_eq!(health.status(), 200);
    assert_eq!(metric(&app, "marquee_gateway_refused_total{reason=\"websockets_full\"}").await, 1.0);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn half_sent_requests_do_not_lock_out_health() {
    let mut config = config(5);
    // Room for 264 connections, 132 of them still sending headers.
    config.edge.max_connections = 200;
    let app = spawn_app(config).await;
    let mut held = Vec::new();
    for _ in 0..1_100 {
        let Ok(mut stream) = TcpStream::connect(app.addr).await else { continue };
        if stream.write_all(b"GET /health HTTP/1.1\r\nHost: marquee\r\nX-Slow: ").await.is_ok() {
            held.push(stream);
        }
    }
    assert!(held.len() > 1_000, "only {} sockets opened", held.len());
    let client = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().expect("client");
    let started = Instant::now();
    let health = client.get(app.url("/health")).send().await.expect("/health answers within 1 s");
    assert_eq!(health.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(metric(&app, "marquee_gateway_refused_total{reason=\"evicted\"}").await > 800.0);
    drop(held);
    app.stop().await.expect("clean stop");
}
