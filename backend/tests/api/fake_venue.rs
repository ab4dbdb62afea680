//! A local venue on port 0: a WebSocket server that plays a script per
//! connection (numbered from 0), in the venue's documented protocol with
//! the frames of `tests/fixtures/venues/`, and misbehaves on cue: it drops
//! the connection, goes silent without closing, closes, restarts on the same
//! port, or refuses the upgrade with an HTTP status (a bad key). It records
//! the frames the client sent and the URLs it asked for.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

pub fn fixture(venue: &str, name: &str) -> String {
    let path = format!("{}/tests/fixtures/venues/{venue}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")).trim().to_owned()
}

/// A Coinbase `match` of BTC-USD with trade id `id`: price `6000{id}.5`,
/// size `0.0{id}`.
pub fn coinbase_trade(id: u64) -> String {
    let time = format!("2024-05-01T12:00:0{}.000001Z", id % 10);
    coinbase_match("BTC-USD", id, &format!("6000{id}.5"), &format!("0.0{id}"), &time)
}

/// A Coinbase `match`, in the shape of the documentation's example.
pub fn coinbase_match(product: &str, id: u64, price: &str, size: &str, time: &str) -> String {
    format!(
        r#"{{"type":"match","trade_id":{id},"sequence":{},"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8","taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","time":"{time}","product_id":"{product}","size":"{size}","price":"{price}","side":"sell"}}"#,
        100 + id
    )
}

/// Makes the `n`th frame of a stream when it is sent (`n` from 1).
pub type Frames = Arc<dyn Fn(u64) -> String + Send + Sync>;

#[derive(Clone)]
pub enum Step {
    /// Refuses the upgrade with this HTTP status (only as the first step).
    Reject(u16),
    /// Reads one frame from the client and records it.
    Recv,
    Send(String),
    /// Drops the TCP connection without a close frame.
    Drop,
    /// Keeps the connection open and says nothing, answers nothing.
    Hang,
    /// A close frame.
    Close,
    /// Sends `count` frames made at sending time, one every `every`.
    #[allow(dead_code, reason = "the browser tests' program streams (examples/fake_coinbase.rs)")]
    Stream {
        count: u64,
        every: std::time::Duration,
        frames: Frames,
    },
}

pub type Script = Arc<dyn Fn(usize) -> Vec<Step> + Send + Sync>;

#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    received: Mutex<Vec<String>>,
    urls: Mutex<Vec<String>>,
}

pub struct FakeVenue {
    addr: SocketAddr,
    seen: Arc<Seen>,
    server: JoinHandle<()>,
    script: Script,
}

impl FakeVenue {
    pub async fn start(script: Script) -> Self {
        Self::start_on(0, script).await
    }

    /// On `port` of 127.0.0.1 (0: any free one).
    pub async fn start_on(port: u16, script: Script) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Seen::default());
        let server = serve(listener, Arc::clone(&script), Arc::clone(&seen));
        Self { addr, seen, server, script }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Stops (closing every connection) and listens again on the same port.
    pub async fn restart(&mut self) {
        self.server.abort();
        let _ = (&mut self.server).await;
        let listener = TcpListener::bind(self.addr).await.expect("the same port again");
        self.server = serve(listener, Arc::clone(&self.script), Arc::clone(&self.seen));
    }

    pub fn connections(&self) -> usize {
        self.seen.connections.load(Ordering::SeqCst)
    }

    /// The frames the client sent, in order.
    pub fn received(&self) -> Vec<String> {
        self.seen.received.lock().expect("lock").clone()
    }

    /// The path and query of every upgrade request.
    pub fn urls(&self) -> Vec<String> {
        self.seen.urls.lock().expect("lock").clone()
    }
}

impl Drop for FakeVenue {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn serve(listener: TcpListener, script: Script, seen: Arc<Seen>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut sessions = tokio::task::JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            let n = seen.connections.fetch_add(1, Ordering::SeqCst);
            let mut steps = script(n).into_iter().peekable();
            let reject = match steps.peek() {
                Some(Step::Reject(status)) => Some(*status),
                _ => None,
            };
            let seen = Arc::clone(&seen);
            sessions.spawn(async move {
                // tungstenite's callback type: its error is a whole response.
                #[allow(clippy::result_large_err)]
                let record = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
                    seen.urls.lock().expect("lock").push(request.uri().to_string());
                    match reject {
                        Some(status) => {
                            let mut refused = ErrorResponse::new(Some("refused".into()));
                            *refused.status_mut() = status.try_into().expect("a status");
                            Err(refused)
                        }
                        None => Ok(response),
                    }
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, record).await else { return };
                for step in steps {
                    match step {
                        Step::Reject(_) => return,
                        Step::Recv => match ws.next().await {
                            Some(Ok(Frame::Text(text))) => {
                                seen.received.lock().expect("lock").push(text.to_string())
                            }
                            _ => return,
                        },
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
                        Step::Stream { count, every, frames } => {
                            for n in 1..=count {
                                if ws.send(Frame::text(frames(n))).await.is_err() {
                                    return;
                                }
                                tokio::time::sleep(every).await;
                            }
                        }
                    }
                }
                // Then stream nothing more, answering pings.
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    })
}
