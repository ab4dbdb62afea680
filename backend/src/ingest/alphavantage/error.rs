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
    /// `"Note"` or a rate-limit `"Information"`: too many requests a minute.
    #[error("Alpha Vantage rate limit: {0}")]
    RateLimited(String),
    /// The daily quota is used up: asking again today only spends nothing
    /// but time, so it is never retried. `resumes` says when Marquee asks again.
    #[error(
        "Alpha Vantage's daily request quota is used up, so Marquee sends it no more requests until {resumes} \
         (Alpha Vantage does not publish the hour its day starts; a premium key has no daily quota). \
         Alpha Vantage said: {message}"
    )]
    DailyLimit { message: String, resumes: String },
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
    /// The same error with every `secret` in the vendor's words replaced:
    /// Alpha Vantage quotes the API key in some replies ("We have detected
    /// your API key as ...").
    pub fn redacted(self, secret: &str) -> Self {
        if secret.is_empty() {
            return self;
        }
        let clean = |text: String| text.replace(secret, "[API key]");
        match self {
            Self::Rejected(m) => Self::Rejected(clean(m)),
            Self::RateLimited(m) => Self::RateLimited(clean(m)),
            Self::DailyLimit { message, resumes } => Self::DailyLimit { message: clean(message), resumes },
            Self::Refused(m) => Self::Refused(clean(m)),
            Self::Malformed(m) => Self::Malformed(clean(m)),
            Self::Transport(m) => Self::Transport(clean(m)),
            other => other,
        }
    }

    /// Worth trying again after a pause.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited(_) | Self::Timeout | Self::Transport(_) | Self::Http(500..=599 | 429)
        )
    }
}
