//! What the topics carry besides ticks (which are [`marquee_shared::Tick`]),
//! and how a message is read back: JSON, from another process, so trusted
//! no more than any input.

use marquee_shared::AnalyzedBar;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A bar on the bars topic: closed, or still forming as it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarRecord {
    pub closed: bool,
    pub bar: AnalyzedBar,
}

/// A message's payload as what its topic carries.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(payload)
}
