//! The fan-out hub: an actor that owns the latest quote of every symbol and
//! broadcasts each tick batch, serialised once, to every connected client.
//!
//! Each client reads the broadcast ring through its own cursor, so the ring
//! is a bounded queue per client: a client that stops reading falls behind
//! (and is told how far, see [`ServerMessage::Lagged`]) while the hub and the
//! other clients carry on at full rate. Connecting goes through the actor, so
//! a new client's snapshot and its subscription start at the same point of
//! the stream: nothing is missed between them.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use marquee_shared::{ServerMessage, Tick};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::driver::SimulationView;
use crate::stats::StageStats;
use crate::time::now_ns;

/// A JSON text frame ready to send; clones share one buffer.
pub type Frame = Utf8Bytes;

/// What a client gets when it connects: where it stands and what follows.
#[derive(Debug)]
pub struct Subscription {
    pub snapshot: Frame,
    pub updates: broadcast::Receiver<Frame>,
}

/// Why a client could not be connected.
#[derive(Debug, thiserror::Error)]
#[error("the hub has stopped")]
pub struct HubStopped;

/// What the hub can be asked.
#[derive(Debug)]
enum Request {
    Subscribe(oneshot::Sender<Subscription>),
    Quotes(oneshot::Sender<Vec<Tick>>),
}

/// A cheap handle for asking the hub for subscriptions and quotes.
#[derive(Debug, Clone)]
pub struct HubHandle {
    requests: mpsc::Sender<Request>,
}

impl HubHandle {
    /// A snapshot of the latest quotes and the stream of everything after it.
    pub async fn subscribe(&self) -> Result<Subscription, HubStopped> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::Subscribe(reply)).await.map_err(|_| HubStopped)?;
        answer.await.map_err(|_| HubStopped)
    }

    /// The latest tick of every symbol that has ticked, in symbol order.
    pub async fn quotes(&self) -> Result<Vec<Tick>, HubStopped> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::Quotes(reply)).await.map_err(|_| HubStopped)?;
        answer.await.map_err(|_| HubStopped)
    }
}

/// The latest tick of each symbol, in symbol order.
#[derive(Debug, Default)]
pub struct LatestQuotes(BTreeMap<String, Tick>);

impl LatestQuotes {
    /// Keeps `tick` if it is newer (by seq) than what is held for its symbol.
    pub fn apply(&mut self, tick: &Tick) {
        match self.0.get_mut(&tick.symbol) {
            Some(held) if held.seq >= tick.seq => {}
            Some(held) => held.clone_from(tick),
            None => {
                self.0.insert(tick.symbol.clone(), tick.clone());
            }
        }
    }

    pub fn ticks(&self) -> Vec<Tick> {
        self.0.values().cloned().collect()
    }

    pub fn snapshot(&self, server_time: i64, view: &SimulationView) -> ServerMessage {
        ServerMessage::Snapshot {
            server_time,
            simulation: view.state,
            symbols: view.symbols.clone(),
            quotes: self.ticks(),
        }
    }
}

/// What the receiver hands the hub to fan out.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    Ticks(Vec<Tick>),
    /// Closed bars.
    Bars(Vec<marquee_shared::AnalyzedBar>),
    /// Bars still forming, as they stand.
    Forming(Vec<marquee_shared::AnalyzedBar>),
    Alerts(Vec<marquee_shared::Alert>),
}

/// The hub actor's inputs and outputs.
#[derive(Debug)]
pub struct Hub {
    input: mpsc::Receiver<Update>,
    requests: mpsc::Receiver<Request>,
    simulation: watch::Receiver<SimulationView>,
    updates: broadcast::Sender<Frame>,
    quotes: LatestQuotes,
    stats: Arc<StageStats>,
}

impl Hub {
    /// A hub reading `input`, whose clients may each fall up to
    /// `client_queue` batches behind before they are told they lagged.
    pub fn new(
        input: mpsc::Receiver<Update>,
        simulation: watch::Receiver<SimulationView>,
        client_queue: usize,
        stats: Arc<StageStats>,
    ) -> (Self, HubHandle) {
        let (requests_tx, requests) = mpsc::channel(64);
        let (updates, _) = broadcast::channel(client_queue);
        let hub = Self { input, requests, simulation, updates, quotes: LatestQuotes::default(), stats };
        (hub, HubHandle { requests: requests_tx })
    }

    /// Runs until the tick input closes or `shutdown` fires. Dropping the
    /// broadcast sender on return ends every client's stream.
    pub async fn run(mut self, shutdown: CancellationToken) {
        self.stats.set_running("fanning out ticks");
        loop {
            tokio::select! {
                // Ticks before connects: a client connecting now gets a
                // snapshot that includes everything already queued.
                biased;
                () = shutdown.cancelled() => break,
                update = self.input.recv() => match update {
                    Some(Update::Ticks(batch)) => self.on_ticks(batch),
                    Some(Update::Bars(bars)) => self.send(&ServerMessage::Bars { bars, closed: true }),
                    Some(Update::Forming(bars)) => self.send(&ServerMessage::Bars { bars, closed: false }),
                    Some(Update::Alerts(alerts)) => {
                        for alert in alerts {
                            self.send(&ServerMessage::Alert { alert });
                        }
                    }
                    None => break,
                },
                Ok(()) = self.simulation.changed() => self.on_simulation(),
                Some(request) = self.requests.recv() => match request {
                    Request::Subscribe(reply) => self.on_connect(reply),
                    Request::Quotes(reply) => {
                        if reply.send(self.quotes.ticks()).is_err() {
                            tracing::debug!("quote reader left before the answer");
                        }
                    }
                },
            }
        }
        self.stats.set_stopped("shut down");
        tracing::info!("hub stopped");
    }

    fn on_ticks(&mut self, ticks: Vec<Tick>) {
        for tick in &ticks {
            self.quotes.apply(tick);
        }
        let count = ticks.len() as u64;
        match encode(&ServerMessage::Ticks { ticks }) {
            // An error here only means no client is connected right now.
            Some(frame) => drop(self.updates.send(frame)),
            None => return,
        }
        self.stats.add_processed(count);
    }

    fn send(&self, message: &ServerMessage) {
        if let Some(frame) = encode(message) {
            // An error only means no client is connected right now.
            drop(self.updates.send(frame));
        }
    }

    fn on_simulation(&mut self) {
        let view = self.simulation.borrow_and_update().clone();
        if let Some(frame) = encode(&ServerMessage::Simulation { state: view.state, symbols: view.symbols }) {
            // An error only means no client is connected right now.
            drop(self.updates.send(frame));
        }
    }

    fn on_connect(&mut self, reply: oneshot::Sender<Subscription>) {
        let view = self.simulation.borrow_and_update().clone();
        let Some(snapshot) = encode(&self.quotes.snapshot(now_ns(), &view)) else { return };
        let subscription = Subscription { snapshot, updates: self.updates.subscribe() };
        if reply.send(subscription).is_err() {
            tracing::debug!("client left before its subscription was ready");
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
mod tests {
    use super::*;

    fn tick(symbol: &str, seq: u64, price: f64) -> Tick {
        Tick { symbol: symbol.into(), seq, ts: seq as i64, price, size: 1, change: 0.0, change_pct: 0.0 }
    }

    #[test]
    fn latest_quotes_keep_the_newest_seq_per_symbol() {
        let mut quotes = LatestQuotes::default();
        quotes.apply(&tick("B", 1, 10.0));
        quotes.apply(&tick("A", 2, 20.0));
        quotes.apply(&tick("B", 3, 11.0));
        quotes.apply(&tick("B", 2, 99.0)); // late duplicate: ignored
        let view = SimulationView {
            state: marquee_shared::SimulationState::Stopped { symbols: 0 },
            symbols: vec![],
        };
        let ServerMessage::Snapshot { quotes, server_time, .. } = quotes.snapshot(5, &view) else {
            panic!("snapshot")
        };
        assert_eq!(server_time, 5);
        let held: Vec<_> = quotes.iter().map(|t| (t.symbol.as_str(), t.seq, t.price)).collect();
        assert_eq!(held, [("A", 2, 20.0), ("B", 3, 11.0)]);
    }

    #[tokio::test]
    async fn a_subscriber_sees_the_snapshot_then_every_later_batch() {
        let (tx, rx) = mpsc::channel(4);
        let view = SimulationView {
            state: marquee_shared::SimulationState::Stopped { symbols: 0 },
            symbols: vec![],
        };
        let (view_tx, view_rx) = watch::channel(view.clone());
        let (hub, handle) = Hub::new(rx, view_rx, 8, Arc::new(StageStats::new("hub")));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(hub.run(shutdown.clone()));

        tx.send(Update::Ticks(vec![tick("A", 1, 1.0)])).await.expect("send");
        let mut sub = handle.subscribe().await.expect("subscribe");
        assert!(sub.snapshot.as_str().contains(r#""seq":1"#), "{}", sub.snapshot);
        tx.send(Update::Ticks(vec![tick("A", 2, 2.0)])).await.expect("send");
        let quotes = handle.quotes().await.expect("quotes");
        assert_eq!(quotes.iter().map(|t| t.seq).collect::<Vec<_>>(), [2]);
        let next = sub.updates.recv().await.expect("update");
        assert!(
            next.as_str().starts_with(r#"{"type":"ticks""#) && next.as_str().contains(r#""seq":2"#),
            "{next}"
        );

        view_tx.send_replace(SimulationView {
            state: marquee_shared::SimulationState::Paused { symbols: 1, speed: 1.0 },
            ..view
        });
        let change = sub.updates.recv().await.expect("update");
        assert!(
            change.as_str().contains(r#""type":"simulation""#) && change.as_str().contains("paused"),
            "{change}"
        );

        drop(tx);
        task.await.expect("hub ends when its input closes");
        assert!(matches!(sub.updates.recv().await, Err(broadcast::error::RecvError::Closed)));
        assert!(handle.subscribe().await.is_err());
    }
}
