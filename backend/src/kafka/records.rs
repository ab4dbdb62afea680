//! What the topics carry, and how a message is read back: JSON, from
//! another process, so trusted no more than any input.

use marquee_shared::{AnalyzedBar, Invalid, Tick, Validate};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A bar on the bars topic: closed, or still forming as it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarRecord {
    pub closed: bool,
    pub bar: AnalyzedBar,
}

impl Validate for BarRecord {
    fn validate(&self) -> Result<(), Invalid> {
        self.bar.validate()
    }
}

/// Why a record was skipped.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("not what its topic carries: {0}")]
    Json(#[from] serde_json::Error),
    /// Well-formed, but a value the pipeline cannot take (a price of 1e308,
    /// a seq of `u64::MAX`): anyone able to write to the topic could send it.
    #[error("an impossible value: {0}")]
    Invalid(#[from] Invalid),
}

/// A message's payload as what its topic carries, checked.
pub fn decode<T: DeserializeOwned + Validate>(payload: &[u8]) -> Result<T, Refused> {
    let value: T = serde_json::from_slice(payload)?;
    value.validate()?;
    Ok(value)
}

/// The record for `ticks` (those of the symbols that share a partition,
/// each symbol's in seq order): a JSON array, or a lone tick as a JSON
/// object, as every tick was written before records carried several.
pub fn encode_ticks(ticks: &[Tick]) -> Result<Vec<u8>, serde_json::Error> {
    match ticks {
        [tick] => serde_json::to_vec(tick),
        _ => serde_json::to_vec(ticks),
    }
}

/// What a record on the ticks topic holds: an array of ticks, or one tick
/// (as Marquee wrote them before records carried several, so a receiver
/// reads a topic written by either). Each tick is checked on its own: an
/// impossible one is refused and the others kept. `Err` when the record is
/// not ticks at all.
pub fn decode_ticks(payload: &[u8]) -> Result<Vec<Result<Tick, Invalid>>, serde_json::Error> {
    let array = payload.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let ticks: Vec<Tick> =
        if array { serde_json::from_slice(payload)? } else { vec![serde_json::from_slice(payload)?] };
    Ok(ticks.into_iter().map(|tick| tick.validate().map(|()| tick)).collect())
}
