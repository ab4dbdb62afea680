//! What the topics carry besides ticks (which are [`marquee_shared::Tick`]),
//! and how a message is read back: JSON, from another process, so trusted
//! no more than any input.

use marquee_shared::{AnalyzedBar, Invalid, Validate};
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
