use serde::{Deserialize, Serialize};

/// How much history to fetch: Alpha Vantage's latest 100 bars, or all of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputSize {
    #[default]
    Compact,
    Full,
}

impl OutputSize {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputSize::Compact => "compact",
            OutputSize::Full => "full",
        }
    }
}

/// The body of `POST /api/v1/fetch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchRequest {
    pub symbols: Vec<String>,
    #[serde(default)]
    pub outputsize: OutputSize,
}

/// A fetch job and where each of its symbols stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchJob {
    pub id: String,
    /// When it was accepted, ns since the epoch.
    pub created: i64,
    pub outputsize: OutputSize,
    pub entries: Vec<FetchEntry>,
    /// True once every entry is stored or failed.
    pub finished: bool,
}

/// One symbol of a fetch job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchEntry {
    pub symbol: String,
    #[serde(flatten)]
    pub state: FetchState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FetchState {
    Queued,
    Fetching,
    Stored { records: u64 },
    Failed { reason: String },
}

impl FetchState {
    pub fn is_done(&self) -> bool {
        matches!(self, FetchState::Stored { .. } | FetchState::Failed { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_default_to_compact_and_entries_are_flat() {
        let request: FetchRequest = serde_json::from_str(r#"{"symbols": ["IBM"]}"#).expect("request");
        assert_eq!(request.outputsize, OutputSize::Compact);
        let entry = FetchEntry { symbol: "IBM".into(), state: FetchState::Stored { records: 100 } };
        let json = serde_json::to_value(&entry).expect("json");
        assert_eq!((json["state"].as_str(), json["records"].as_u64()), (Some("stored"), Some(100)));
        assert!(entry.state.is_done() && !FetchState::Fetching.is_done());
    }
}
