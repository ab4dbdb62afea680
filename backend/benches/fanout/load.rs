//! The load generator: N WebSocket clients (tokio-tungstenite) that read
//! everything, measure each tick's age from its event time, count seq gaps
//! per symbol, bytes and `lagged` notices; and sockets that never read.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde::Deserialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use crate::plain::now_ns;

/// What one client saw while measuring.
#[derive(Debug)]
pub struct ClientStats {
    pub ticks: u64,
    pub bytes: u64,
    pub gaps: u64,
    pub lagged: u64,
    /// Tick age at arrival, microseconds.
    pub latency: Histogram<u64>,
    /// The connection ended before the run did.
    pub dropped: bool,
}

#[derive(Deserialize)]
struct Batch<'a> {
    #[serde(borrow)]
    ticks: Vec<TickSeen<'a>>,
}

#[derive(Deserialize)]
struct TickSeen<'a> {
    symbol: &'a str,
    seq: u64,
    ts: i64,
}

/// Clients reading `addr`'s `/ws`, recording once `measuring` is set.
pub struct Clients {
    tasks: Vec<JoinHandle<ClientStats>>,
    stop: CancellationToken,
}

impl Clients {
    /// Connects `n` clients, 50 at a time (the listener's backlog is finite).
    pub async fn connect(addr: SocketAddr, n: usize, measuring: Arc<AtomicBool>) -> anyhow::Result<Self> {
        let stop = CancellationToken::new();
        let mut tasks = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
            let handshakes = chunk.iter().map(|_| connect(addr, None));
            for ws in futures_util::future::join_all(handshakes).await {
                let ws = ws?;
                tasks.push(tokio::spawn(read(ws, Arc::clone(&measuring), stop.clone())));
            }
        }
        Ok(Self { tasks, stop })
    }

    /// Stops every client (closing its socket) and collects what it saw.
    pub async fn finish(self) -> Vec<ClientStats> {
        self.stop.cancel();
        let mut all = Vec::with_capacity(self.tasks.len());
        for task in self.tasks {
            if let Ok(stats) = task.await {
                all.push(stats);
            }
        }
        all
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket client; with `recv_buffer`, a small kernel receive buffer.
pub async fn connect(addr: SocketAddr, recv_buffer: Option<u32>) -> anyhow::Result<Ws> {
    let socket = TcpSocket::new_v4()?;
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    let (ws, _) =
        tokio_tungstenite::client_async(format!("ws://{addr}/ws"), MaybeTlsStream::Plain(stream)).await?;
    Ok(ws)
}

async fn read(mut ws: Ws, measuring: Arc<AtomicBool>, stop: CancellationToken) -> ClientStats {
    let mut stats = ClientStats {
        ticks: 0,
        bytes: 0,
        gaps: 0,
        lagged: 0,
        latency: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds"),
        dropped: false,
    };
    let mut last: HashMap<String, u64> = HashMap::new();
    let mut stopped = std::pin::pin!(stop.cancelled());
    loop {
        let frame = tokio::select! {
            () = &mut stopped => break,
            frame = ws.next() => frame,
        };
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => {
                stats.dropped = !stop.is_cancelled();
                break;
            }
        };
        let now = now_ns();
        let measure = measuring.load(Ordering::Relaxed);
        if measure {
            stats.bytes += text.len() as u64;
        }
        let json = text.as_str();
        if json.starts_with(r#"{"type":"ticks""#) {
            let Ok(batch) = serde_json::from_str::<Batch<'_>>(json) else { continue };
            for tick in batch.ticks {
                let previous = match last.get_mut(tick.symbol) {
                    Some(seq) => Some(std::mem::replace(seq, tick.seq)),
                    None => {
                        last.insert(tick.symbol.to_owned(), tick.seq);
                        None
                    }
                };
                if measure {
                    stats.ticks += 1;
                    stats.gaps += u64::from(previous.is_some_and(|p| tick.seq != p + 1));
                    let age_us = u64::try_from((now - tick.ts) / 1_000).unwrap_or(0).max(1);
                    stats.latency.saturating_record(age_us);
                }
            }
        } else if json.starts_with(r#"{"type":"lagged""#) {
            // A fresh snapshot follows: the next tick of each symbol starts anew.
            last.clear();
            if measure {
                stats.lagged += 1;
            }
        } else if json.starts_with(r#"{"type":"snapshot""#) {
            last.clear();
        }
    }
    // Closing may wait on a server that is itself overloaded: bounded.
    drop(tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await);
    stats
}

/// Sockets that complete the handshake and then never read a byte.
pub async fn stalled(addr: SocketAddr, n: usize) -> anyhow::Result<Vec<Ws>> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        held.push(connect(addr, Some(4096)).await?);
    }
    Ok(held)
}

/// Waits until a client of `addr` receives ticks (the stream is up).
pub async fn wait_for_ticks(addr: SocketAddr, within: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Ok(mut ws) = connect(addr, None).await {
            while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, ws.next()).await {
                if let Message::Text(text) = frame
                    && text.as_str().starts_with(r#"{"type":"ticks""#)
                {
                    return Ok(());
                }
            }
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "no ticks from {addr} within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
