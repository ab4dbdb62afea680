//! `GET /ws`: the live stream to one browser.
//!
//! The per-client loop is generic over a `Sink` and a `Stream` of messages so
//! tests can drive it with channels; the HTTP upgrade is a thin wrapper.
//! A client reads the hub's broadcast ring through its own bounded cursor;
//! one that falls behind is conflated to the latest value of every symbol (a
//! `lagged` notice and a fresh snapshot), never slowing anyone else.

mod filter;

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocketUpgrade, close_code};
use axum::response::Response;
use filter::Filter;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use marquee_shared::{ClientMessage, ErrorCode, ServerMessage};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::AppState;
use crate::hub::market::ReplayRange;
use crate::hub::{self, Envelope, HubHandle, Subscription};
use crate::metrics::PipelineStats;
use crate::time::now_ns;

/// The largest client message we parse; anything larger gets an error reply.
pub const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
/// Frames larger than this are refused by the WebSocket layer itself.
const MAX_FRAME: usize = 64 * 1024;
/// A client whose socket accepts nothing for this long is disconnected.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Client messages per second a client may send on average, and in a burst.
pub const MESSAGES_PER_SECOND: u32 = 20;
const BURST: u32 = 40;

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
    /// The hub stopped (shutdown).
    HubStopped,
}

/// One client's connection state.
struct Session<'a, S> {
    sink: S,
    hub: &'a HubHandle,
    stats: &'a PipelineStats,
    filter: Filter,
    /// The seq of every symbol in the last snapshot sent: a resume replays
    /// up to here, the stream carries on after it.
    snapshot_seqs: BTreeMap<String, u64>,
    limiter: DefaultDirectRateLimiter,
}

/// Streams the hub to one client until it leaves, the hub stops or the server
/// shuts down. Answers client messages in between.
pub async fn serve_client<S, R, E>(
    sink: S,
    mut stream: R,
    hub: &HubHandle,
    stats: &PipelineStats,
    shutdown: &CancellationToken,
) where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
{
    let per_second = NonZeroU32::new(MESSAGES_PER_SECOND).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN);
    let mut session = Session {
        sink,
        hub,
        stats,
        filter: Filter::default(),
        snapshot_seqs: BTreeMap::new(),
        limiter: RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst)),
    };
    let Ok(mut updates) = session.start_afresh().await else {
        close(&mut session.sink, close_code::AWAY, "server is shutting down").await;
        return;
    };
    loop {
        let outcome = tokio::select! {
            () = shutdown.cancelled() => {
                close(&mut session.sink, close_code::AWAY, "server is shutting down").await;
                return;
            }
            update = updates.recv() => match update {
                Ok(envelope) => session.deliver(&envelope).await,
                Err(RecvError::Lagged(skipped)) => {
                    // Conflate: everything skipped is summed up by the
                    // latest value of each symbol in a fresh snapshot.
                    tracing::debug!(skipped, "client lagged");
                    stats.gateway.add_dropped(skipped);
                    match session.send_message(&ServerMessage::Lagged { skipped }).await {
                        Ok(()) => session.start_afresh().await.map(|fresh| updates = fresh),
                        Err(gone) => Err(gone),
                    }
                }
                Err(RecvError::Closed) => {
                    close(&mut session.sink, close_code::AWAY, "stream ended").await;
                    return;
                }
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => session.on_text(text.as_str(), &mut updates).await,
                Some(Ok(Message::Binary(_))) => session.send_error(ErrorCode::Unsupported, "binary frames are not supported; send JSON text").await,
                // The WebSocket layer answers pings itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
            },
        };
        if let Err(gone) = outcome {
            tracing::debug!(?gone, "client session ends");
            return;
        }
    }
}

impl<S: Sink<Message> + Unpin> Session<'_, S> {
    /// Sends a fresh snapshot; returns the stream that carries on from it.
    async fn start_afresh(
        &mut self,
    ) -> Result<tokio::sync::broadcast::Receiver<std::sync::Arc<Envelope>>, Gone> {
        let Subscription { snapshot, snapshot_seqs, updates } =
            self.hub.subscribe().await.map_err(|_| Gone::HubStopped)?;
        self.snapshot_seqs = snapshot_seqs;
        send(&mut self.sink, snapshot).await?;
        Ok(updates)
    }

    async fn deliver(&mut self, envelope: &Envelope) -> Result<(), Gone> {
        let Some(frame) = self.filter.select(envelope) else { return Ok(()) };
        send(&mut self.sink, frame).await?;
        if let ServerMessage::Ticks { ticks } = &envelope.message {
            let sent = ticks.iter().filter(|t| self.filter.wants(&t.symbol)).map(|t| t.ts);
            self.stats.gateway.latency.record_ages(now_ns(), sent);
        }
        Ok(())
    }

    async fn on_text(
        &mut self,
        text: &str,
        updates: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<Envelope>>,
    ) -> Result<(), Gone> {
        if self.limiter.check().is_err() {
            let message = format!("more than {MESSAGES_PER_SECOND} messages a second; this one was ignored");
            return self.send_error(ErrorCode::RateLimited, &message).await;
        }
        let message = match parse(text) {
            Ok(message) => message,
            Err((code, message)) => return self.send_error(code, &message).await,
        };
        match message {
            ClientMessage::Ping { nonce } => {
                self.send_message(&ServerMessage::Pong { nonce, server_time: now_ns() }).await
            }
            ClientMessage::Subscribe { symbols, channels } => {
                let changed = self.filter.subscribe(&symbols, &channels);
                self.answer_subscription(changed).await
            }
            ClientMessage::Unsubscribe { symbols, channels } => {
                let changed = self.filter.unsubscribe(&symbols, &channels);
                self.answer_subscription(changed).await
            }
            ClientMessage::Resume { last_seq } => self.resume(last_seq, updates).await,
        }
    }

    async fn answer_subscription(&mut self, changed: Result<(), String>) -> Result<(), Gone> {
        match changed {
            Ok(()) => self.send_message(&self.filter.describe()).await,
            Err(message) => self.send_error(ErrorCode::BadMessage, &message).await,
        }
    }

    /// Replays the ticks between what the client saw and the last snapshot
    /// it was sent. If the hub no longer holds them all, the client is told
    /// how many are lost and starts afresh.
    async fn resume(
        &mut self,
        last_seq: BTreeMap<String, u64>,
        updates: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<Envelope>>,
    ) -> Result<(), Gone> {
        let ranges: Vec<_> = last_seq
            .into_iter()
            .filter(|(symbol, _)| self.filter.wants(symbol))
            .filter_map(|(symbol, after)| {
                let upto = *self.snapshot_seqs.get(&symbol)?;
                (upto > after).then_some(ReplayRange { symbol, after, upto })
            })
            .collect();
        let replay = if ranges.is_empty() {
            hub::market::Replay::default()
        } else {
            self.hub.replay(ranges).await.map_err(|_| Gone::HubStopped)?
        };
        let replayed = replay.ticks.len() as u64;
        if !replay.ticks.is_empty() {
            self.send_message(&ServerMessage::Ticks { ticks: replay.ticks }).await?;
        }
        if replay.missing > 0 {
            self.send_message(&ServerMessage::Lagged { skipped: replay.missing }).await?;
            *updates = self.start_afresh().await?;
        }
        self.send_message(&ServerMessage::Resumed { replayed }).await
    }

    async fn send_error(&mut self, code: ErrorCode, message: &str) -> Result<(), Gone> {
        self.send_message(&ServerMessage::Error { code, message: message.to_owned() }).await
    }

    async fn send_message(&mut self, message: &ServerMessage) -> Result<(), Gone> {
        match hub::encode(message) {
            Some(frame) => send(&mut self.sink, frame).await,
            None => Ok(()),
        }
    }
}

/// A client's text message, or the error to answer it with.
pub fn parse(text: &str) -> Result<ClientMessage, (ErrorCode, String)> {
    if text.len() > MAX_CLIENT_MESSAGE {
        let message = format!("message is {} bytes; the limit is {MAX_CLIENT_MESSAGE}", text.len());
        return Err((ErrorCode::TooLarge, message));
    }
    serde_json::from_str::<ClientMessage>(text)
        .map_err(|err| (ErrorCode::BadMessage, format!("not a client message: {err}")))
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
    fn client_messages_parse() {
        assert_eq!(parse(r#"{"type":"ping","nonce":77}"#), Ok(ClientMessage::Ping { nonce: 77 }));
    }

    #[test]
    fn bad_json_and_unknown_types_get_a_bad_message_error() {
        for text in ["{", "[]", r#"{"type":"buy","qty":1}"#, ""] {
            let reply = parse(text);
            assert!(matches!(reply, Err((ErrorCode::BadMessage, _))), "{text:?} -> {reply:?}");
        }
    }

    #[test]
    fn oversized_messages_are_refused_before_parsing() {
        let big = format!(r#"{{"type":"ping","nonce":1,"pad":"{}"}}"#, "x".repeat(MAX_CLIENT_MESSAGE));
        assert!(matches!(parse(&big), Err((ErrorCode::TooLarge, _))));
    }
}
