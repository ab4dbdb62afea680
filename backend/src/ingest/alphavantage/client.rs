//! The Alpha Vantage HTTP client: one rate limiter for every call, bounded
//! retries with backoff for rate-limit replies and transient failures.
//!
//! The API key is added to each request and appears nowhere else: errors are
//! built without the request URL, and nothing here logs a URL.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use jiff::Timestamp;
use jiff::tz::TimeZone;
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
    /// Set by a daily-quota reply: no request is sent before it passes.
    quota: std::sync::Mutex<Option<UsedUp>>,
}

/// The daily quota ran out: Alpha Vantage's words and when to ask again.
#[derive(Debug, Clone)]
struct UsedUp {
    message: String,
    until: Timestamp,
}

type Result<T> = std::result::Result<T, AlphaVantageError>;

/// The largest body read from Alpha Vantage. A full daily series (25 years)
/// is about 1 MB and a full intraday month a few MB; anything far larger is
/// not a reply to parse.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

impl AlphaVantageClient {
    pub fn new(settings: ClientSettings) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("marquee/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AlphaVantageError::Transport(e.without_url().to_string()))?;
        let limiter = RateLimiter::direct(Quota::per_minute(settings.requests_per_minute));
        if plain_http_to_another_machine(&settings.base_url) {
            tracing::warn!(
                "the Alpha Vantage URL is plain http:// to another machine: the API key travels unencrypted"
            );
        }
        Ok(Self { http, settings, limiter, quota: std::sync::Mutex::new(None) })
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
            if let Some(used_up) = self.quota_used_up(Timestamp::now()) {
                return Err(used_up);
            }
            self.limiter.until_ready().await;
            let outcome = match self.send(query).await {
                Ok(body) => parse(&body),
                Err(err) => Err(err),
            }
            .map_err(|err| self.noted(err.redacted(self.settings.api_key.expose()), Timestamp::now()));
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

    /// The daily-quota error while the quota is known to be used up.
    fn quota_used_up(&self, now: Timestamp) -> Option<AlphaVantageError> {
        let mut quota = self.quota.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match quota.as_ref() {
            Some(used_up) if now < used_up.until => Some(AlphaVantageError::DailyLimit {
                message: used_up.message.clone(),
                resumes: resumes(used_up.until, now),
            }),
            Some(_) => {
                *quota = None;
                None
            }
            None => None,
        }
    }

    /// `err`, remembering a used-up daily quota until the next UTC midnight.
    fn noted(&self, err: AlphaVantageError, now: Timestamp) -> AlphaVantageError {
        let AlphaVantageError::DailyLimit { message, .. } = err else { return err };
        let until = next_utc_midnight(now);
        tracing::warn!(until = %until, "Alpha Vantage's daily quota is used up: no more requests until then");
        let mut quota = self.quota.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *quota = Some(UsedUp { message: message.clone(), until });
        AlphaVantageError::DailyLimit { message, resumes: resumes(until, now) }
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
        read_bounded(response, MAX_BODY).await
    }
}

/// The body as text, refused once it passes `max` bytes (announced or sent).
async fn read_bounded(mut response: reqwest::Response, max: usize) -> Result<String> {
    let too_large = || AlphaVantageError::Malformed(format!("the reply is larger than {} MiB", max >> 20));
    if response.content_length().is_some_and(|announced| announced > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| AlphaVantageError::Malformed("the reply is not UTF-8 text".into()))
}

/// `http://` to a host other than this machine.
fn plain_http_to_another_machine(base_url: &str) -> bool {
    base_url.starts_with("http://") && !crate::common::net::is_loopback_url(base_url)
}

/// The start of the next UTC day after `now`.
fn next_utc_midnight(now: Timestamp) -> Timestamp {
    let today = now.to_zoned(TimeZone::UTC).date();
    today
        .tomorrow()
        .and_then(|day| day.to_zoned(TimeZone::UTC))
        .map(|midnight| midnight.timestamp())
        .unwrap_or(now)
}

/// `2026-12-04 00:00 UTC (in 5 h 31 min)`.
fn resumes(until: Timestamp, now: Timestamp) -> String {
    let minutes = ((until.as_second() - now.as_second()).max(0) as u64).div_ceil(60);
    format!("{} (in {} h {} min)", until.strftime("%Y-%m-%d %H:%M UTC"), minutes / 60, minutes % 60)
}

/// A reqwest error without its URL (which holds the key), with every cause:
/// "error sending request" alone does not say the connection was refused.
fn transport(err: reqwest::Error) -> AlphaVantageError {
    if err.is_timeout() {
        return AlphaVantageError::Timeout;
    }
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    AlphaVantageError::Transport(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers one request with `head` and then `body_len` bytes.
    async fn serve_once(head: String, body_len: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let mut request = [0u8; 4096];
            let _read = stream.read(&mut request).await;
            let _written = stream.write_all(head.as_bytes()).await;
            let chunk = vec![b'{'; 64 * 1024];
            let mut left = body_len;
            while left > 0 {
                let n = left.min(chunk.len());
                if stream.write_all(&chunk[..n]).await.is_err() {
                    return;
                }
                left -= n;
            }
        });
        format!("http://{address}/query")
    }

    async fn body_of(url: &str, max: usize) -> Result<String> {
        let response = reqwest::get(url).await.map_err(transport)?;
        read_bounded(response, max).await
    }

    #[tokio::test]
    async fn an_oversized_reply_is_refused_announced_or_not() {
        let announced =
            serve_once("HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n".into(), 5_000_000).await;
        let err = body_of(&announced, 1 << 20).await.expect_err("announced 5 MB against 1 MiB");
        assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
        let unannounced = serve_once("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".into(), 5_000_000).await;
        let err = body_of(&unannounced, 1 << 20).await.expect_err("5 MB sent against 1 MiB");
        assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
        let small = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".into(), 10).await;
        assert_eq!(body_of(&small, 1 << 20).await.expect("small"), "{".repeat(10));
    }

    #[test]
    fn a_used_up_quota_waits_for_the_next_utc_day() {
        let now: Timestamp = "2026-12-03T18:29:30Z".parse().expect("time");
        let until = next_utc_midnight(now);
        assert_eq!(until.to_string(), "2026-12-04T00:00:00Z");
        assert_eq!(resumes(until, now), "2026-12-04 00:00 UTC (in 5 h 31 min)");
    }

    #[test]
    fn plain_http_is_flagged_only_off_this_machine() {
        assert!(plain_http_to_another_machine("http://www.alphavantage.co/query"));
        assert!(plain_http_to_another_machine("http://10.0.0.5:8080/query"));
        assert!(!plain_http_to_another_machine("https://www.alphavantage.co/query"));
        assert!(!plain_http_to_another_machine("http://127.0.0.1:4010/query"));
        assert!(!plain_http_to_another_machine("http://localhost/query"));
        assert!(!plain_http_to_another_machine("http://[::1]:9/query"));
    }
}
