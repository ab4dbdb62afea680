//! A live source: one WebSocket connection to a venue (tokio-tungstenite
//! over rustls), kept up. It subscribes, turns the venue's trades into
//! ticks through the pure [`FeedBook`] (seq, de-duplication by trade id,
//! gaps) and sends them down the driver's channel like the simulation's.
//!
//! When the connection fails it reconnects with exponential backoff and
//! jitter, and subscribes again; after a session that worked (a venue's
//! forced disconnect) at once. Silence is failure: the feed pings the venue
//! every `ping_every`, and a connection that has said nothing (not even a
//! pong) for `silence` is dropped. A refusal only the user can fix (a bad
//! symbol, bad credentials) is retried at the slowest pace. A frame it
//! cannot read is reported and skipped.

mod start;
mod stats;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use marquee_shared::Tick;
use rand::Rng;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message as Frame};
use tokio_util::sync::CancellationToken;

pub use start::{FeedStart, spawn};
pub use stats::{FeedStats, FeedStatus};

use crate::common::time::now_ns;
use crate::sources::feed::{FeedBook, Outcome, Resume};
use crate::sources::venues::{Message, Protocol, Refusal};

/// The largest frame read: a venue's frames are a few hundred bytes; a
/// larger one (up to this) is read and reported, past it the connection is
/// dropped and made again.
pub const MAX_FRAME: usize = 2 << 20;

/// How a feed keeps its connection.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// The venue's endpoint (`--coinbase-url`).
    pub url: String,
    pub connect_timeout: Duration,
    /// A WebSocket ping this often.
    pub ping_every: Duration,
    /// Nothing heard for this long: reconnect.
    pub silence: Duration,
    /// The first wait before reconnecting; doubled each failed attempt.
    pub backoff_first: Duration,
    /// The longest wait, and the wait after a refusal only the user can fix.
    pub backoff_max: Duration,
}

impl FeedSettings {
    pub fn new(url: String) -> Self {
        Self {
            url,
            connect_timeout: Duration::from_secs(10),
            ping_every: Duration::from_secs(10),
            silence: Duration::from_secs(30),
            backoff_first: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
        }
    }
}

/// How a session ended.
#[derive(Debug)]
enum Ended {
    /// The connection failed or was closed; `worked`: it carried data first.
    Dropped { reason: String, worked: bool },
    /// The venue refused something only the user can fix.
    Refused(Refusal),
}

/// One venue connection and the symbols it streams.
#[derive(Debug)]
pub struct Feed {
    protocol: Box<dyn Protocol>,
    settings: FeedSettings,
    book: FeedBook,
    /// The venue's symbol → the symbol Marquee shows.
    names: HashMap<String, String>,
    out: mpsc::Sender<Vec<Tick>>,
    stats: Arc<FeedStats>,
}

impl Feed {
    pub fn new(
        protocol: Box<dyn Protocol>,
        settings: FeedSettings,
        symbols: &[(String, String)],
        resume: Vec<Resume>,
        out: mpsc::Sender<Vec<Tick>>,
        stats: Arc<FeedStats>,
    ) -> Self {
        let names = symbols.iter().cloned().collect();
        let book = FeedBook::new(resume, protocol.venue().ids());
        Self { protocol, settings, book, names, out, stats }
    }

    /// Streams until `shutdown`.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let venue = self.protocol.venue();
        let mut attempt: u32 = 0;
        loop {
            self.stats.set_status(FeedStatus::Connecting { attempt });
            let ended = tokio::select! {
                () = shutdown.cancelled() => break,
                ended = self.session() => ended,
            };
            let wait = match &ended {
                Ended::Dropped { worked: true, reason } => {
                    tracing::info!(%venue, %reason, "the feed's connection ended; reconnecting");
                    attempt = 0;
                    Duration::ZERO
                }
                Ended::Dropped { worked: false, reason } => {
                    attempt = attempt.saturating_add(1);
                    let wait = backoff(&self.settings, attempt);
                    tracing::warn!(%venue, %reason, attempt, wait_ms = wait.as_millis() as u64, "the feed cannot connect");
                    self.stats.set_status(FeedStatus::Reconnecting { attempt, reason: reason.clone() });
                    wait
                }
                Ended::Refused(refusal) => {
                    attempt = attempt.saturating_add(1);
                    tracing::error!(%venue, %refusal, "the venue refused the feed");
                    self.stats.set_status(FeedStatus::Failed { reason: refusal.to_string() });
                    self.settings.backoff_max
                }
            };
            self.stats.count_reconnect();
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
        self.stats.set_status(FeedStatus::Stopped);
    }

    async fn session(&mut self) -> Ended {
        let dropped = |reason: String, worked: bool| Ended::Dropped { reason, worked };
        let url = self.protocol.url(&self.settings.url);
        let config =
            WebSocketConfig::default().max_message_size(Some(MAX_FRAME)).max_frame_size(Some(MAX_FRAME));
        let connect = tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true);
        let mut ws = match tokio::time::timeout(self.settings.connect_timeout, connect).await {
            Ok(Ok((ws, _))) => ws,
            // A bad key is refused at the upgrade (Finnhub: 401).
            Ok(Err(tungstenite::Error::Http(response)))
                if matches!(response.status().as_u16(), 401 | 403) =>
            {
                let venue = self.protocol.venue();
                let reason = format!("HTTP {} at the upgrade", response.status());
                return Ended::Refused(Refusal::Auth { venue, reason, env: venue.key_hint() });
            }
            // The error names the host, never the URL (a key may be in it).
            Ok(Err(err)) => return dropped(describe(&err), false),
            Err(_) => {
                return dropped(format!("no connection within {:?}", self.settings.connect_timeout), false);
            }
        };
        for frame in self.protocol.greeting() {
            if let Err(err) = ws.send(Frame::text(frame)).await {
                return dropped(describe(&err), false);
            }
        }
        self.stats.set_status(FeedStatus::Connected);
        let mut worked = false;
        let mut ping =
            tokio::time::interval_at(Instant::now() + self.settings.ping_every, self.settings.ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut heard = Instant::now();
        loop {
            let frame = tokio::select! {
                frame = ws.next() => frame,
                _ = ping.tick() => {
                    if let Err(err) = ws.send(Frame::Ping(Vec::new().into())).await {
                        return dropped(describe(&err), worked);
                    }
                    continue;
                }
                () = tokio::time::sleep_until(heard + self.settings.silence) => {
                    return dropped(format!("nothing heard for {:?}", self.settings.silence), worked);
                }
            };
            heard = Instant::now();
            let text = match frame {
                None => return dropped("the venue closed the connection".into(), worked),
                Some(Err(err)) => return dropped(describe(&err), worked),
                Some(Ok(Frame::Text(text))) => text,
                Some(Ok(Frame::Close(close))) => {
                    let reason =
                        close.map_or_else(|| "no reason".to_owned(), |c| format!("{} {}", c.code, c.reason));
                    return dropped(format!("the venue closed the connection ({reason})"), worked);
                }
                Some(Ok(Frame::Binary(bytes))) => {
                    self.stats.bad_frame(&format!("a binary frame of {} bytes", bytes.len()));
                    continue;
                }
                Some(Ok(_)) => continue, // ping (answered by tungstenite), pong
            };
            self.stats.count_message();
            let messages = match self.protocol.read(&text) {
                Ok(messages) => messages,
                Err(bad) => {
                    self.stats.bad_frame(&bad.to_string());
                    continue;
                }
            };
            let received = now_ns();
            let step = self.apply(messages);
            for answer in step.answers {
                if let Err(err) = ws.send(Frame::text(answer)).await {
                    return dropped(describe(&err), worked);
                }
            }
            self.stats.set_counts(self.book.counts());
            if !step.ticks.is_empty() {
                worked = true;
                self.stats.latency.record_ages(received, step.ticks.iter().map(|t| t.ts));
                if self.out.send(step.ticks).await.is_err() {
                    return dropped("the pipeline stopped".into(), worked);
                }
            }
            if let Some(end) = step.end {
                let _ = ws.close(None).await;
                return match end {
                    // A refusal waits its backoff even after data; an announced close does not.
                    Ended::Dropped { reason, worked: announced } => dropped(reason, announced),
                    refused => refused,
                };
            }
        }
    }

    /// What a frame's messages come to: the ticks to send, the frames to
    /// answer with, and whether the session ends. No I/O.
    fn apply(&mut self, messages: Vec<Message>) -> Step {
        let venue = self.protocol.venue();
        let mut step = Step::default();
        for message in messages {
            step.answers.extend(self.protocol.answer(&message));
            match message {
                Message::Trade(trade) => {
                    let name = self.names.get(&trade.symbol).cloned().unwrap_or_else(|| trade.symbol.clone());
                    match self.book.trade(trade, &name) {
                        Outcome::Tick(tick) => step.ticks.push(tick),
                        Outcome::Invalid(why) => {
                            tracing::warn!(%venue, %why, "a trade outside Marquee's limits was skipped")
                        }
                        Outcome::Duplicate | Outcome::Foreign => {}
                    }
                }
                Message::Heartbeat { symbol, last_trade_id: Some(id) } => {
                    let name = self.names.get(&symbol).cloned().unwrap_or(symbol);
                    self.book.heartbeat(&name, id);
                }
                Message::Subscribed(symbols) => {
                    let missing: Vec<&String> = self.names.keys().filter(|s| !symbols.contains(s)).collect();
                    if missing.is_empty() {
                        tracing::info!(%venue, ?symbols, "subscribed");
                    } else {
                        tracing::warn!(%venue, ?missing, "subscribed, but not to every symbol");
                    }
                }
                Message::Refused(refusal) if refusal.needs_the_user() => {
                    step.end.get_or_insert(Ended::Refused(refusal));
                }
                Message::Refused(refusal) => {
                    step.end.get_or_insert(Ended::Dropped { reason: refusal.to_string(), worked: false });
                }
                Message::Closing => {
                    let reason = "the venue announced it closes the connection".to_owned();
                    step.end.get_or_insert(Ended::Dropped { reason, worked: true });
                }
                Message::Heartbeat { .. } | Message::Greeted | Message::Authenticated | Message::Other => {}
            }
        }
        step
    }
}

/// What one frame comes to.
#[derive(Debug, Default)]
struct Step {
    ticks: Vec<Tick>,
    answers: Vec<String>,
    end: Option<Ended>,
}

/// The wait before attempt `attempt` (1, 2, ...): doubling from the first,
/// capped, with "equal jitter" (between half of it and all of it) so that
/// many feeds dropped at once do not come back at once.
fn backoff(settings: &FeedSettings, attempt: u32) -> Duration {
    let doubled = settings.backoff_first.saturating_mul(1_u32 << attempt.saturating_sub(1).min(16));
    let capped = doubled.min(settings.backoff_max);
    let half = capped / 2;
    half + half.mul_f64(rand::rng().random::<f64>())
}

/// A connection error in words, without the request's URL.
fn describe(err: &tungstenite::Error) -> String {
    match err {
        tungstenite::Error::Http(response) => format!("the venue answered HTTP {}", response.status()),
        tungstenite::Error::Capacity(err) => format!("a frame over the {MAX_FRAME}-byte limit ({err})"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
