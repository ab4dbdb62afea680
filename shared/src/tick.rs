use serde::{Deserialize, Serialize};

/// One trade print for one symbol: simulated, or from a venue's feed.
///
/// `seq` increases by exactly one per symbol for every tick the driver makes,
/// so a consumer can detect gaps and drop duplicates. `change` and
/// `change_pct` are relative to the symbol's reference (previous close).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tick {
    pub symbol: String,
    pub seq: u64,
    /// Event time: nanoseconds since the Unix epoch, UTC.
    pub ts: i64,
    pub price: f64,
    /// Shares, or units of the base asset: fractional for coins (0.0165 BTC).
    pub size: f64,
    pub change: f64,
    pub change_pct: f64,
}

impl Tick {
    /// True when this tick moved the price up against its reference.
    pub fn is_up(&self) -> bool {
        self.change >= 0.0
    }
}
