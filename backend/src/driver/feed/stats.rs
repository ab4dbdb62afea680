//! What a feed counts and how it stands, measured once a sample for
//! `/health` (a dependency per feed), `/metrics` and the dashboard.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use marquee_shared::{FeedFigures, Status};

use crate::metrics::feeds::FeedMeter;
use crate::metrics::latency::LatencyRecorder;
use crate::sources::feed::FeedCounts;
use crate::sources::venues::Venue;

/// Where a feed's connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedStatus {
    Connecting {
        attempt: u32,
    },
    Connected,
    /// Streaming from the `--failover` venue while the primary is down.
    OnFailover {
        venue: Venue,
    },
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
    /// Messages and trades at the last measure, for the rates.
    previous: Mutex<(u64, u64)>,
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
            previous: Mutex::new((0, 0)),
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

impl FeedMeter for FeedStats {
    fn measure(&self, elapsed_s: f64) -> FeedFigures {
        let counts = self.counts();
        let messages = self.messages();
        let (before_messages, before_trades) = {
            let mut previous = self.previous.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *previous, (messages, counts.trades))
        };
        let per_s = |now: u64, before: u64| now.saturating_sub(before) as f64 / elapsed_s.max(1e-3);
        let (status, state) = match self.status() {
            FeedStatus::Connected => (Status::Up, "connected".to_owned()),
            FeedStatus::OnFailover { venue } => {
                (Status::Degraded, format!("down; streaming from the failover, {}", venue.label()))
            }
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
        FeedFigures {
            venue: self.venue.as_str().to_owned(),
            status,
            state,
            messages,
            trades: counts.trades,
            reconnects: self.reconnects(),
            gaps: counts.gaps,
            missed: counts.missed,
            duplicates: counts.duplicates,
            bad_frames: self.bad_frames(),
            messages_per_s: per_s(messages, before_messages),
            trades_per_s: per_s(counts.trades, before_trades),
            latency: self.latency.roll(),
        }
    }
}
