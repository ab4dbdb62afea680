//! `GET /ws`: the live stream to one browser.
//!
//! The per-client loop is generic over a `Sink` and a `Stream` of messages so
//! tests can drive it with channels; the HTTP upgrade is a thin wrapper.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocketUpgrade, close_code};
use axum::response::Response;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use marquee_shared::{ClientMessage, ErrorCode, ServerMessage};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::AppState;
use crate::hub::{self, HubHandle};
use crate::pipeline::PipelineStats;
use crate::time::now_ns;

/// The largest client message we parse; anything larger gets an error reply.
pub const MAX_CLIENT_MESSAGE: usize = 4 * 1024;
/// Frames larger than this are refused by the WebSocket layer itself.
const MAX_FRAME: usize = 64 * 1024;
/// A client whose socket accepts nothing for this long is disconnected.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    ws.max_message_size(MAX_FRAME).max_frame_size(MAX_FRAME).on_upgrade(move |socket| async move {
        let (sink, stream) = socket.split();
        let _connected = state.stats.clients.enter();
        serve_client(sink, stream, &state.hub, &state.stats, &state.shutdown).await;
    })
}

/// Why a client's session ended early.
#[derive(Debug)]
enum Gone {
    /// The socket failed or took longer than [`SEND_TIMEOUT`] to accept a frame.
    Unwritable,
}

/// Streams the hub to one client until it leaves, the hub stops or the server
/// shuts down. Replies to client messages in between.
pub async fn serve_client<S, R, E>(
    mut sink: S,
    mut stream: R,
    hub: &HubHandle,
    stats: &PipelineStats,
    shutdown: &CancellationToken,
) where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
{
    let Ok(mut subscription) = hub.subscribe().await else {
        close(&mut sink, close_code::AWAY, "server is shutting down").await;
        return;
    };
    if send(&mut sink, subscription.snapshot.clone()).await.is_err() {
        return;
    }
    loop {
        let outcome = tokio::select! {
            () = shutdown.cancelled() => {
                close(&mut sink, close_code::AWAY, "server is shutting down").await;
                return;
            }
            update = subscription.updates.recv() => match update {
                Ok(frame) => send(&mut sink, frame).await,
                Err(RecvError::Lagged(skipped)) => {
                    // Tell the client what it missed, then start it afresh
                    // from a new snapshot rather than replaying stale batches.
                    tracing::debug!(skipped, "client lagged");
                    stats.hub.add_dropped(skipped);
                    let Ok(fresh) = hub.subscribe().await else { return };
                    subscription = fresh;
                    match send_message(&mut sink, &ServerMessage::Lagged { skipped }).await {
                        Ok(()) => send(&mut sink, subscription.snapshot.clone()).await,
                        Err(gone) => Err(gone),
                    }
                }
                Err(RecvError::Closed) => {
                    close(&mut sink, close_code::AWAY, "stream ended").await;
                    return;
                }
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => match reply_to(text.as_str()) {
                    Some(reply) => send_message(&mut sink, &reply).await,
                    None => Ok(()),
                },
                Some(Ok(Message::Binary(_))) => send_message(&mut sink, &error(ErrorCode::Unsupported, "binary frames are not supported; send JSON text")).await,
                // The WebSocket layer answers pings itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
            },
        };
        if let Err(Gone::Unwritable) = outcome {
            tracing::debug!("client socket unwritable; disconnecting it");
            return;
        }
    }
}

/// The server's answer to one text message from a client, if any.
pub fn reply_to(text: &str) -> Option<ServerMessage> {
    if text.len() > MAX_CLIENT_MESSAGE {
        return Some(error(
            ErrorCode::TooLarge,
            &format!("message is {} bytes; the limit is {MAX_CLIENT_MESSAGE}", text.len()),
        ));
    }
    match serde_json::from_str::<ClientMessage>(text) {
        Ok(ClientMessage::Ping { nonce }) => Some(ServerMessage::Pong { nonce, server_time: now_ns() }),
        Err(err) => Some(error(ErrorCode::BadMessage, &format!("not a client message: {err}"))),
    }
}

fn error(code: ErrorCode, message: &str) -> ServerMessage {
    ServerMessage::Error { code, message: message.to_owned() }
}

async fn send_message<S: Sink<Message> + Unpin>(sink: &mut S, message: &ServerMessage) -> Result<(), Gone> {
    match hub::encode(message) {
        Some(frame) => send(sink, frame).await,
        None => Ok(()),
    }
}

async fn send<S: Sink<Message> + Unpin>(sink: &mut S, frame: Utf8Bytes) -> Result<(), Gone> {
    match tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(frame))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(Gone::Unwritable),
    }
}

async fn close<S: Sink<Message> + Unpin>(sink: &mut S, code: u16, reason: &'static str) {
    let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
    // Best effort: the peer may already be gone, and there is nothing left to do then.
    if tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Close(Some(frame)))).await.is_err() {
        tracing::debug!("close frame not delivered in time");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_gets_a_pong_with_the_same_nonce() {
        assert!(matches!(
            reply_to(r#"{"type":"ping","nonce":77}"#),
            Some(ServerMessage::Pong { nonce: 77, .. })
        ));
    }

    #[test]
    fn bad_json_and_unknown_types_get_a_bad_message_error() {
        for text in ["{", "[]", r#"{"type":"buy","qty":1}"#, ""] {
            let reply = reply_to(text);
            assert!(
                matches!(reply, Some(ServerMessage::Error { code: ErrorCode::BadMessage, .. })),
                "{text:?} -> {reply:?}"
            );
        }
    }

    #[test]
    fn oversized_messages_are_refused_before_parsing() {
        let big = format!(r#"{{"type":"ping","nonce":1,"pad":"{}"}}"#, "x".repeat(MAX_CLIENT_MESSAGE));
        assert!(matches!(reply_to(&big), Some(ServerMessage::Error { code: ErrorCode::TooLarge, .. })));
    }
}
