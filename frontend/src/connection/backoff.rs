//! Reconnect timing and the connection status it implies. Pure; tested natively.

use super::Status;

/// Exponential backoff: 250 ms, 500 ms, 1 s, ... capped at 8 s, with up to
/// 20 % jitter so that a restarted server is not hit by every tab at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    failures: u32,
}

/// Failed attempts after which the page calls itself offline.
const OFFLINE_AFTER: u32 = 5;
const BASE_MS: u32 = 250;
const CAP_MS: u32 = 8_000;

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Backoff {
    pub fn new() -> Self {
        Self { failures: 0 }
    }

    /// True once an attempt failed since the last success (a reconnect).
    pub fn has_failed(&self) -> bool {
        self.failures > 0
    }

    /// The stream opened: the next failure starts from the shortest delay.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// The stream closed or could not open. `jitter` in [0, 1) spreads retries.
    /// Returns how long to wait before the next attempt and the status to show.
    pub fn failed(&mut self, jitter: f64) -> (u32, Status) {
        let exponent = self.failures.min(10);
        self.failures = self.failures.saturating_add(1);
        let delay = BASE_MS.saturating_mul(1 << exponent).min(CAP_MS);
        let jittered = f64::from(delay) * (1.0 + 0.2 * jitter.clamp(0.0, 1.0));
        let status = if self.failures > OFFLINE_AFTER { Status::Offline } else { Status::Reconnecting };
        (jittered as u32, status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let mut backoff = Backoff::new();
        let delays: Vec<u32> = (0..8).map(|_| backoff.failed(0.0).0).collect();
        assert_eq!(delays, [250, 500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    }

    #[test]
    fn jitter_adds_at_most_a_fifth() {
        let mut backoff = Backoff::new();
        assert_eq!(backoff.failed(0.999_999).0, 299);
        assert_eq!(backoff.failed(5.0).0, 600, "jitter is clamped");
    }

    #[test]
    fn status_turns_offline_after_repeated_failures_and_resets_on_success() {
        let mut backoff = Backoff::new();
        let statuses: Vec<Status> = (0..7).map(|_| backoff.failed(0.0).1).collect();
        assert_eq!(statuses[..5], [Status::Reconnecting; 5]);
        assert_eq!(statuses[5..], [Status::Offline; 2]);
        assert!(backoff.has_failed());
        backoff.succeeded();
        assert!(!backoff.has_failed());
        assert_eq!(backoff.failed(0.0), (250, Status::Reconnecting));
    }
}
