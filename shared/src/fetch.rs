use serde::{Deserialize, Serialize};

/// How much history to fetch: Alpha Vantage's latest 100 bars, or all of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// Intraday bar sizes Alpha Vantage serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IntradayInterval {
    #[serde(rename = "1min")]
    OneMin,
    #[serde(rename = "5min")]
    FiveMin,
    #[serde(rename = "15min")]
    FifteenMin,
    #[serde(rename = "30min")]
    ThirtyMin,
    #[serde(rename = "60min")]
    SixtyMin,
}

impl IntradayInterval {
    pub const ALL: [IntradayInterval; 5] =
        [Self::OneMin, Self::FiveMin, Self::FifteenMin, Self::ThirtyMin, Self::SixtyMin];

    /// Alpha Vantage's (and the REST API's) name: `1min`, `5min`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneMin => "1min",
            Self::FiveMin => "5min",
            Self::FifteenMin => "15min",
            Self::ThirtyMin => "30min",
            Self::SixtyMin => "60min",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == name)
    }
}

/// The body of `POST /api/v1/fetch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FetchRequest {
    pub symbols: Vec<String>,
    #[serde(default)]
    pub outputsize: OutputSize,
    /// Also fetch intraday bars of this size (one more request per symbol).
    #[serde(default)]
    pub intraday: Option<IntradayInterval>,
    /// Replace daily bars a symbol holds from another source (a CSV import);
    /// demo (synthetic) bars are always replaced.
    #[serde(default)]
    pub replace: bool,
}

/// The answer to `POST /api/v1/import?symbol=X` (a CSV file of daily bars).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Imported {
    pub symbol: String,
    /// Daily bars stored.
    pub records: u64,
    /// The source whose daily bars this import replaced, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<crate::DataSource>,
}

/// A fetch job and where each of its symbols stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FetchJob {
    pub id: String,
    /// When it was accepted, ns since the epoch.
    pub created: i64,
    pub outputsize: OutputSize,
    #[serde(default)]
    pub intraday: Option<IntradayInterval>,
    /// As asked for in the request.
    #[serde(default)]
    pub replace: bool,
    pub entries: Vec<FetchEntry>,
    /// True once every entry is stored or failed.
    pub finished: bool,
}

/// One symbol of a fetch job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FetchEntry {
    pub symbol: String,
    #[serde(flatten)]
    pub state: FetchState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        assert_eq!((request.outputsize, request.intraday), (OutputSize::Compact, None));
        let intraday: FetchRequest =
            serde_json::from_str(r#"{"symbols": ["IBM"], "intraday": "5min"}"#).expect("request");
        assert_eq!(intraday.intraday, Some(IntradayInterval::FiveMin));
        assert_eq!(IntradayInterval::parse("60min"), Some(IntradayInterval::SixtyMin));
        assert_eq!(IntradayInterval::parse("2min"), None);
        let entry = FetchEntry { symbol: "IBM".into(), state: FetchState::Stored { records: 100 } };
        let json = serde_json::to_value(&entry).expect("json");
        assert_eq!((json["state"].as_str(), json["records"].as_u64()), (Some("stored"), Some(100)));
        assert!(entry.state.is_done() && !FetchState::Fetching.is_done());
    }
}
