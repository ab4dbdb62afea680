//! The Alpha Vantage HTTP client: one rate limiter for every call, bounded
//! retries with backoff for rate-limit replies and transient failures.
//!
//! The API key is added to each request and appears nowhere else: errors are
//! built without the request URL, and nothing here logs a URL.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
pub use marquee_shared::IntradayInterval;
use marquee_shared::OutputSize;

use super::error::AlphaVantageError;
use super::parse::{self, GlobalQuote, Overview, SearchMatch, Series};
use crate::config::Secret;

/// How to reach Alpha Vantage and how politely.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// `https://www.alphavantage.co/query`, or a local server in tests.
    pub base_url: String,
    pub api_key: Secret,
    /// Client-side limit (the free tier allows 5 a minute).
    pub requests_per_minute: NonZeroU32,
    pub timeout: Duration,
    /// Retries after a rate-limit reply or a transient failure.
    pub max_retries: u32,
    /// The first retry waits this long; each later one twice as long.
    pub retry_backoff: Duration,
}

#[derive(Debug)]
pub struct AlphaVantageClient {
    http: reqwest::Client,
    settings: ClientSettings,
    limiter: DefaultDirectRateLimiter,
}

type Result<T> = std::result::Result<T, AlphaVantageError>;

impl AlphaVantageClient {
    pub fn new(settings: ClientSettings) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("marquee/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AlphaVantageError::Transport(e.without_url().to_string()))?;
        let limiter = RateLimiter::direct(Quota::per_minute(settings.requests_per_minute));
        Ok(Self { http, settings, limiter })
    }

    pub async fn daily(&self, symbol: &str, size: OutputSize) -> Result<Series> {
        let query = [("function", "TIME_SERIES_DAILY"), ("symbol", symbol), ("outputsize", size.as_str())];
        self.call(&query, |body| parse::time_series(body, symbol)).await
    }

    pub async fn intraday(
        &self,
        symbol: &str,
        interval: IntradayInterval,
        size: OutputSize,
    ) -> Result<Series> {
        let query = [
            ("function", "TIME_SERIES_INTRADAY"),
            ("symbol", symbol),
            ("interval", interval.as_str()),
            ("outputsize", size.as_str()),
        ];
        self.call(&query, |body| parse::time_series(body, symbol)).await
    }

    pub async fn global_quote(&self, symbol: &str) -> Result<GlobalQuote> {
        self.call(&[("function", "GLOBAL_QUOTE"), ("symbol", symbol)], |body| {
            parse::global_quote(body, symbol)
        })
        .await
    }

    pub async fn overview(&self, symbol: &str) -> Result<Overview> {
        self.call(&[("function", "OVERVIEW"), ("symbol", symbol)], |body| parse::overview(body, symbol)).await
    }

    pub async fn search(&self, keywords: &str) -> Result<Vec<SearchMatch>> {
        self.call(&[("function", "SYMBOL_SEARCH"), ("keywords", keywords)], parse::symbol_search).await
    }

    /// One logical call: waits for the rate limiter, sends, parses, and
    /// retries what is worth retrying.
    async fn call<T>(&self, query: &[(&str, &str)], parse: impl Fn(&str) -> Result<T>) -> Result<T> {
        let function = query.first().map_or("", |(_, f)| *f);
        let mut attempt = 0;
        loop {
            self.limiter.until_ready().await;
            let outcome = match self.send(query).await {
                Ok(body) => parse(&body),
                Err(err) => Err(err),
            };
            match outcome {
                Err(err) if err.is_retryable() && attempt < self.settings.max_retries => {
                    let wait = self.settings.retry_backoff.saturating_mul(1 << attempt.min(10));
                    attempt += 1;
                    tracing::warn!(function, %err, attempt, wait_ms = wait.as_millis() as u64, "retrying Alpha Vantage");
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn send(&self, query: &[(&str, &str)]) -> Result<String> {
        let response = self
            .http
            .get(&self.settings.base_url)
            .query(query)
            .query(&[("apikey", self.settings.api_key.expose())])
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(AlphaVantageError::Http(status.as_u16()));
        }
        response.text().await.map_err(transport)
    }
}

/// A reqwest error without its URL (which holds the key).
fn transport(err: reqwest::Error) -> AlphaVantageError {
    if err.is_timeout() {
        AlphaVantageError::Timeout
    } else {
        AlphaVantageError::Transport(err.without_url().to_string())
    }
}
