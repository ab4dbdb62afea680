//! A sink's counters and last outcome, read by the metrics sampler.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use marquee_shared::{DeliveryStatus, SinkFigures};

use crate::common::time::now_ns;

#[derive(Debug)]
pub struct SinkStats {
    pub name: String,
    pub kind: &'static str,
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    retries: AtomicU64,
    last: Mutex<Option<DeliveryStatus>>,
}

impl SinkStats {
    pub fn new(name: impl Into<String>, kind: &'static str) -> Self {
        Self {
            name: name.into(),
            kind,
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            last: Mutex::new(None),
        }
    }

    pub fn delivered(&self) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.attempted(true, "delivered".to_owned());
    }

    /// An attempt failed; `gave_up` when it was the last.
    pub fn attempt_failed(&self, reason: &str, gave_up: bool) {
        if gave_up {
            self.failed.fetch_add(1, Ordering::Relaxed);
        } else {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
        self.attempted(false, reason.to_owned());
    }

    /// Given up without an attempt (shutdown).
    pub fn abandoned(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dropped(&self, count: u64) {
        self.dropped.fetch_add(count, Ordering::Relaxed);
    }

    fn attempted(&self, ok: bool, detail: String) {
        let status = DeliveryStatus { ok, at: now_ns(), detail };
        *self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(status);
    }

    pub fn figures(&self, queued: u64) -> SinkFigures {
        SinkFigures {
            name: self.name.clone(),
            kind: self.kind.to_owned(),
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            queued,
            last: self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone(),
        }
    }
}
