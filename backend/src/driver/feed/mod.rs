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

mod route;
mod start;
mod stats;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use marquee_shared::{EventKind, Tick};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message as Frame};
use tokio_util::sync::CancellationToken;

pub use start::{FeedStart, spawn};
pub use stats::{FeedStats, FeedStatus};

use crate::common::time::now_ns;
use crate::events::Events;
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
    /// On the failover, how often the primary is tried.
    pub probe_every: Duration,
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
            probe_every: Duration::from_secs(30),
        }
    }
}

/// How a session ended.
#[derive(Debug)]
enum Ended {
    /// The connection failed or was closed; `worked`: it carried data first.
    Dropped { reason: String, worked: bool },
    /// On the failover: the primary answers again.
    PrimaryBack,
    /// The venue refused something only the user can fix.
    Refused(Refusal),
}

/// One venue connection (and, with a failover, a second one used while the
/// first is down) and the symbols it streams.
#[derive(Debug)]
pub struct Feed {
    /// The venue, then the failover's if any.
    routes: Vec<route::Route>,
    /// The route in use.
    active: usize,
    settings: FeedSettings,
    book: FeedBook,
    out: mpsc::Sender<Vec<Tick>>,
    stats: Arc<FeedStats>,
    /// Where a switch between routes is told.
    events: Option<Events>,
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
        let book = FeedBook::new(resume, protocol.venue().ids());
        let primary = route::Route::new(protocol, settings.url.clone(), symbols);
        Self { routes: vec![primary], active: 0, settings, book, out, stats, events: None }
    }

    /// Uses `protocol` at `url` while the venue is down (its `symbols`:
    /// the backup's, paired with the names shown); each switch is an event.
    pub fn with_failover(
        mut self,
        protocol: Box<dyn Protocol>,
        url: String,
        symbols: &[(String, String)],
        events: Option<Events>,
    ) -> Self {
        self.routes.truncate(1);
        self.routes.push(route::Route::new(protocol, url, symbols));
        self.events = events;
        self
    }

    /// Moves to route `to`, telling why.
    async fn switch(&mut self, to: usize, reason: String) {
        let (from, onto) = (self.routes[self.active].venue(), self.routes[to].venue());
        tracing::warn!(%from, to = %onto, %reason, "the feed switches venue");
        self.active = to;
        self.book.switch_venue(onto.ids());
        if let Some(events) = &self.events {
            let symbols = self.book.symbols();
            let (from, to) = (from.label().to_owned(), onto.label().to_owned());
            events.emit(EventKind::FeedSwitched { symbols, from, to, reason }).await;
        }
    }

    /// Streams until `shutdown`.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut attempt: u32 = 0;
        loop {
            let venue = self.routes[self.active].venue();
            self.stats.set_status(FeedStatus::Connecting { attempt });
            let ended = tokio::select! {
                () = shutdown.cancelled() => break,
                ended = self.session() => ended,
            };
            let wait = match &ended {
                Ended::PrimaryBack => {
                    let reason = format!("{} is back", self.routes[0].venue().label());
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = self.switch(0, reason) => {}
                    }
                    attempt = 0;
                    Duration::ZERO
                }
                Ended::Dropped { worked: true, reason } => {
                    tracing::info!(%venue, %reason, "the feed's connection ended; reconnecting");
                    attempt = 0;
                    Duration::ZERO
                }
                Ended::Dropped { worked: false, reason } => {
                    attempt = attempt.saturating_add(1);
                    let wait = route::backoff(&self.settings, attempt);
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
            // The primary is down: move to the failover at once.
            let down = matches!(ended, Ended::Refused(_)) || attempt >= route::SWITCH_AFTER;
            if self.active == 0 && self.routes.len() > 1 && down {
                let reason = match &ended {
                    Ended::Refused(refusal) => refusal.to_string(),
                    Ended::Dropped { reason, .. } => format!("{attempt} attempts failed, the last: {reason}"),
                    Ended::PrimaryBack => String::new(),
                };
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = self.switch(1, reason) => {}
                }
                attempt = 0;
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
        self.stats.set_status(FeedStatus::Stopped);
    }

    async fn session(&mut self) -> Ended {
        let dropped = |reason: String, worked: bool| Ended::Dropped { reason, worked };
        let route = &self.routes[self.active];
        let (url, venue) = (route.address(), route.venue());
        // On the failover, the primary is probed until it is back.
        let primary = (self.active > 0).then(|| self.routes[0].address());
        let config =
            WebSocketConfig::default().max_message_size(Some(MAX_FRAME)).max_frame_size(Some(MAX_FRAME));
        let connect = tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true);
        let mut ws = match tokio::time::timeout(self.settings.connect_timeout, connect).await {
            Ok(Ok((ws, _))) => ws,
            // A bad key is refused at the upgrade (Finnhub: 401).
            Ok(Err(tungstenite::Error::Http(response)))
                if matches!(response.status().as_u16(), 401 | 403) =>
            {
                let reason = format!("HTTP {} at the upgrade", response.status());
                return Ended::Refused(Refusal::Auth { venue, reason, env: venue.key_hint() });
            }
            // The error names the host, never the URL (a key may be in it).
            Ok(Err(err)) => return dropped(route::describe(&err), false),
            Err(_) => {
                return dropped(format!("no connection within {:?}", self.settings.connect_timeout), false);
            }
        };
        for frame in self.routes[self.active].protocol.greeting() {
            if let Err(err) = ws.send(Frame::text(frame)).await {
                return dropped(route::describe(&err), false);
            }
        }
        self.stats.set_status(if self.active == 0 {
            FeedStatus::Connected
        } else {
            FeedStatus::OnFailover { venue }
        });
        let (every, timeout) = (self.settings.probe_every, self.settings.connect_timeout);
        let probing = async move {
            match primary {
                Some(address) => route::probe(address, every, timeout).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(probing);
        let mut worked = false;
        let mut ping =
            tokio::time::interval_at(Instant::now() + self.settings.ping_every, self.settings.ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut heard = Instant::now();
        loop {
            let frame = tokio::select! {
                frame = ws.next() => frame,
                () = &mut probing => {
                    let _ = ws.close(None).await;
                    return Ended::PrimaryBack;
                }
                _ = ping.tick() => {
                    if let Err(err) = ws.send(Frame::Ping(Vec::new().into())).await {
                        return dropped(route::describe(&err), worked);
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
                Some(Err(err)) => return dropped(route::describe(&err), worked),
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
            let messages = match self.routes[self.active].protocol.read(&text) {
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
                    return dropped(route::describe(&err), worked);
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
        let route = &self.routes[self.active];
        let venue = route.venue();
        let mut step = Step::default();
        for message in messages {
            step.answers.extend(route.protocol.answer(&message));
            match message {
                Message::Trade(trade) => {
                    let name =
                        route.names.get(&trade.symbol).cloned().unwrap_or_else(|| trade.symbol.clone());
                    match self.book.trade(trade, &name) {
                        Outcome::Tick(tick) => step.ticks.push(tick),
                        Outcome::Invalid(why) => {
                            tracing::warn!(%venue, %why, "a trade outside Marquee's limits was skipped")
                        }
                        Outcome::Duplicate | Outcome::Foreign => {}
                    }
                }
                Message::Heartbeat { symbol, last_trade_id: Some(id) } => {
                    let name = route.names.get(&symbol).cloned().unwrap_or(symbol);
                    self.book.heartbeat(&name, id);
                }
                Message::Subscribed(symbols) => {
                    let missing: Vec<&String> = route.names.keys().filter(|s| !symbols.contains(s)).collect();
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

#[cfg(test)]
mod tests;
