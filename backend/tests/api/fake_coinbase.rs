//! A local Coinbase on port 0: a WebSocket server speaking Coinbase
//! Exchange's documented protocol with the frames of
//! `tests/fixtures/venues/coinbase/`, misbehaving on cue. Each connection
//! (numbered from 0) reads the subscribe request, then plays its script:
//! frames, a dropped connection, silence without closing, a close.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as Frame;

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/venues/coinbase/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")).trim().to_owned()
}

/// A `match` of BTC-USD with trade id `id`.
pub fn trade(id: u64) -> String {
    format!(
        r#"{{"type":"match","trade_id":{id},"sequence":{},"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8","taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","time":"2024-05-01T12:00:0{}.000001Z","product_id":"BTC-USD","size":"0.0{id}","price":"6000{id}.5","side":"sell"}}"#,
        100 + id,
        id % 10
    )
}

#[derive(Debug, Clone)]
pub enum Step {
    Send(String),
    /// Drops the TCP connection without a close frame.
    Drop,
    /// Keeps the connection open and says nothing, answers nothing.
    Hang,
    /// A close frame.
    Close,
}

pub type Script = Arc<dyn Fn(usize) -> Vec<Step> + Send + Sync>;

/// A local Coinbase: each connection (numbered from 0) reads the subscribe
/// request, then plays its script.
pub struct FakeCoinbase {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    pub subscribes: Arc<Mutex<Vec<String>>>,
    server: JoinHandle<()>,
    script: Script,
}

impl FakeCoinbase {
    pub async fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let subscribes = Arc::new(Mutex::new(Vec::new()));
        let server = serve(listener, Arc::clone(&script), Arc::clone(&connections), Arc::clone(&subscribes));
        Self { addr, connections, subscribes, server, script }
    }

    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Stops (closing every connection) and listens again on the same port.
    pub async fn restart(&mut self) {
        self.server.abort();
        let _ = (&mut self.server).await;
        let listener = TcpListener::bind(self.addr).await.expect("the same port again");
        let (script, connections, subscribes) =
            (Arc::clone(&self.script), Arc::clone(&self.connections), Arc::clone(&self.subscribes));
        self.server = serve(listener, script, connections, subscribes);
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for FakeCoinbase {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn serve(
    listener: TcpListener,
    script: Script,
    connections: Arc<AtomicUsize>,
    subscribes: Arc<Mutex<Vec<String>>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut sessions = tokio::task::JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            let n = connections.fetch_add(1, Ordering::SeqCst);
            let steps = script(n);
            let subscribes = Arc::clone(&subscribes);
            sessions.spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { return };
                if let Some(Ok(Frame::Text(subscribe))) = ws.next().await {
                    subscribes.lock().expect("lock").push(subscribe.to_string());
                }
                for step in steps {
                    match step {
                        Step::Send(text) => {
                            if ws.send(Frame::text(text)).await.is_err() {
                                return;
                            }
                        }
                        Step::Drop => return,
                        Step::Hang => std::future::pending::<()>().await,
                        Step::Close => {
                            let _ = ws.close(None).await;
                            return;
                        }
                    }
                }
                // Then stream nothing more, answering pings.
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    })
}
