//! What a feed counts and how it stands, for `/health` (a dependency per
//! feed) and `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::BoxFuture;
use marquee_shared::{Dependency, Status};

use crate::metrics::{Checked, latency::LatencyRecorder};
use crate::sources::feed::FeedCounts;
use crate::sources::venues::Venue;

/// Where a feed's connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedStatus {
    Connecting {
        attempt: u32,
    },
    Connected,
    Reconnecting {
        attempt: u32,
        reason: String,
    },
    /// Refused by the venue for something only the user can fix; retried slowly.
    Failed {
        reason: String,
    },
    Stopped,
}

/// A feed's counters, shared with the sampler.
#[derive(Debug)]
pub struct FeedStats {
    pub venue: Venue,
    status: Mutex<FeedStatus>,
    messages: AtomicU64,
    reconnects: AtomicU64,
    bad_frames: AtomicU64,
    counts: Mutex<FeedCounts>,
    /// Receipt time − the venue's event time, per trade.
    pub latency: LatencyRecorder,
}

impl FeedStats {
    pub fn new(venue: Venue) -> Arc<Self> {
        Arc::new(Self {
            venue,
            status: Mutex::new(FeedStatus::Connecting { attempt: 0 }),
            messages: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            bad_frames: AtomicU64::new(0),
            counts: Mutex::new(FeedCounts::default()),
            latency: LatencyRecorder::default(),
        })
    }

    pub fn status(&self) -> FeedStatus {
        self.status.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(super) fn set_status(&self, status: FeedStatus) {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = status;
    }

    pub fn messages(&self) -> u64 {
        self.messages.load(Ordering::Relaxed)
    }

    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    pub fn bad_frames(&self) -> u64 {
        self.bad_frames.load(Ordering::Relaxed)
    }

    pub fn counts(&self) -> FeedCounts {
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn count_message(&self) {
        self.messages.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn count_reconnect(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn set_counts(&self, counts: FeedCounts) {
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner) = counts;
    }

    /// Counts a frame the feed could not read and logs it: the first ones,
    /// then at each power of two, so a venue sending nothing else cannot
    /// flood the log.
    pub(super) fn bad_frame(&self, what: &str) {
        let n = self.bad_frames.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_power_of_two() {
            tracing::warn!(venue = %self.venue, bad_frames = n, "skipped a frame: {what}");
        }
    }
}

/// A feed as a dependency on `/health`.
#[derive(Debug, Clone)]
pub struct FeedCheck(pub Arc<FeedStats>);

impl Checked for FeedCheck {
    fn check(&self, _timeout: Duration) -> BoxFuture<'_, Dependency> {
        let stats = &self.0;
        let latency = stats.latency.roll();
        let counts = stats.counts();
        let figures = format!(
            "{} trades, {} reconnects, {} gaps ({} trades missed), {} duplicates dropped, {} bad frames{}",
            counts.trades,
            stats.reconnects(),
            counts.gaps,
            counts.missed,
            counts.duplicates,
            stats.bad_frames(),
            latency.map_or_else(String::new, |l| format!(
                ", feed latency p50 {:.1} ms p99 {:.1} ms",
                l.p50_ms, l.p99_ms
            )),
        );
        let (status, state) = match stats.status() {
            FeedStatus::Connected => (Status::Up, "connected".to_owned()),
            FeedStatus::Connecting { attempt: 0 } => (Status::Degraded, "connecting".to_owned()),
            FeedStatus::Connecting { attempt } => {
                (Status::Degraded, format!("reconnecting (attempt {attempt})"))
            }
            FeedStatus::Reconnecting { attempt, reason } => {
                (Status::Degraded, format!("reconnecting (attempt {attempt}): {reason}"))
            }
            FeedStatus::Failed { reason } => (Status::Down, format!("failed: {reason}")),
            FeedStatus::Stopped => (Status::Down, "stopped".to_owned()),
        };
        let dependency = Dependency {
            name: format!("feed {}", stats.venue.as_str()),
            status,
            detail: format!("{}: {state}; {figures}", stats.venue.label()),
        };
        Box::pin(async move { dependency })
    }
}
