use serde::{Deserialize, Serialize};

/// One simulated trade print for one symbol.
///
/// `seq` increases by exactly one per symbol for every tick the driver makes,
/// so a consumer can detect gaps and drop duplicates. `change` and
/// `change_pct` are relative to the symbol's reference (previous close).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    pub symbol: String,
    pub seq: u64,
    /// Event time: nanoseconds since the Unix epoch, UTC.
    pub ts: i64,
    pub price: f64,
    pub size: u64,
    pub change: f64,
    pub change_pct: f64,
}

impl Tick {
    /// True when this tick moved the price up against its reference.
    pub fn is_up(&self) -> bool {
        self.change >= 0.0
    }
}
