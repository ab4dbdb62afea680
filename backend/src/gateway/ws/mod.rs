//! `GET /ws`: the live stream to one browser.
//!
//! Each client has two halves joined by a bounded [`outbox::Outbox`]: the
//! session reads the hub's broadcast and the client's messages and queues
//! frames without ever waiting for the socket; the writer is the only part
//! that waits for it. A client whose queue fills is conflated (a `lagged`
//! notice and a fresh snapshot); one whose socket accepts nothing for the
//! stall timeout is closed with 1008. Protocol errors close with 1002, 1007
//! or 1009, a client's close is echoed, and shutdown closes with 1001.
//! Both halves are generic over `Sink`/`Stream` so tests can drive them.

pub(crate) mod filter;
pub mod outbox;
mod session;
mod writer;

use std::net::{IpAddr, Ipv4Addr};
use std::pin::pin;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocketUpgrade, close_code};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Sink, Stream, StreamExt};
use marquee_shared::ErrorCode;
use outbox::{Outbox, QueueLimits};
use tokio_util::sync::CancellationToken;
use writer::Written;

use super::AppState;
use super::api::ApiError;
use super::server::Peer;
use crate::hub::HubHandle;
use crate::metrics::PipelineStats;
use crate::metrics::edge::Disconnect;

/// The largest client message we parse; larger ones (up to [`MAX_FRAME`])
/// get an error reply.
pub const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
/// Messages larger than this close the connection with 1009.
pub const MAX_FRAME: usize = 64 * 1024;
/// Bytes read from a client's socket at a time.
const READ_BUFFER: usize = 4 * 1024;
/// Client messages per second a client may send on average, and in a burst.
pub const MESSAGES_PER_SECOND: u32 = 20;
const BURST: u32 = 40;

/// What a session needs from the server.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub queue: QueueLimits,
    pub stall: Duration,
    pub max_subscriptions: usize,
}

/// The WebSocket (JSON messages: `/api/v1/ws-schema.json`).
#[utoipa::path(get, path = "/ws", operation_id = "websocket", tag = "stream",
    responses((status = 101, description = "Switched to the WebSocket protocol"),
        (status = 400, description = "`not_websocket`: not a WebSocket handshake", body = marquee_shared::ApiError),
        (status = 403, description = "`forbidden_origin`", body = marquee_shared::ApiError),
        (status = 426, description = "`not_websocket`: the connection cannot be upgraded", body = marquee_shared::ApiError),
        (status = 503, description = "`too_many_connections` (with `Retry-After`)", body = marquee_shared::ApiError)))]
pub async fn upgrade(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    peer: Option<Extension<Peer>>,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Err(refused) = state.origins.check(&headers) {
        return crate::gateway::origin::refusal(&refused).into_response();
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            let message = format!("{}: /ws takes WebSocket connections only", rejection.body_text());
            return ApiError::new(rejection.status(), "not_websocket", message).into_response();
        }
    };
    let ip = peer.as_ref().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |Extension(peer)| peer.addr.ip());
    let slot = match state.connections.websocket(ip) {
        Ok(slot) => slot,
        Err(refusal) => {
            let message = match refusal {
                crate::metrics::edge::Refusal::PerIp => "too many WebSocket connections from your address",
                _ => "the server has as many WebSocket clients as it serves; try again later",
            };
            let mut response =
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "too_many_connections", message)
                    .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return response;
        }
    };
    let session = state.sessions.token();
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        // Clients send little: the default 128 KiB read buffer is zeroed on
        // every read attempt, which costs more than the whole fan-out.
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            // Held for the session: the TCP connection's place, the WebSocket's
            // place, and the shutdown's wait for this session.
            let _held = (peer, slot, session);
            let _connected = state.stats.clients.enter();
            let (sink, stream) = socket.split();
            serve_client(sink, stream, &state.hub, &state.stats, &state.shutdown, state.ws).await;
        })
}

/// Streams the hub to one client until it leaves, breaks the protocol,
/// stalls, or the server shuts down; counts and returns why it ended.
pub async fn serve_client<S, R>(
    mut sink: S,
    mut stream: R,
    hub: &HubHandle,
    stats: &PipelineStats,
    shutdown: &CancellationToken,
    settings: Settings,
) -> Disconnect
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let outbox = Outbox::new(settings.queue);
    let reason = {
        let mut writer = pin!(writer::write(&outbox, &mut sink, settings.stall, &stats.gateway.latency));
        let session = session::Session::new(&outbox, hub, stats, settings);
        let mut reading = pin!(session.run(&mut stream, shutdown));
        tokio::select! {
            biased;
            reason = &mut reading => {
                // The session queued its close (or the client's echo): let
                // the writer finish it.
                match writer.await {
                    Written::Stalled => Disconnect::Stalled,
                    Written::Closed | Written::Failed => reason,
                }
            }
            written = &mut writer => match written {
                Written::Stalled => Disconnect::Stalled,
                Written::Closed | Written::Failed => Disconnect::ClientGone,
            },
        }
    };
    stats.edge.disconnected(reason);
    if reason == Disconnect::Stalled {
        writer::close_stalled(&mut sink, settings.stall).await;
    }
    reason
}

/// The close code and reason for a session that ends for `reason`, if the
/// server is to send one (a client's close is echoed by the WebSocket layer).
fn close_for(reason: Disconnect) -> Option<(u16, String)> {
    let (code, text) = match reason {
        Disconnect::ClientClosed | Disconnect::ClientGone | Disconnect::Stalled => return None,
        Disconnect::TooLarge => (close_code::SIZE, format!("message over {MAX_FRAME} bytes")),
        Disconnect::Protocol => (close_code::PROTOCOL, "WebSocket protocol error".to_owned()),
        Disconnect::BadUtf8 => (close_code::INVALID, "text frame is not UTF-8".to_owned()),
        Disconnect::Shutdown => (close_code::AWAY, "server is shutting down".to_owned()),
    };
    Some((code, text))
}

/// Why reading from the client failed, from the WebSocket layer's error.
fn classify(err: axum::Error) -> Disconnect {
    use tungstenite::Error;
    match err.into_inner().downcast_ref::<Error>() {
        Some(Error::Capacity(_)) => Disconnect::TooLarge,
        Some(Error::Protocol(_)) => Disconnect::Protocol,
        Some(Error::Utf8(_)) => Disconnect::BadUtf8,
        _ => Disconnect::ClientGone,
    }
}

/// A client's text message, or the error to answer it with.
pub fn parse(text: &str) -> Result<marquee_shared::ClientMessage, (ErrorCode, String)> {
    if text.len() > MAX_CLIENT_MESSAGE {
        let message = format!("message is {} bytes; the limit is {MAX_CLIENT_MESSAGE}", text.len());
        return Err((ErrorCode::TooLarge, message));
    }
    serde_json::from_str(text).map_err(|err| (ErrorCode::BadMessage, format!("not a client message: {err}")))
}

#[cfg(test)]
mod tests;
