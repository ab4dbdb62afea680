use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Dependency, Instance, StageHealth};

/// Percentiles of a latency histogram over a recent window, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Latency {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// How many values the window held.
    pub samples: u64,
}

/// The body of the `metrics` message (once a second), measured by the
/// server: every rate is a counter's change over the measured interval,
/// every latency comes from a histogram of recorded values.
#[derive(Default, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metrics {
    /// When the figures were taken, ns since the epoch.
    pub ts: i64,
    pub uptime_ms: u64,
    /// WebSocket clients connected now.
    pub clients: u64,
    pub stages: Vec<StageHealth>,
    /// Tick event time to the gateway's send, over the recent window.
    pub end_to_end: Option<Latency>,
    /// Ticks per second sent to clients, one value per second, oldest first,
    /// for the last minute at most.
    pub throughput: Vec<f64>,
    /// External services, as checked for this sample.
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    /// Every running instance (this one included), from their heartbeats.
    #[serde(default)]
    pub instances: Vec<Instance>,
    /// The gateway's connections, when this process runs it.
    #[serde(default)]
    pub edge: Option<EdgeFigures>,
    /// The venues' feeds this process runs.
    #[serde(default)]
    pub feeds: Vec<FeedFigures>,
    /// Where this process delivers alerts (Slack, webhooks, email).
    #[serde(default)]
    pub sinks: Vec<SinkFigures>,
}

/// An alert sink as measured for this sample: counters since it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SinkFigures {
    /// The sink's name in the alerts config.
    pub name: String,
    /// `slack`, `webhook` or `email`.
    pub kind: String,
    pub delivered: u64,
    /// Given up after the last try (each recorded as an `alert_undelivered` event).
    pub failed: u64,
    /// Turned away because the sink's queue was full.
    pub dropped: u64,
    /// Tries after the first.
    pub retries: u64,
    /// Waiting in the sink's queue now.
    pub queued: u64,
    /// The last attempt's outcome.
    pub last: Option<DeliveryStatus>,
}

/// How one delivery attempt went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryStatus {
    pub ok: bool,
    /// When, ns since the epoch.
    pub at: i64,
    /// "delivered" or what went wrong ("HTTP 500", "connection refused").
    pub detail: String,
}

/// A live feed as measured for this sample: counters since it started,
/// rates over the sample interval, and the feed latency (receipt time minus
/// the venue's trade time) over the recent window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedFigures {
    /// `coinbase`, `binance`, `finnhub`, `alpaca`.
    pub venue: String,
    /// Up when connected, degraded while (re)connecting, down when refused.
    pub status: crate::Status,
    /// Where the connection stands, in words ("reconnecting (attempt 3): ...").
    pub state: String,
    pub messages: u64,
    pub trades: u64,
    pub reconnects: u64,
    /// Jumps in the venue's trade ids, and the trades they skipped.
    pub gaps: u64,
    pub missed: u64,
    pub duplicates: u64,
    pub bad_frames: u64,
    pub messages_per_s: f64,
    pub trades_per_s: f64,
    pub latency: Option<Latency>,
}

/// What happened at the gateway's edge since it started: counters, except
/// the two gauges.
#[derive(Default, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EdgeFigures {
    /// TCP connections open now, WebSockets included.
    pub connections: u64,
    /// WebSocket clients connected now.
    pub clients: u64,
    /// Messages dropped from slow clients' queues (replaced by a snapshot).
    pub dropped: u64,
    /// Times a slow client was conflated (`lagged`, then a fresh snapshot).
    pub conflations: u64,
    /// WebSocket sessions ended, by reason (`stalled`, `too_large`, ...);
    /// reasons that never happened are left out.
    #[serde(default)]
    pub disconnects: BTreeMap<String, u64>,
    /// Connections refused or cut before they were served, by reason.
    #[serde(default)]
    pub refused: BTreeMap<String, u64>,
}

/// Every `n`th tick of a symbol (by seq) is a sparkline point; the server's
/// history and the browser's live updates use the same rule.
pub const SPARK_EVERY: u64 = 10;
/// Sparkline points kept per symbol.
pub const SPARK_POINTS: usize = 120;

/// True when a tick with `seq` is a sparkline point.
pub fn is_spark_point(seq: u64) -> bool {
    seq.is_multiple_of(SPARK_EVERY)
}
