//! How to reach Alpha Vantage: flags shared by `serve` and `fetch`.

use std::time::Duration;

use clap::Args;

use super::ConfigError;

/// How to reach Alpha Vantage (the key comes from `ALPHAVANTAGE_API_KEY`).
#[derive(Debug, Clone, Args)]
pub struct AlphaVantageArgs {
    /// Alpha Vantage endpoint (point it at a local server for tests).
    #[arg(
        long = "alphavantage-url",
        env = "MARQUEE_ALPHAVANTAGE_URL",
        default_value = "https://www.alphavantage.co/query"
    )]
    pub url: String,
    /// Client-side limit on Alpha Vantage requests per minute (free tier: 5).
    #[arg(long = "alphavantage-rpm", env = "MARQUEE_ALPHAVANTAGE_RPM", default_value_t = 5)]
    pub rpm: u32,
    /// Retries after an Alpha Vantage rate-limit reply or transient failure.
    #[arg(long = "alphavantage-retries", env = "MARQUEE_ALPHAVANTAGE_RETRIES", default_value_t = 3)]
    pub retries: u32,
    /// Milliseconds before the first retry; each later retry waits twice as long.
    #[arg(
        long = "alphavantage-backoff-ms",
        env = "MARQUEE_ALPHAVANTAGE_BACKOFF_MS",
        default_value_t = 15_000
    )]
    pub backoff_ms: u64,
    /// Seconds before an Alpha Vantage request times out.
    #[arg(long = "alphavantage-timeout-s", env = "MARQUEE_ALPHAVANTAGE_TIMEOUT_S", default_value_t = 30)]
    pub timeout_s: u64,
}

impl AlphaVantageArgs {
    /// Validates the flags into settings.
    pub fn to_config(&self) -> Result<AlphaVantageConfig, ConfigError> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(ConfigError::AlphaVantage(format!(
                "URL must start with http:// or https://: {}",
                self.url
            )));
        }
        let requests_per_minute = std::num::NonZeroU32::new(self.rpm)
            .ok_or_else(|| ConfigError::AlphaVantage("requests per minute must be at least 1".into()))?;
        if self.retries > 10 || self.timeout_s == 0 {
            return Err(ConfigError::AlphaVantage(
                "use at most 10 retries and a timeout of at least 1 s".into(),
            ));
        }
        Ok(AlphaVantageConfig {
            url: self.url.clone(),
            requests_per_minute,
            retries: self.retries,
            backoff: Duration::from_millis(self.backoff_ms),
            timeout: Duration::from_secs(self.timeout_s),
        })
    }
}

/// How to reach Alpha Vantage (the key is in [`Secrets`]).
#[derive(Debug, Clone)]
pub struct AlphaVantageConfig {
    pub url: String,
    pub requests_per_minute: std::num::NonZeroU32,
    pub retries: u32,
    pub backoff: Duration,
    pub timeout: Duration,
}

impl Default for AlphaVantageConfig {
    fn default() -> Self {
        Self {
            url: "https://www.alphavantage.co/query".into(),
            requests_per_minute: std::num::NonZeroU32::MIN.saturating_add(4),
            retries: 3,
            backoff: Duration::from_secs(15),
            timeout: Duration::from_secs(30),
        }
    }
}
