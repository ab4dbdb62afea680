//! Counters the stages update and `/health` reads. Every number here is a
//! count of something that happened, never an estimate.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use marquee_shared::{StageHealth, Status};

use crate::common::Stage;
use crate::metrics::latency::LatencyRecorder;

fn optional(value: u64) -> Option<u64> {
    (value != u64::MAX).then_some(value)
}

/// One stage's state and its message counts.
#[derive(Debug)]
pub struct StageStats {
    name: &'static str,
    processed: AtomicU64,
    dropped: AtomicU64,
    errors: AtomicU64,
    /// Buffer fill in parts per million (atomics hold no floats); `u64::MAX` for none.
    fill_ppm: AtomicU64,
    flushes: AtomicU64,
    /// Messages waiting in a Kafka producer's queue; `u64::MAX` for none.
    queue: AtomicU64,
    /// Messages a Kafka consumer has yet to read; `u64::MAX` for none.
    lag: AtomicU64,
    /// A pipelined Kafka producer's messages and payload bytes sent and not
    /// yet confirmed; `u64::MAX` for none.
    in_flight: AtomicU64,
    in_flight_bytes: AtomicU64,
    /// A Kafka consumer's batches and the messages in them; `u64::MAX` for none.
    batches: AtomicU64,
    batched: AtomicU64,
    state: Mutex<(Status, String)>,
    /// Age of each tick when this stage is done with it.
    pub latency: LatencyRecorder,
}

impl StageStats {
    /// A stage that has not started yet: it reads as down until it says otherwise.
    pub fn new(stage: Stage) -> Self {
        Self::unlisted(stage.name())
    }

    /// Counters of a part that is no stage of the pipeline (the heartbeat
    /// producer): never listed in `/health`, named in its log lines.
    pub fn unlisted(name: &'static str) -> Self {
        Self {
            name,
            processed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            fill_ppm: AtomicU64::new(u64::MAX),
            flushes: AtomicU64::new(0),
            queue: AtomicU64::new(u64::MAX),
            lag: AtomicU64::new(u64::MAX),
            in_flight: AtomicU64::new(u64::MAX),
            in_flight_bytes: AtomicU64::new(u64::MAX),
            batches: AtomicU64::new(u64::MAX),
            batched: AtomicU64::new(u64::MAX),
            state: Mutex::new((Status::Down, "starting".into())),
            latency: LatencyRecorder::default(),
        }
    }

    pub fn add_processed(&self, n: u64) {
        self.processed.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts messages this stage had to skip (e.g. for a client that lagged).
    pub fn add_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts failures (a write that did not happen, ...).
    pub fn add_errors(&self, n: u64) {
        self.errors.fetch_add(n, Ordering::Relaxed);
    }

    /// Records how full the stage's buffer is, in [0, 1].
    pub fn set_buffer_fill(&self, fill: f64) {
        self.fill_ppm.store((fill.clamp(0.0, 1.0) * 1e6).round() as u64, Ordering::Relaxed);
    }

    /// Records a Kafka producer's queue depth (as librdkafka reports it).
    pub fn set_queue(&self, messages: u64) {
        self.queue.store(messages.min(u64::MAX - 1), Ordering::Relaxed);
    }

    /// Records a Kafka consumer's lag (as librdkafka reports it).
    pub fn set_lag(&self, messages: u64) {
        self.lag.store(messages.min(u64::MAX - 1), Ordering::Relaxed);
    }

    /// Records a pipelined producer's ticks and bytes in flight.
    pub fn set_in_flight(&self, ticks: u64, bytes: u64) {
        self.in_flight.store(ticks.min(u64::MAX - 1), Ordering::Relaxed);
        self.in_flight_bytes.store(bytes.min(u64::MAX - 1), Ordering::Relaxed);
    }

    /// Counts one batch of `messages` read by a Kafka consumer.
    pub fn add_batch(&self, messages: u64) {
        for (counter, n) in [(&self.batches, 1), (&self.batched, messages)] {
            // From "none" to the first figure, then counting.
            let _ = counter.compare_exchange(u64::MAX, 0, Ordering::Relaxed, Ordering::Relaxed);
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub fn add_flush(&self) {
        self.flushes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn processed(&self) -> u64 {
        self.processed.load(Ordering::Relaxed)
    }

    pub fn set_running(&self, detail: impl Into<String>) {
        self.set(Status::Up, detail.into());
    }

    pub fn set_degraded(&self, reason: impl Into<String>) {
        self.set(Status::Degraded, reason.into());
    }

    /// Failing for long enough to be counted as down, though still trying.
    pub fn set_down(&self, reason: impl Into<String>) {
        self.set(Status::Down, reason.into());
    }

    pub fn set_stopped(&self, reason: impl Into<String>) {
        self.set(Status::Down, reason.into());
    }

    fn set(&self, status: Status, detail: String) {
        // A poisoned lock only means a panic elsewhere mid-write of two plain
        // values; the data is still usable.
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *state = (status, detail);
    }

    /// The stage's status, detail and counters as they stand; the sampled
    /// figures (rates, latency) are left empty for the sampler to fill.
    pub fn health(&self) -> StageHealth {
        let (status, detail) = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        StageHealth {
            name: self.name.to_owned(),
            status,
            detail,
            processed: self.processed(),
            dropped: self.dropped.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            buffer_fill: match self.fill_ppm.load(Ordering::Relaxed) {
                u64::MAX => None,
                ppm => Some(ppm as f64 / 1e6),
            },
            flushes: match self.flushes.load(Ordering::Relaxed) {
                0 if self.fill_ppm.load(Ordering::Relaxed) == u64::MAX => None,
                n => Some(n),
            },
            queue: optional(self.queue.load(Ordering::Relaxed)),
            lag: optional(self.lag.load(Ordering::Relaxed)),
            in_flight: optional(self.in_flight.load(Ordering::Relaxed)),
            in_flight_bytes: optional(self.in_flight_bytes.load(Ordering::Relaxed)),
            batches: optional(self.batches.load(Ordering::Relaxed)),
            batched: optional(self.batched.load(Ordering::Relaxed)),
            rate: 0.0,
            error_rate: 0.0,
            latency: None,
        }
    }
}

/// A gauge that goes up and down (connected clients).
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    /// Counts one more until the returned guard is dropped.
    pub fn enter(&self) -> GaugeGuard<'_> {
        self.0.fetch_add(1, Ordering::Relaxed);
        GaugeGuard(&self.0)
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Decrements its [`Gauge`] when dropped, however the holder exits.
#[derive(Debug)]
pub struct GaugeGuard<'a>(&'a AtomicU64);

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_reports_its_state_and_count() {
        let stage = StageStats::new(crate::common::Stage::Driver);
        assert_eq!(stage.health().status, Status::Down);
        stage.set_running("streaming");
        stage.add_processed(3);
        stage.add_processed(4);
        stage.add_dropped(2);
        stage.add_errors(1);
        let health = stage.health();
        assert_eq!((health.status, health.detail.as_str(), health.processed), (Status::Up, "streaming", 7));
        assert_eq!((health.dropped, health.errors), (2, 1));
        assert_eq!((health.buffer_fill, health.flushes), (None, None), "no buffer, no buffer figures");
        stage.set_buffer_fill(0.25);
        stage.add_flush();
        let health = stage.health();
        assert_eq!((health.buffer_fill, health.flushes), (Some(0.25), Some(1)));
        stage.set_degraded("slow");
        assert_eq!(stage.health().status, Status::Degraded);
        stage.set_down("failing for 5 s");
        assert_eq!(
            (stage.health().status, stage.health().detail.as_str()),
            (Status::Down, "failing for 5 s")
        );
    }

    #[test]
    fn the_gauge_falls_back_when_guards_drop() {
        let gauge = Gauge::default();
        let a = gauge.enter();
        {
            let _b = gauge.enter();
            assert_eq!(gauge.get(), 2);
        }
        assert_eq!(gauge.get(), 1);
        drop(a);
        assert_eq!(gauge.get(), 0);
    }
}
