//! The baseline: a plain tokio `broadcast` WebSocket server in the style of
//! axum's chat example, sending the same JSON tick batches as Marquee (made
//! by Marquee's own random walk, serialised as the same `ServerMessage`),
//! with `TCP_NODELAY` like Marquee. No queues of its own, no snapshot, no
//! conflation: a client that falls behind the ring silently skips.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use marquee::driver::{RandomWalk, Seed, WalkParams};
use marquee::sources::demo_universe::SYMBOLS;
use marquee_shared::ServerMessage;
use tokio::sync::broadcast;

/// Runs the baseline on `listen` until killed; prints its address first.
pub async fn serve(listen: &str, symbols: usize, interval: Duration) -> anyhow::Result<()> {
    let (ticks, _) = broadcast::channel::<Utf8Bytes>(256);
    tokio::spawn(produce(ticks.clone(), symbols, interval));
    let app = Router::new().route("/ws", get(upgrade)).with_state(ticks);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    #[expect(clippy::print_stdout, reason = "the address is how the bench finds the server")]
    {
        println!("listening on {}", listener.local_addr()?);
    }
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        // Like Marquee; without it Nagle's algorithm adds tens of ms.
        drop(stream.set_nodelay(true));
    });
    axum::serve(listener, app).await?;
    Ok(())
}

/// Marquee's driver in miniature: every interval, one step of the walk over
/// every symbol, as one `ticks` message.
async fn produce(ticks: broadcast::Sender<Utf8Bytes>, symbols: usize, interval: Duration) {
    let seeds = SYMBOLS.iter().take(symbols).map(|s| Seed::at(s.ticker, s.reference)).collect();
    let params =
        WalkParams { volatility: 0.4, drift: 0.0, step_secs: 6.0, jump_probability: 0.0005, jump_size: 0.01 };
    let mut walk = RandomWalk::new(seeds, params, 42);
    let mut clock = tokio::time::interval(interval);
    loop {
        clock.tick().await;
        let message = ServerMessage::Ticks { ticks: walk.step(now_ns()) };
        if let Ok(json) = serde_json::to_string(&message) {
            // No receivers is fine.
            drop(ticks.send(Utf8Bytes::from(json)));
        }
    }
}

async fn upgrade(ws: WebSocketUpgrade, State(ticks): State<broadcast::Sender<Utf8Bytes>>) -> Response {
    ws.on_upgrade(move |socket| client(socket, ticks.subscribe()))
}

async fn client(mut socket: WebSocket, mut ticks: broadcast::Receiver<Utf8Bytes>) {
    loop {
        match ticks.recv().await {
            Ok(frame) => {
                if socket.send(Message::Text(frame)).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

pub fn now_ns() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}
