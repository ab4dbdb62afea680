//! A feed's routes: the venue it streams from and, with `--failover`, the
//! one it uses while that venue is down. The feed moves to the backup after
//! [`SWITCH_AFTER`] failed attempts (or a refusal), and back once a probe of
//! the primary connects; each move is an event.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;
use tokio_tungstenite::tungstenite;

use super::{FeedSettings, MAX_FRAME};
use crate::sources::venues::{Protocol, Venue};

/// Failed attempts at the primary before the feed moves to the backup.
pub const SWITCH_AFTER: u32 = 2;

/// One venue's connection settings for the feed's symbols.
#[derive(Debug)]
pub struct Route {
    pub protocol: Box<dyn Protocol>,
    /// The venue's endpoint (`--coinbase-url`).
    pub url: String,
    /// The venue's symbol → the symbol Marquee shows.
    pub names: HashMap<String, String>,
}

impl Route {
    pub fn new(protocol: Box<dyn Protocol>, url: String, symbols: &[(String, String)]) -> Self {
        Self { protocol, url, names: symbols.iter().cloned().collect() }
    }

    pub fn venue(&self) -> Venue {
        self.protocol.venue()
    }

    /// The URL to connect to (a key may be in it: never logged).
    pub fn address(&self) -> String {
        self.protocol.url(&self.url)
    }
}

/// Returns once a WebSocket handshake with `address` succeeds, trying every
/// `every`: the primary is back.
pub async fn probe(address: String, every: Duration, timeout: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(MAX_FRAME))
            .max_frame_size(Some(MAX_FRAME));
        let connect = tokio_tungstenite::connect_async_with_config(address.as_str(), Some(config), true);
        if let Ok(Ok((mut ws, _))) = tokio::time::timeout(timeout, connect).await {
            let _ = ws.close(None).await;
            return;
        }
    }
}

/// The wait before attempt `attempt` (1, 2, ...): doubling from the first,
/// capped, with "equal jitter" (between half of it and all of it) so that
/// many feeds dropped at once do not come back at once.
pub fn backoff(settings: &FeedSettings, attempt: u32) -> Duration {
    let doubled = settings.backoff_first.saturating_mul(1_u32 << attempt.saturating_sub(1).min(16));
    let capped = doubled.min(settings.backoff_max);
    let half = capped / 2;
    half + half.mul_f64(rand::rng().random::<f64>())
}

/// A connection error in words, without the request's URL.
pub fn describe(err: &tungstenite::Error) -> String {
    match err {
        tungstenite::Error::Http(response) => format!("the venue answered HTTP {}", response.status()),
        tungstenite::Error::Capacity(err) => format!("a frame over the {MAX_FRAME}-byte limit ({err})"),
        other => other.to_string(),
    }
}
