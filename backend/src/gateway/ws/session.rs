//! One client's session: the hub's stream, filtered to what the client
//! subscribed to, and the answers to what it sends. Everything goes into the
//! client's [`Outbox`]; nothing here waits for the socket.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::Message;
use futures_util::{Stream, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use marquee_shared::{ClientMessage, ErrorCode, ServerMessage};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::filter::Filter;
use super::outbox::{Outbox, Stamps};
use super::{BURST, MESSAGES_PER_SECOND, Settings, classify, close_for, parse};
use crate::common::time::now_ns;
use crate::hub::market::{Replay, ReplayRange};
use crate::hub::{self, Envelope, Frame, HubHandle, Subscription};
use crate::metrics::PipelineStats;
use crate::metrics::edge::Disconnect;

type Updates = broadcast::Receiver<Arc<Envelope>>;

/// The hub stopped: the server is shutting down.
struct HubStopped;

pub struct Session<'a> {
    outbox: &'a Outbox,
    hub: &'a HubHandle,
    stats: &'a PipelineStats,
    filter: Filter,
    /// The seq of every symbol in the last snapshot sent: a resume replays
    /// up to here, the stream carries on after it.
    snapshot_seqs: Arc<BTreeMap<String, u64>>,
    limiter: DefaultDirectRateLimiter,
    /// When the client was last told it sends too fast: at most once a
    /// second, so a flood cannot fill its queue with replies.
    told_rate_limited: Option<Instant>,
}

impl<'a> Session<'a> {
    pub fn new(outbox: &'a Outbox, hub: &'a HubHandle, stats: &'a PipelineStats, settings: Settings) -> Self {
        let per_second = NonZeroU32::new(MESSAGES_PER_SECOND).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN);
        Self {
            outbox,
            hub,
            stats,
            filter: Filter::new(settings.max_subscriptions),
            snapshot_seqs: Arc::default(),
            limiter: RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst)),
            told_rate_limited: None,
        }
    }

    /// Runs until the session ends; the close to send (if any) is queued
    /// before this returns.
    pub async fn run<R>(mut self, stream: &mut R, shutdown: &CancellationToken) -> Disconnect
    where
        R: Stream<Item = Result<Message, axum::Error>> + Unpin,
    {
        let reason = self.serve(stream, shutdown).await;
        let mut queue = self.outbox.lock();
        queue.discard();
        queue.close(close_for(reason));
        drop(queue);
        self.outbox.wake();
        reason
    }

    async fn serve<R>(&mut self, stream: &mut R, shutdown: &CancellationToken) -> Disconnect
    where
        R: Stream<Item = Result<Message, axum::Error>> + Unpin,
    {
        let Ok(mut updates) = self.start_afresh().await else { return Disconnect::Shutdown };
        // Made once: each new `cancelled()` registers with the token, which
        // every client shares.
        let mut cancelled = std::pin::pin!(shutdown.cancelled());
        loop {
            // Biased: the stream first, so a wake for an update does not
            // also poll the socket's read half (a lock and a readiness check
            // per client per update). The client's messages still get their
            // turn: the broadcast answers `Pending` once the task's
            // cooperative budget is spent, however far behind it is.
            let outcome = tokio::select! {
                biased;
                () = &mut cancelled => return Disconnect::Shutdown,
                update = updates.recv() => match update {
                    Ok(envelope) => {
                        self.deliver(&envelope, &mut updates).await
                    }
                    Err(RecvError::Lagged(skipped)) => self.conflate(skipped, &mut updates).await,
                    Err(RecvError::Closed) => return Disconnect::Shutdown,
                },
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Text(text))) => self.on_text(text.as_str(), &mut updates).await,
                    Some(Ok(Message::Binary(_))) => {
                        self.error(ErrorCode::Unsupported, "binary frames are not supported; send JSON text");
                        Ok(())
                    }
                    // The WebSocket layer answers pings itself.
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                    // The WebSocket layer queues the echo; the writer sends it.
                    Some(Ok(Message::Close(_))) => return Disconnect::ClientClosed,
                    Some(Err(err)) => return classify(err),
                    None => return Disconnect::ClientGone,
                },
            };
            if outcome.is_err() {
                return Disconnect::Shutdown;
            }
        }
    }

    /// Queues a fresh snapshot; returns the stream that carries on from it.
    async fn start_afresh(&mut self) -> Result<Updates, HubStopped> {
        let Subscription { snapshot, snapshot_seqs, updates } =
            self.hub.subscribe().await.map_err(|_| HubStopped)?;
        self.snapshot_seqs = snapshot_seqs;
        self.outbox.lock().push_anyway(snapshot);
        self.outbox.wake();
        Ok(updates)
    }

    /// Queues `frame`, or conflates the client if its queue is full.
    async fn queue(&mut self, frame: Frame, stamps: Stamps, updates: &mut Updates) -> Result<(), HubStopped> {
        match self.outbox.push(frame, stamps) {
            Ok(()) => Ok(()),
            Err(_full) => self.conflate(0, updates).await,
        }
    }

    /// Everything queued (and `skipped` on the broadcast) is summed up by the
    /// latest value of each symbol in a fresh snapshot; the client stays.
    async fn conflate(&mut self, skipped: u64, updates: &mut Updates) -> Result<(), HubStopped> {
        let skipped = skipped + self.outbox.lock().clear();
        tracing::debug!(skipped, "client conflated");
        self.stats.edge.conflated(skipped);
        self.stats.gateway.add_dropped(skipped);
        self.notice(&ServerMessage::Lagged { skipped });
        *updates = self.start_afresh().await?;
        Ok(())
    }

    async fn deliver(&mut self, envelope: &Envelope, updates: &mut Updates) -> Result<(), HubStopped> {
        let Some(frame) = self.filter.select(envelope) else { return Ok(()) };
        // The shared frame carries every tick; a filtered copy only some.
        let stamps = match &envelope.message {
            ServerMessage::Ticks { ticks } if !std::ptr::eq(frame.as_str(), envelope.frame.as_str()) => {
                Some(ticks.iter().filter(|t| self.filter.wants(&t.symbol)).map(|t| t.ts).collect())
            }
            _ => envelope.stamps.clone(),
        };
        self.queue(frame, stamps, updates).await
    }

    async fn on_text(&mut self, text: &str, updates: &mut Updates) -> Result<(), HubStopped> {
        if self.limiter.check().is_err() {
            let now = Instant::now();
            if self.told_rate_limited.is_none_or(|told| now.duration_since(told) >= Duration::from_secs(1)) {
                self.told_rate_limited = Some(now);
                let message = format!(
                    "more than {MESSAGES_PER_SECOND} messages a second; this one (and any more this second) was ignored"
                );
                self.error(ErrorCode::RateLimited, &message);
            }
            return Ok(());
        }
        let message = match parse(text) {
            Ok(message) => message,
            Err((code, message)) => {
                self.error(code, &message);
                return Ok(());
            }
        };
        match message {
            ClientMessage::Ping { nonce } => {
                self.reply(&ServerMessage::Pong { nonce, server_time: now_ns() });
                Ok(())
            }
            ClientMessage::Subscribe { symbols, channels } => {
                let changed = self.filter.subscribe(&symbols, &channels);
                self.answer_subscription(changed);
                Ok(())
            }
            ClientMessage::Unsubscribe { symbols, channels } => {
                let changed = self.filter.unsubscribe(&symbols, &channels);
                self.answer_subscription(changed);
                Ok(())
            }
            ClientMessage::Resume { last_seq } => self.resume(last_seq, updates).await,
        }
    }

    fn answer_subscription(&mut self, changed: Result<(), String>) {
        match changed {
            Ok(()) => self.reply(&self.filter.describe()),
            Err(message) => self.error(ErrorCode::BadMessage, &message),
        }
    }

    /// Replays the ticks between what the client saw and the last snapshot
    /// it was sent. If the hub no longer holds them all, the client is told
    /// how many are lost and starts afresh.
    async fn resume(
        &mut self,
        last_seq: BTreeMap<String, u64>,
        updates: &mut Updates,
    ) -> Result<(), HubStopped> {
        let ranges: Vec<_> = last_seq
            .into_iter()
            .filter(|(symbol, _)| self.filter.wants(symbol))
            .filter_map(|(symbol, after)| {
                let upto = *self.snapshot_seqs.get(&symbol)?;
                (upto > after).then_some(ReplayRange { symbol, after, upto })
            })
            .collect();
        let replay = if ranges.is_empty() {
            Replay::default()
        } else {
            self.hub.replay(ranges).await.map_err(|_| HubStopped)?
        };
        let replayed = replay.ticks.len() as u64;
        if !replay.ticks.is_empty() {
            self.reply(&ServerMessage::Ticks { ticks: replay.ticks });
        }
        if replay.missing > 0 {
            self.notice(&ServerMessage::Lagged { skipped: replay.missing });
            *updates = self.start_afresh().await?;
        }
        self.reply(&ServerMessage::Resumed { replayed });
        Ok(())
    }

    fn error(&mut self, code: ErrorCode, message: &str) {
        self.reply(&ServerMessage::Error { code, message: message.to_owned() });
    }

    /// Queues an answer whatever the queue's limits, never to be conflated
    /// away: the client asked for it, and the rate limit bounds how often.
    fn reply(&self, message: &ServerMessage) {
        if let Some(frame) = hub::encode(message) {
            self.outbox.lock().push_reply(frame);
            self.outbox.wake();
        }
    }

    /// Queues a notice about the stream (`lagged`) whatever the queue's limits.
    fn notice(&self, message: &ServerMessage) {
        if let Some(frame) = hub::encode(message) {
            self.outbox.lock().push_anyway(frame);
            self.outbox.wake();
        }
    }
}
