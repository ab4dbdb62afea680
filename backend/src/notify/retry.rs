//! When to try a delivery again: capped exponential backoff with jitter,
//! or the wait the receiver asked for (`Retry-After`), until the tries run
//! out. Pure.

use std::time::Duration;

/// The longest `Retry-After` honoured: a receiver asking for more is
/// tried again after this.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(600);

/// How a sink retries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub first: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 5, first: Duration::from_secs(1), max: Duration::from_secs(60) }
    }
}

/// Why an attempt failed, as the sink saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    pub retry: Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Worth another try after the backoff (5xx, a timeout, no connection).
    Backoff,
    /// The receiver asked for this wait (429 or 503 with `Retry-After`).
    After(Duration),
    /// Another try would fail the same way (400, 401, 404: a bad URL or key).
    Never,
}

impl Failure {
    pub fn new(reason: impl Into<String>, retry: Retry) -> Self {
        Self { reason: reason.into(), retry }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` after attempt `attempt` (from 1)
    /// failed, or `None` to give up. `jitter` in [0, 1) spreads the backoff
    /// between half of it and all of it.
    pub fn next(&self, attempt: u32, failure: &Failure, jitter: f64) -> Option<Duration> {
        if attempt >= self.attempts {
            return None;
        }
        match failure.retry {
            Retry::Never => None,
            // Honoured even beyond the backoff's cap: the receiver is
            // rate limiting, and asking sooner only fails again.
            Retry::After(wait) => Some(wait.min(RETRY_AFTER_MAX)),
            Retry::Backoff => {
                let doubled = self.first.saturating_mul(1_u32 << (attempt - 1).min(16));
                let capped = doubled.min(self.max);
                Some(capped / 2 + (capped / 2).mul_f64(jitter.clamp(0.0, 1.0)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn backs_off_doubling_up_to_the_cap_then_gives_up() {
        let policy = RetryPolicy { attempts: 6, first: SECOND, max: 4 * SECOND };
        let failed = Failure::new("HTTP 500", Retry::Backoff);
        let waits: Vec<Option<Duration>> = (1..=6).map(|n| policy.next(n, &failed, 1.0)).collect();
        assert_eq!(
            waits,
            [Some(SECOND), Some(2 * SECOND), Some(4 * SECOND), Some(4 * SECOND), Some(4 * SECOND), None]
        );
        assert_eq!(policy.next(2, &failed, 0.0), Some(SECOND), "jitter keeps at least half");
    }

    #[test]
    fn retry_after_is_honoured_and_permanent_failures_are_not_retried() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.next(1, &Failure::new("429", Retry::After(2 * SECOND)), 0.5), Some(2 * SECOND));
        let quick = RetryPolicy { max: SECOND / 10, ..policy };
        assert_eq!(
            quick.next(1, &Failure::new("429", Retry::After(2 * SECOND)), 0.5),
            Some(2 * SECOND),
            "past the cap"
        );
        assert_eq!(
            policy.next(1, &Failure::new("429", Retry::After(3_600 * SECOND)), 0.5),
            Some(RETRY_AFTER_MAX),
            "within reason"
        );
        assert_eq!(policy.next(1, &Failure::new("HTTP 404", Retry::Never), 0.5), None);
    }
}
