//! What happened at the edge: connections open, refused and cut, and what
//! slow WebSocket clients were spared. Plain counters, read by `/metrics`,
//! `/health` and the dashboard's pipeline panel.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use marquee_shared::EdgeFigures;

/// Why a WebSocket session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disconnect {
    /// The client sent a close frame (echoed).
    ClientClosed,
    /// The socket failed or reached its end without a close frame.
    ClientGone,
    /// The socket accepted nothing for the stall timeout (closed with 1008).
    Stalled,
    /// A message above the frame limit (closed with 1009).
    TooLarge,
    /// A WebSocket protocol violation (closed with 1002).
    Protocol,
    /// A text frame that is not UTF-8 (closed with 1007).
    BadUtf8,
    /// The server is shutting down (closed with 1001).
    Shutdown,
}

impl Disconnect {
    pub const ALL: [Disconnect; 7] = [
        Disconnect::ClientClosed,
        Disconnect::ClientGone,
        Disconnect::Stalled,
        Disconnect::TooLarge,
        Disconnect::Protocol,
        Disconnect::BadUtf8,
        Disconnect::Shutdown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Disconnect::ClientClosed => "client_closed",
            Disconnect::ClientGone => "client_gone",
            Disconnect::Stalled => "stalled",
            Disconnect::TooLarge => "too_large",
            Disconnect::Protocol => "protocol_error",
            Disconnect::BadUtf8 => "bad_utf8",
            Disconnect::Shutdown => "shutdown",
        }
    }
}

/// Why a connection was refused or cut before it was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A WebSocket beyond `--max-connections` (503).
    WebSocketsFull,
    /// A WebSocket beyond `--max-connections-per-ip` (503).
    PerIp,
    /// A connection beyond what the open-file limit leaves room for: closed at once.
    ConnectionsFull,
    /// A connection still sending its first request's headers, closed to make
    /// room for a new one (the oldest such goes first).
    Evicted,
}

impl Refusal {
    pub const ALL: [Refusal; 4] =
        [Refusal::WebSocketsFull, Refusal::PerIp, Refusal::ConnectionsFull, Refusal::Evicted];

    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::WebSocketsFull => "websockets_full",
            Refusal::PerIp => "per_ip",
            Refusal::ConnectionsFull => "connections_full",
            Refusal::Evicted => "evicted",
        }
    }
}

/// The edge's counters.
#[derive(Debug, Default)]
pub struct EdgeStats {
    /// TCP connections open now (WebSockets included).
    connections: AtomicU64,
    dropped: AtomicU64,
    conflations: AtomicU64,
    disconnects: [AtomicU64; Disconnect::ALL.len()],
    refusals: [AtomicU64; Refusal::ALL.len()],
}

impl EdgeStats {
    /// A slow client was conflated: `dropped` queued messages were replaced by
    /// a fresh snapshot.
    pub fn conflated(&self, dropped: u64) {
        self.conflations.fetch_add(1, Ordering::Relaxed);
        self.dropped.fetch_add(dropped, Ordering::Relaxed);
    }

    pub fn disconnected(&self, reason: Disconnect) {
        self.disconnects[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn refused(&self, reason: Refusal) {
        self.refusals[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn set_connections(&self, open: usize) {
        self.connections.store(open as u64, Ordering::Relaxed);
    }

    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn conflations(&self) -> u64 {
        self.conflations.load(Ordering::Relaxed)
    }

    pub fn disconnects(&self) -> impl Iterator<Item = (Disconnect, u64)> + '_ {
        Disconnect::ALL.into_iter().map(|r| (r, self.disconnects[r as usize].load(Ordering::Relaxed)))
    }

    pub fn refusals(&self) -> impl Iterator<Item = (Refusal, u64)> + '_ {
        Refusal::ALL.into_iter().map(|r| (r, self.refusals[r as usize].load(Ordering::Relaxed)))
    }

    /// The figures as the dashboard shows them; `clients` is the WebSocket gauge.
    pub fn figures(&self, clients: u64) -> EdgeFigures {
        let named = |pairs: Vec<(&'static str, u64)>| -> BTreeMap<String, u64> {
            pairs.into_iter().filter(|(_, n)| *n > 0).map(|(name, n)| (name.to_owned(), n)).collect()
        };
        EdgeFigures {
            connections: self.connections(),
            clients,
            dropped: self.dropped(),
            conflations: self.conflations(),
            disconnects: named(self.disconnects().map(|(r, n)| (r.as_str(), n)).collect()),
            refused: named(self.refusals().map(|(r, n)| (r.as_str(), n)).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up_by_reason() {
        let stats = EdgeStats::default();
        stats.conflated(7);
        stats.conflated(3);
        stats.disconnected(Disconnect::Stalled);
        stats.disconnected(Disconnect::Stalled);
        stats.disconnected(Disconnect::TooLarge);
        stats.refused(Refusal::PerIp);
        let figures = stats.figures(4);
        assert_eq!((figures.conflations, figures.dropped, figures.clients), (2, 10, 4));
        assert_eq!(figures.disconnects.get("stalled"), Some(&2));
        assert_eq!(figures.disconnects.get("too_large"), Some(&1));
        assert_eq!(figures.disconnects.get("shutdown"), None, "zero counts are left out");
        assert_eq!(figures.refused.get("per_ip"), Some(&1));
    }
}
