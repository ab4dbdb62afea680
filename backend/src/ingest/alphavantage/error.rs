//! What can go wrong talking to Alpha Vantage, typed so callers can branch
//! (retry a rate limit, fail a job entry for a bad symbol, ...).
//!
//! No variant ever carries the request URL: it contains the API key.

/// An Alpha Vantage call that produced no usable data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlphaVantageError {
    /// `"Error Message"`: a bad symbol or an invalid call.
    #[error("Alpha Vantage rejected the request: {0}")]
    Rejected(String),
    /// `"Note"` or a rate-limit `"Information"`: too many requests.
    #[error("Alpha Vantage rate limit: {0}")]
    RateLimited(String),
    /// Any other `"Information"` (a premium endpoint, an invalid key, ...).
    #[error("Alpha Vantage refused the request: {0}")]
    Refused(String),
    /// The symbol is not known (Alpha Vantage answers with an empty object).
    #[error("no data for symbol {0}")]
    UnknownSymbol(String),
    /// The body is not the JSON this call returns.
    #[error("malformed Alpha Vantage response: {0}")]
    Malformed(String),
    /// A bar or quote with an impossible value (see
    /// [`marquee_shared::validate`]), named by its date: the whole reply is refused.
    #[error("Alpha Vantage sent an unusable value for {at}: {problem}")]
    Invalid { at: String, problem: String },
    /// A non-success HTTP status.
    #[error("Alpha Vantage answered HTTP {0}")]
    Http(u16),
    #[error("Alpha Vantage did not answer in time")]
    Timeout,
    /// Connection refused, reset, DNS, TLS, ...
    #[error("cannot reach Alpha Vantage: {0}")]
    Transport(String),
}

impl AlphaVantageError {
    /// Worth trying again after a pause.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited(_) | Self::Timeout | Self::Transport(_) | Self::Http(500..=599 | 429)
        )
    }
}
