//! Starting a server on port 0 and talking to it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use marquee::Config;
use marquee::sources::demo_universe::SYMBOLS;
use marquee_shared::ServerMessage;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A running server. Dropping it without [`TestApp::stop`] aborts it.
pub struct TestApp {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    /// The store's directory, removed when the last holder drops it.
    pub data: std::sync::Arc<TempDir>,
}

/// A config for fast tests: a fixed seed, the first `symbols` demo symbols
/// loaded into a fresh store (so the default threshold of 5 starts streaming
/// when `symbols >= 5`).
pub fn config(symbols: usize) -> Config {
    let mut config = Config::for_tests(PathBuf::new());
    config.seed = Some(42);
    config.symbols = SYMBOLS[..symbols].to_vec();
    config.static_dir = "does-not-exist".into();
    config
}

/// Starts a server with a store in a new temporary directory.
pub async fn spawn_app(config: Config) -> TestApp {
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
    spawn_app_in(config, dir).await
}

/// Starts a server on the store in `data` (e.g. to restart on the same data).
pub async fn spawn_app_in(mut config: Config, data: std::sync::Arc<TempDir>) -> TestApp {
    config.data_dir = data.path().to_path_buf();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(marquee::run(listener, config, async move {
        // Either an explicit stop or the TestApp being dropped.
        drop(stopped.await);
    }));
    TestApp { addr, stop: Some(stop), task, data }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// GET `path` and parse the JSON body, asserting the status.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, status: u16) -> T {
        let response = reqwest::get(self.url(path)).await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert_eq!(response.status().as_u16(), status, "GET {path}");
        response.json().await.unwrap_or_else(|e| panic!("GET {path}: bad JSON: {e}"))
    }

    /// The stored ticks of `symbol` (`GET /api/v1/ticks`) once there are at
    /// least `count`; panics after 20 s.
    pub async fn stored_ticks(&self, symbol: &str, count: usize) -> Vec<marquee_shared::Tick> {
        let what = format!("{count} stored {symbol} ticks");
        crate::support::eventually(&what, Duration::from_secs(20), || async {
            let url = self.url(&format!("/api/v1/ticks/{symbol}?limit=10000"));
            let response = reqwest::get(url).await.map_err(|e| e.to_string())?;
            let ticks: Vec<marquee_shared::Tick> = response.json().await.map_err(|e| e.to_string())?;
            if ticks.len() >= count { Ok(ticks) } else { Err(format!("{} ticks", ticks.len())) }
        })
        .await
    }

    pub async fn connect(&self) -> Ws {
        let (ws, _) =
            tokio_tungstenite::connect_async(format!("ws://{}/ws", self.addr)).await.expect("ws connect");
        ws
    }

    /// A client whose kernel receive buffer is tiny, so that not reading
    /// backs up into the server quickly.
    pub async fn connect_with_small_buffer(&self) -> Ws {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("recv buffer");
        let stream = socket.connect(self.addr).await.expect("tcp connect");
        let (ws, _) =
            tokio_tungstenite::client_async(format!("ws://{}/ws", self.addr), MaybeTlsStream::Plain(stream))
                .await
                .expect("ws handshake");
        ws
    }

    /// Sends a request byte for byte, where reqwest would normalise it (odd
    /// paths) or cannot (a body that stalls), and reads the answer. The body is
    /// written by another task meanwhile, since the server may answer before
    /// it is all sent; the connection stays open until the answer is read.
    pub async fn raw(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: RawBody,
    ) -> RawAnswer {
        let (mut reader, writer) = TcpStream::connect(self.addr).await.expect("tcp connect").into_split();
        let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
        // The server's address, unless the test names another host.
        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("Host: {}\r\n", self.addr));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        match &body {
            RawBody::None => {}
            RawBody::Full(bytes) => head.push_str(&format!("Content-Length: {}\r\n", bytes.len())),
            RawBody::Chunked(_) => head.push_str("Transfer-Encoding: chunked\r\n"),
            RawBody::Stalled { announced, .. } => head.push_str(&format!("Content-Length: {announced}\r\n")),
        }
        head.push_str("\r\n");
        let (read, keep_open) = oneshot::channel::<()>();
        let writing = tokio::spawn(async move {
            let mut writer = writer;
            // A failed write means the server answered early and closed: the
            // answer says why, so the error itself is not the test's concern.
            write_request(&mut writer, head.as_bytes(), body).await.ok();
            keep_open.await.ok();
        });
        let answer = read_answer(&mut reader).await;
        read.send(()).ok();
        writing.await.expect("writer task");
        answer
    }

    /// Asks the server to shut down and waits for `run` to return.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            // Err only means the server already stopped by itself.
            stop.send(()).ok();
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .expect("server stops within 10 s")
            .expect("server task did not panic")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The next server message, or `None` when the stream closed. Panics after 5 s.
pub async fn next_message(ws: &mut Ws) -> Option<ServerMessage> {
    loop {
        let frame =
            tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a message within 5 s");
        match frame {
            Some(Ok(Message::Text(text))) => {
                return Some(
                    serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("bad JSON {text}: {e}")),
                );
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// True for the ordinary stream traffic (ticks, bars, alerts, simulation changes).
pub fn is_stream(message: &ServerMessage) -> bool {
    matches!(
        message,
        ServerMessage::Ticks { .. }
            | ServerMessage::Simulation { .. }
            | ServerMessage::Bars { .. }
            | ServerMessage::Alert { .. }
            | ServerMessage::Event { .. }
            | ServerMessage::Metrics { .. }
            | ServerMessage::Health { .. }
    )
}

/// The next message that is not ordinary stream traffic (a reply, a notice,
/// a snapshot), or `None` when the stream closed.
pub async fn next_reply(ws: &mut Ws) -> Option<ServerMessage> {
    loop {
        match next_message(ws).await {
            Some(message) if is_stream(&message) => {}
            other => return other,
        }
    }
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.expect("send");
}

/// How [`TestApp::raw`] sends a body.
#[derive(Debug)]
pub enum RawBody {
    None,
    /// All of it, announced by Content-Length.
    Full(Vec<u8>),
    /// This many bytes in 64 KiB chunks, announced by nothing.
    Chunked(usize),
    /// Announces `announced` bytes, sends the first `sent`, then nothing more.
    Stalled {
        announced: u64,
        sent: usize,
    },
}

/// Asserts `answer` is `status` with a JSON error body carrying `code` and a
/// message.
pub fn assert_error(answer: &RawAnswer, status: u16, code: &str, what: &str) {
    let body = String::from_utf8_lossy(&answer.body);
    assert_eq!(answer.status, status, "{what}: {body}");
    assert_eq!(answer.header("content-type"), Some("application/json"), "{what}: {body}");
    let error: marquee_shared::ApiError = serde_json::from_slice(&answer.body)
        .unwrap_or_else(|e| panic!("{what}: not an error body ({e}): {body}"));
    assert_eq!(error.error.code, code, "{what}: {}", error.error.message);
    assert!(!error.error.message.is_empty(), "{what}: an empty message");
}

/// An answer read off a raw connection; header names are lower case.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

async fn write_request(writer: &mut OwnedWriteHalf, head: &[u8], body: RawBody) -> std::io::Result<()> {
    writer.write_all(head).await?;
    match body {
        RawBody::None => {}
        RawBody::Full(bytes) => writer.write_all(&bytes).await?,
        RawBody::Chunked(mut left) => {
            let chunk = vec![b'x'; 64 * 1024];
            while left > 0 {
                let n = left.min(chunk.len());
                writer.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                writer.write_all(&chunk[..n]).await?;
                writer.write_all(b"\r\n").await?;
                left -= n;
            }
            writer.write_all(b"0\r\n\r\n").await?;
        }
        RawBody::Stalled { sent, .. } => writer.write_all(&vec![b'x'; sent]).await?,
    }
    writer.flush().await
}

/// Reads until a whole answer is in (by its Content-Length, else until the
/// server closes). Panics after 10 s.
async fn read_answer(reader: &mut OwnedReadHalf) -> RawAnswer {
    let mut received = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if let Some(answer) = parse_answer(&received, false) {
            return answer;
        }
        let read = tokio::time::timeout(Duration::from_secs(10), reader.read(&mut buffer))
            .await
            .expect("an answer within 10 s");
        match read {
            Ok(n) if n > 0 => received.extend_from_slice(&buffer[..n]),
            // Closed (or reset, after an early answer): what came is all there is.
            _ => {
                return parse_answer(&received, true).unwrap_or_else(|| {
                    panic!("the connection closed mid-answer: {:?}", String::from_utf8_lossy(&received))
                });
            }
        }
    }
}

fn parse_answer(received: &[u8], closed: bool) -> Option<RawAnswer> {
    let end = received.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&received[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let body = &received[end + 4..];
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok());
    match length {
        Some(length) if body.len() >= length => {
            Some(RawAnswer { status, headers, body: body[..length].to_vec() })
        }
        None if closed => Some(RawAnswer { status, headers, body: body.to_vec() }),
        _ => None,
    }
}
