//! The fan-out hub: an actor that owns what the stream has said so far
//! ([`market::Market`]) and broadcasts every message, serialised once, to
//! every connected client.
//!
//! Each client reads the broadcast ring through its own cursor, so the ring
//! is a bounded queue per client: a client that stops reading falls behind
//! (and is told how far, see [`ServerMessage::Lagged`]) while the hub and the
//! other clients carry on at full rate. Connecting goes through the actor, so
//! a new client's snapshot and its subscription start at the same point of
//! the stream: nothing is missed between them, and a resuming client can be
//! replayed exactly the ticks between what it saw and the snapshot.

pub mod market;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use market::{Market, Replay, ReplayRange};
use marquee_shared::{Channel, Event, Health, Metrics, ServerMessage, Tick};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::common::time::now_ns;
use crate::driver::SimulationView;
use crate::metrics::StageStats;
use crate::store::{SharedStore, screen};

/// A JSON text frame ready to send; clones share one buffer.
pub type Frame = Utf8Bytes;

/// One message for every client: structured, so a client with a narrower
/// subscription can be sent a filtered copy, and serialised once for the rest.
#[derive(Debug)]
pub struct Envelope {
    /// `None` for messages every client gets (simulation changes).
    pub channel: Option<Channel>,
    pub message: ServerMessage,
    pub frame: Frame,
    /// The event time of every tick in a `ticks` message, for the end-to-end
    /// latency recorded when the frame reaches a client's socket.
    pub stamps: Option<Arc<[i64]>>,
}

impl Envelope {
    pub fn new(channel: Option<Channel>, message: ServerMessage, frame: Frame) -> Self {
        let stamps = match &message {
            ServerMessage::Ticks { ticks } => Some(ticks.iter().map(|t| t.ts).collect()),
            _ => None,
        };
        Self { channel, message, frame, stamps }
    }
}

/// What a client gets when it connects: where it stands and what follows.
#[derive(Debug)]
pub struct Subscription {
    pub snapshot: Frame,
    /// The seq of each symbol's latest tick in the snapshot.
    pub snapshot_seqs: Arc<BTreeMap<String, u64>>,
    pub updates: broadcast::Receiver<Arc<Envelope>>,
}

/// Why a client could not be served.
#[derive(Debug, thiserror::Error)]
#[error("the hub has stopped")]
pub struct HubStopped;

/// What the hub can be asked.
#[derive(Debug)]
enum Request {
    Subscribe(oneshot::Sender<Subscription>),
    Quotes(oneshot::Sender<Vec<Tick>>),
    Replay(Vec<ReplayRange>, oneshot::Sender<Replay>),
}

/// A cheap handle for asking the hub for subscriptions, quotes and replays.
#[derive(Debug, Clone)]
pub struct HubHandle {
    requests: mpsc::Sender<Request>,
}

impl HubHandle {
    /// A snapshot of where everything stands and the stream after it.
    pub async fn subscribe(&self) -> Result<Subscription, HubStopped> {
        self.ask(Request::Subscribe).await
    }

    /// The latest tick of every symbol that has ticked, in symbol order.
    pub async fn quotes(&self) -> Result<Vec<Tick>, HubStopped> {
        self.ask(Request::Quotes).await
    }

    /// The held ticks in each range (see [`Market::replay`]).
    pub async fn replay(&self, ranges: Vec<ReplayRange>) -> Result<Replay, HubStopped> {
        self.ask(|reply| Request::Replay(ranges, reply)).await
    }

    async fn ask<T>(&self, request: impl FnOnce(oneshot::Sender<T>) -> Request) -> Result<T, HubStopped> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(request(reply)).await.map_err(|_| HubStopped)?;
        answer.await.map_err(|_| HubStopped)
    }
}

/// What the stages hand the hub to fan out.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    Ticks(Vec<Tick>),
    /// Closed bars.
    Bars(Vec<marquee_shared::AnalyzedBar>),
    /// Bars still forming, as they stand.
    Forming(Vec<marquee_shared::AnalyzedBar>),
    Alerts(Vec<marquee_shared::Alert>),
    Metrics(Metrics),
    Health(Health),
}

/// How the hub is set up.
#[derive(Debug, Clone, Copy)]
pub struct HubSettings {
    /// Messages a client may fall behind before it is conflated.
    pub client_queue: usize,
    /// Recent ticks held per symbol for clients that resume.
    pub history: usize,
}

/// The hub actor's inputs and outputs.
#[derive(Debug)]
pub struct Hub {
    input: mpsc::Receiver<Update>,
    requests: mpsc::Receiver<Request>,
    simulation: watch::Receiver<SimulationView>,
    events: broadcast::Receiver<Event>,
    store: SharedStore,
    updates: broadcast::Sender<Arc<Envelope>>,
    market: Market,
    metrics: Option<Metrics>,
    health: Option<Health>,
    stats: Arc<StageStats>,
    /// The snapshot as last built, shared by every client that connects (or
    /// is conflated) before anything changes.
    snapshot: Option<CachedSnapshot>,
}

#[derive(Debug)]
struct CachedSnapshot {
    frame: Frame,
    seqs: Arc<BTreeMap<String, u64>>,
    built: std::time::Instant,
}

/// How long a snapshot may be shared while nothing changes (its
/// `server_time` stays this close to the truth).
const SNAPSHOT_FRESH: std::time::Duration = std::time::Duration::from_millis(500);

impl Hub {
    pub fn new(
        input: mpsc::Receiver<Update>,
        simulation: watch::Receiver<SimulationView>,
        events: broadcast::Receiver<Event>,
        store: SharedStore,
        settings: HubSettings,
        stats: Arc<StageStats>,
    ) -> (Self, HubHandle) {
        let (requests_tx, requests) = mpsc::channel(64);
        let (updates, _) = broadcast::channel(settings.client_queue.max(1));
        let hub = Self {
            input,
            requests,
            simulation,
            events,
            store,
            updates,
            market: Market::new(settings.history),
            metrics: None,
            health: None,
            stats,
            snapshot: None,
        };
        (hub, HubHandle { requests: requests_tx })
    }

    /// Loads the recent ticks from the store (so a client that was connected
    /// before a restart can resume), then runs until the input closes or
    /// `shutdown` fires. Dropping the broadcast sender ends every client's stream.
    pub async fn run(mut self, shutdown: CancellationToken) {
        self.stats.set_running("loading recent ticks");
        tokio::select! {
            () = shutdown.cancelled() => return self.stats.set_stopped("shut down"),
            () = self.load_history() => {}
        }
        self.stats.set_running("fanning out ticks");
        let mut events_open = true;
        loop {
            tokio::select! {
                // Updates before connects: a client connecting now gets a
                // snapshot that includes everything already queued.
                biased;
                () = shutdown.cancelled() => break,
                update = self.input.recv() => match update {
                    Some(update) => self.on_update(update),
                    None => break,
                },
                Ok(()) = self.simulation.changed() => self.on_simulation(),
                event = self.events.recv(), if events_open => match event {
                    Ok(event) => self.send(Some(Channel::Events), ServerMessage::Event { event }),
                    Err(RecvError::Lagged(skipped)) => tracing::warn!(skipped, "hub fell behind the event bus"),
                    // The bus lives as long as the pipeline; keep serving ticks.
                    Err(RecvError::Closed) => events_open = false,
                },
                Some(request) = self.requests.recv() => self.on_request(request),
            }
        }
        self.stats.set_stopped("shut down");
        tracing::info!("hub stopped");
    }

    async fn load_history(&mut self) {
        let history = self.market.history_len();
        let symbols = match self.store.symbols().await {
            Ok(symbols) => symbols,
            Err(err) => {
                return tracing::error!(%err, "cannot read the stored symbols; no history to resume from");
            }
        };
        for summary in symbols {
            match self.store.recent_ticks(summary.symbol.clone(), history).await {
                // Oldest first, as the history keeps them; impossible rows
                // (stored before values were checked) are left out.
                Ok(ticks) => screen::valid_ticks(ticks).iter().for_each(|tick| self.market.apply(tick)),
                Err(err) => tracing::error!(%err, symbol = %summary.symbol, "cannot read recent ticks"),
            }
        }
    }

    fn on_update(&mut self, update: Update) {
        self.snapshot = None;
        match update {
            Update::Ticks(ticks) => {
                ticks.iter().for_each(|tick| self.market.apply(tick));
                let count = ticks.len() as u64;
                self.send(Some(Channel::Ticks), ServerMessage::Ticks { ticks });
                self.stats.add_processed(count);
            }
            Update::Bars(bars) => self.on_bars(bars, true),
            Update::Forming(bars) => self.on_bars(bars, false),
            Update::Alerts(alerts) => {
                for alert in alerts {
                    self.send(Some(Channel::Alerts), ServerMessage::Alert { alert });
                }
            }
            Update::Metrics(metrics) => {
                self.metrics = Some(metrics.clone());
                self.send(Some(Channel::Metrics), ServerMessage::Metrics { metrics: Box::new(metrics) });
            }
            Update::Health(health) => {
                self.health = Some(health.clone());
                self.send(Some(Channel::Health), ServerMessage::Health { health: Box::new(health) });
            }
        }
    }

    /// Closed bars go out as they are; of the forming ones, only those that
    /// changed since the last time (clients merge them per symbol and interval).
    fn on_bars(&mut self, bars: Vec<marquee_shared::AnalyzedBar>, closed: bool) {
        let mut bars = bars;
        if closed {
            for bar in &bars {
                self.market.apply_bar(bar);
            }
        } else {
            bars.retain(|bar| self.market.apply_bar(bar));
        }
        if !bars.is_empty() {
            self.send(Some(Channel::Bars), ServerMessage::Bars { bars, closed });
        }
    }

    fn on_simulation(&mut self) {
        self.snapshot = None;
        let view = self.simulation.borrow_and_update().clone();
        self.send(None, ServerMessage::Simulation { state: view.state, symbols: view.symbols });
    }

    fn on_request(&mut self, request: Request) {
        let delivered = match request {
            Request::Subscribe(reply) => match self.subscription() {
                Some(subscription) => reply.send(subscription).is_ok(),
                None => true,
            },
            Request::Quotes(reply) => reply.send(self.market.quotes()).is_ok(),
            Request::Replay(ranges, reply) => reply.send(self.market.replay(&ranges)).is_ok(),
        };
        if !delivered {
            tracing::debug!("a client left before the hub's answer");
        }
    }

    fn subscription(&mut self) -> Option<Subscription> {
        let fresh = self.snapshot.as_ref().is_some_and(|cached| cached.built.elapsed() < SNAPSHOT_FRESH);
        if !fresh {
            self.snapshot = Some(self.build_snapshot()?);
        }
        let cached = self.snapshot.as_ref()?;
        Some(Subscription {
            snapshot: cached.frame.clone(),
            snapshot_seqs: Arc::clone(&cached.seqs),
            updates: self.updates.subscribe(),
        })
    }

    fn build_snapshot(&mut self) -> Option<CachedSnapshot> {
        let view = self.simulation.borrow_and_update().clone();
        let snapshot = ServerMessage::Snapshot {
            server_time: now_ns(),
            simulation: view.state,
            symbols: view.symbols,
            quotes: self.market.quotes(),
            sparklines: self.market.sparklines(),
            bars: self.market.forming_bars(),
            metrics: self.metrics.clone().map(Box::new),
            health: self.health.clone().map(Box::new),
        };
        Some(CachedSnapshot {
            frame: encode(&snapshot)?,
            seqs: Arc::new(self.market.last_seqs()),
            built: std::time::Instant::now(),
        })
    }

    fn send(&self, channel: Option<Channel>, message: ServerMessage) {
        if let Some(frame) = encode(&message) {
            // An error only means no client is connected right now.
            drop(self.updates.send(Arc::new(Envelope::new(channel, message, frame))));
        }
    }
}

/// Serialises a message once for every client.
pub fn encode(message: &ServerMessage) -> Option<Frame> {
    match serde_json::to_string(message) {
        Ok(json) => Some(Utf8Bytes::from(json)),
        Err(err) => {
            // Unreachable for our types (no maps with non-string keys, no
            // failing Serialize impls), but never worth a panic.
            tracing::error!(%err, "cannot encode a server message");
            None
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod wire_tests;
