//! Secrets: read from the environment only, never shown.

/// A value that must never be logged or shown: its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Secrets come from the environment only, never from flags (which other
/// users of the machine can read in the process list).
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// `ALPHAVANTAGE_API_KEY`.
    pub alphavantage_api_key: Option<Secret>,
    /// `MARQUEE_OPERATOR_TOKEN`: when set, operator endpoints require it.
    pub operator_token: Option<Secret>,
    /// `MARQUEE_CLUSTER_SECRET`: shared by the processes of a split
    /// deployment, to sign heartbeats and forwarded requests.
    pub cluster_secret: Option<Secret>,
    /// `FINNHUB_API_KEY`: for `--source finnhub:...`.
    pub finnhub_api_key: Option<Secret>,
    /// `ALPACA_API_KEY_ID` and `ALPACA_API_SECRET_KEY`: for `--source alpaca:...`.
    pub alpaca_key_id: Option<Secret>,
    pub alpaca_secret_key: Option<Secret>,
}

impl Secrets {
    pub fn from_env() -> Self {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty()).map(Secret::new);
        Self {
            alphavantage_api_key: read("ALPHAVANTAGE_API_KEY"),
            operator_token: read("MARQUEE_OPERATOR_TOKEN"),
            cluster_secret: read("MARQUEE_CLUSTER_SECRET"),
            finnhub_api_key: read("FINNHUB_API_KEY"),
            alpaca_key_id: read("ALPACA_API_KEY_ID"),
            alpaca_secret_key: read("ALPACA_API_SECRET_KEY"),
        }
    }
}
