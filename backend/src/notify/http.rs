//! Posting to an HTTP endpoint (Slack's incoming webhooks, a generic
//! webhook), and what its answer means for a retry. The URL may hold a
//! secret (Slack's does): it never appears in a reason or a log line.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

use super::retry::{Failure, Retry};

/// POSTs `body` as JSON with `headers`.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: HeaderMap,
    body: Vec<u8>,
) -> Result<(), Failure> {
    let sent = client
        .post(url)
        .headers(headers)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|err| Failure::new(describe(&err), Retry::Backoff))?;
    answer(sent.status(), sent.headers().get(RETRY_AFTER), crate::common::time::now_ns())
}

/// What an answer's status means: 2xx delivered; 408, 429 and 5xx worth
/// another try (after `Retry-After` when it says); any other 4xx not (a
/// wrong URL or key: trying again fails the same way).
pub fn answer(status: StatusCode, retry_after: Option<&HeaderValue>, now: i64) -> Result<(), Failure> {
    if status.is_success() {
        return Ok(());
    }
    let reason = format!("HTTP {status}");
    let retryable = status.is_server_error() || matches!(status.as_u16(), 408 | 429);
    if !retryable {
        return Err(Failure::new(reason, Retry::Never));
    }
    match retry_after.and_then(|value| value.to_str().ok()).and_then(|value| wait(value, now)) {
        Some(wait) => {
            Err(Failure::new(format!("{reason}, retry after {} s", wait.as_secs_f64()), Retry::After(wait)))
        }
        None => Err(Failure::new(reason, Retry::Backoff)),
    }
}

/// `Retry-After`: seconds, or an HTTP date.
fn wait(value: &str, now: i64) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value.trim()).ok()?.timestamp().as_nanosecond();
    let wait = at.saturating_sub(i128::from(now));
    // A date past: at once; one beyond what a u64 of ns holds: as long as allowed.
    Some(Duration::from_nanos(if wait <= 0 { 0 } else { u64::try_from(wait).unwrap_or(u64::MAX) }))
}

/// A request error in words, without its URL.
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".to_owned();
    }
    let mut root: &dyn std::error::Error = err;
    while let Some(source) = root.source() {
        root = source;
    }
    let what = if err.is_connect() { "cannot connect" } else { "request failed" };
    format!("{what}: {root}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_decide_whether_and_when_to_try_again() {
        assert_eq!(answer(StatusCode::OK, None, 0), Ok(()));
        assert_eq!(answer(StatusCode::NO_CONTENT, None, 0), Ok(()));
        let server = answer(StatusCode::INTERNAL_SERVER_ERROR, None, 0).expect_err("500");
        assert_eq!(
            (server.reason.as_str(), server.retry),
            ("HTTP 500 Internal Server Error", Retry::Backoff)
        );
        let limited = answer(StatusCode::TOO_MANY_REQUESTS, Some(&HeaderValue::from_static("2")), 0);
        assert_eq!(limited.expect_err("429").retry, Retry::After(Duration::from_secs(2)));
        let gone = answer(StatusCode::NOT_FOUND, None, 0).expect_err("404");
        assert_eq!(gone.retry, Retry::Never, "a wrong URL stays wrong");
        assert_eq!(answer(StatusCode::UNAUTHORIZED, None, 0).expect_err("401").retry, Retry::Never);
    }

    #[test]
    fn retry_after_may_be_an_http_date() {
        let now = 1_445_412_480_000_000_000; // Wed, 21 Oct 2015 07:28:00 GMT
        let date = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:30 GMT");
        let failure = answer(StatusCode::SERVICE_UNAVAILABLE, Some(&date), now).expect_err("503");
        assert_eq!(failure.retry, Retry::After(Duration::from_secs(30)));
    }
}
