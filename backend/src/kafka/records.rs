//! What the topics carry besides ticks (which are [`marquee_shared::Tick`]).

use marquee_shared::{AnalyzedBar, Invalid, Validate};
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
