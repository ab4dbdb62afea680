//! Starting a server on port 0 and talking to it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use marquee::Config;
use marquee::demo_universe::SYMBOLS;
use marquee_shared::ServerMessage;
use tempfile::TempDir;
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
