//! Who is connected, and the rules for letting one more in.
//!
//! Every TCP connection holds a [`Conn`] from accept to close. A connection
//! that has not yet sent its first request's headers is *pending*; pending
//! connections are the cheap way to hold a server's descriptors (slowloris),
//! so they are capped at half the room, and when the room or that cap is
//! full the oldest pending one is closed to let the new one in. A new
//! connection is turned away only when every connection is being served.
//! WebSocket sessions are counted on top: at most `--max-connections`, and
//! `--max-connections-per-ip` from one address.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use crate::config::EdgeConfig;
use crate::metrics::PipelineStats;
use crate::metrics::edge::Refusal;

/// Descriptors kept back for everything that is not a client: the store,
/// Kafka, certificates, logs.
const RESERVED_FILES: u64 = 256;

/// How many connections of each kind may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// TCP connections, WebSockets included.
    pub open: usize,
    /// Connections still sending their first request's headers.
    pub pending: usize,
    pub websockets: usize,
    pub websockets_per_ip: usize,
}

impl ConnectionLimits {
    /// The configured limits, lowered to fit `open_files` descriptors less a
    /// reserve. Plain HTTP always keeps a fifth of the room.
    pub fn fit(edge: &EdgeConfig, open_files: u64) -> Self {
        let room = usize::try_from(open_files.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX).max(8);
        let http_room = (edge.max_connections / 4).max(64);
        let open = room.min(edge.max_connections.saturating_add(http_room));
        let websockets = edge.max_connections.min(open - open / 5);
        Self {
            open,
            pending: (open / 2).max(1),
            websockets,
            websockets_per_ip: edge.max_connections_per_ip.min(websockets),
        }
    }
}

/// Raises the soft open-file limit to the hard one; returns the limit in force.
pub fn raise_open_file_limit() -> u64 {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(limit) => return limit,
            Err(err) => tracing::warn!(%err, "cannot raise the open-file limit"),
        }
        rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
    }
    #[cfg(not(unix))]
    {
        8192
    }
}

#[derive(Debug, Default)]
struct State {
    open: usize,
    next_id: u64,
    /// Pending connections, oldest first, with the token that closes each.
    pending: BTreeMap<u64, CancellationToken>,
    websockets: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// The connection table shared by the accept loop and the WebSocket upgrade.
#[derive(Debug)]
pub struct Connections {
    limits: ConnectionLimits,
    stats: Arc<PipelineStats>,
    state: Mutex<State>,
}

impl Connections {
    pub fn new(limits: ConnectionLimits, stats: Arc<PipelineStats>) -> Arc<Self> {
        Arc::new(Self { limits, stats, state: Mutex::new(State::default()) })
    }

    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Plain counters: still consistent after a panic elsewhere.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Lets a new TCP connection in, closing the oldest pending one if there
    /// is no room; `None` when every connection is being served.
    pub fn admit(self: &Arc<Self>) -> Option<Conn> {
        let mut state = self.state();
        let full = state.open >= self.limits.open;
        if full || state.pending.len() >= self.limits.pending {
            match state.pending.pop_first() {
                Some((_, oldest)) => {
                    oldest.cancel();
                    self.stats.edge.refused(Refusal::Evicted);
                }
                None if full => {
                    self.stats.edge.refused(Refusal::ConnectionsFull);
                    return None;
                }
                None => {}
            }
        }
        let id = state.next_id;
        state.next_id += 1;
        let evicted = CancellationToken::new();
        state.pending.insert(id, evicted.clone());
        state.open += 1;
        self.stats.edge.set_connections(state.open);
        Some(Conn { id, evicted, connections: Arc::clone(self) })
    }

    /// A WebSocket session from `ip`, if there is room for it.
    pub fn websocket(self: &Arc<Self>, ip: IpAddr) -> Result<WebSocketSlot, Refusal> {
        let mut state = self.state();
        if state.websockets >= self.limits.websockets {
            self.stats.edge.refused(Refusal::WebSocketsFull);
            return Err(Refusal::WebSocketsFull);
        }
        let from_ip = state.per_ip.entry(ip).or_default();
        if *from_ip >= self.limits.websockets_per_ip {
            self.stats.edge.refused(Refusal::PerIp);
            return Err(Refusal::PerIp);
        }
        *from_ip += 1;
        state.websockets += 1;
        Ok(WebSocketSlot { ip, connections: Arc::clone(self) })
    }

    /// (open, pending, websockets) now.
    pub fn counts(&self) -> (usize, usize, usize) {
        let state = self.state();
        (state.open, state.pending.len(), state.websockets)
    }
}

/// One open TCP connection; dropping it frees its place.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    evicted: CancellationToken,
    connections: Arc<Connections>,
}

impl Conn {
    /// The connection sent a request's headers: it is no longer pending.
    pub fn served(&self) {
        self.connections.state().pending.remove(&self.id);
    }

    /// True until the connection has sent a request's headers.
    pub fn is_pending(&self) -> bool {
        self.connections.state().pending.contains_key(&self.id)
    }

    /// Completes when the connection is closed to make room for another.
    pub async fn evicted(&self) {
        self.evicted.cancelled().await;
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let mut state = self.connections.state();
        state.pending.remove(&self.id);
        state.open = state.open.saturating_sub(1);
        self.connections.stats.edge.set_connections(state.open);
    }
}

/// One WebSocket session's place; dropping it frees the place.
#[derive(Debug)]
pub struct WebSocketSlot {
    ip: IpAddr,
    connections: Arc<Connections>,
}

impl Drop for WebSocketSlot {
    fn drop(&mut self) {
        let mut state = self.connections.state();
        state.websockets = state.websockets.saturating_sub(1);
        if let Some(count) = state.per_ip.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                state.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(open: usize, websockets: usize, per_ip: usize) -> ConnectionLimits {
        ConnectionLimits { open, pending: open / 2, websockets, websockets_per_ip: per_ip }
    }

    fn table(limits: ConnectionLimits) -> Arc<Connections> {
        Connections::new(limits, Arc::new(PipelineStats::new()))
    }

    #[test]
    fn limits_fit_the_open_file_limit_with_room_for_plain_http() {
        let edge = EdgeConfig::default();
        let roomy = ConnectionLimits::fit(&edge, 1 << 20);
        assert_eq!((roomy.websockets, roomy.open), (10_000, 12_500));
        let tight = ConnectionLimits::fit(&edge, 1024);
        assert_eq!(tight.open, 1024 - 256);
        assert!(tight.websockets < tight.open && tight.open - tight.websockets >= tight.open / 5);
        assert_eq!(tight.pending, tight.open / 2);
    }

    #[test]
    fn the_oldest_pending_connection_makes_room_for_a_new_one() {
        let connections = table(limits(4, 4, 4));
        let first = connections.admit().expect("room");
        let second = connections.admit().expect("room");
        // Two pending is the cap: the third evicts the first.
        let third = connections.admit().expect("room");
        assert!(first.evicted.is_cancelled() && !second.evicted.is_cancelled());
        third.served();
        let fourth = connections.admit().expect("room");
        assert!(!second.evicted.is_cancelled(), "one pending and one served: room for both");
        // Four open (the evicted one not yet closed): the next evicts the oldest pending.
        let _fifth = connections.admit().expect("room");
        assert!(second.evicted.is_cancelled() && !fourth.evicted.is_cancelled());
        drop(first);
        drop(second);
        assert_eq!(connections.counts(), (3, 2, 0));
        assert!(!third.evicted.is_cancelled(), "a served connection is never evicted");
    }

    #[test]
    fn when_every_connection_is_served_a_new_one_is_refused() {
        let connections = table(limits(2, 2, 2));
        let held: Vec<_> = (0..2).map(|_| connections.admit().expect("room")).collect();
        held.iter().for_each(Conn::served);
        assert!(connections.admit().is_none());
        drop(held);
        assert_eq!(connections.counts(), (0, 0, 0));
        assert!(connections.admit().is_some());
    }

    #[test]
    fn websockets_are_capped_in_all_and_per_address() {
        let connections = table(limits(10, 3, 2));
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let first = connections.websocket(a).expect("room");
        let _second = connections.websocket(a).expect("room");
        assert_eq!(connections.websocket(a).err(), Some(Refusal::PerIp));
        let _third = connections.websocket(b).expect("room");
        assert_eq!(connections.websocket(b).err(), Some(Refusal::WebSocketsFull));
        drop(first);
        assert!(connections.websocket(a).is_ok());
    }
}
