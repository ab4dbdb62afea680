//! Latency histograms: values are recorded as they happen and summarised
//! over a sliding window of whole seconds, so the figures describe now, not
//! the average since start.

use std::collections::VecDeque;
use std::sync::Mutex;

use hdrhistogram::Histogram;
use marquee_shared::Latency;

/// Seconds of history the percentiles are taken over.
pub const WINDOW_SECS: usize = 10;
/// The largest value a histogram tracks (one hour, in µs); larger ones are clamped.
const MAX_MICROS: u64 = 3_600_000_000;

/// Records ages (event time to "done") in microseconds.
#[derive(Debug)]
pub struct LatencyRecorder {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Values of the second in progress.
    current: Histogram<u64>,
    /// The last [`WINDOW_SECS`] closed seconds, oldest first.
    closed: VecDeque<Histogram<u64>>,
    /// Everything since start, for Prometheus' `_count` and `_sum`.
    count: u64,
    sum_micros: u128,
}

fn histogram() -> Histogram<u64> {
    // Three significant figures from 1 µs to an hour: a few tens of KiB.
    // The bounds are constants that satisfy `new_with_bounds`' rules.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("1 <= low, high >= 2 * low, sigfig <= 5")
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                current: histogram(),
                closed: VecDeque::with_capacity(WINDOW_SECS + 1),
                count: 0,
                sum_micros: 0,
            }),
        }
    }
}

impl LatencyRecorder {
    /// Records the age at `now_ns` of every event time in `event_ts` (ns).
    pub fn record_ages(&self, now_ns: i64, event_ts: impl IntoIterator<Item = i64>) {
        let mut inner = self.lock();
        for ts in event_ts {
            let micros = (now_ns.saturating_sub(ts) / 1_000).clamp(1, MAX_MICROS as i64) as u64;
            inner.current.saturating_record(micros);
            inner.count += 1;
            inner.sum_micros += u128::from(micros);
        }
    }

    /// Closes the current second and summarises the window it ends.
    pub fn roll(&self) -> Option<Latency> {
        let mut inner = self.lock();
        let finished = std::mem::replace(&mut inner.current, histogram());
        inner.closed.push_back(finished);
        while inner.closed.len() > WINDOW_SECS {
            inner.closed.pop_front();
        }
        let mut window = histogram();
        for second in &inner.closed {
            // Same bounds on both sides, so adding cannot fail.
            if window.add(second).is_err() {
                tracing::error!("latency histograms with different bounds");
            }
        }
        summarise(&window)
    }

    /// Values recorded since start and their sum in seconds.
    pub fn totals(&self) -> (u64, f64) {
        let inner = self.lock();
        (inner.count, inner.sum_micros as f64 / 1e6)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock means a panic mid-record; the histogram is still valid.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn summarise(histogram: &Histogram<u64>) -> Option<Latency> {
    if histogram.is_empty() {
        return None;
    }
    let ms = |micros: u64| micros as f64 / 1_000.0;
    Some(Latency {
        p50_ms: ms(histogram.value_at_quantile(0.50)),
        p95_ms: ms(histogram.value_at_quantile(0.95)),
        p99_ms: ms(histogram.value_at_quantile(0.99)),
        max_ms: ms(histogram.max()),
        samples: histogram.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn percentiles_come_from_the_recorded_ages() {
        let recorder = LatencyRecorder::default();
        assert_eq!(recorder.roll(), None, "nothing recorded, nothing to report");
        // Ages 1..=100 ms.
        recorder.record_ages(1_000 * MS, (1..=100).map(|age| (1_000 - age) * MS));
        let latency = recorder.roll().expect("values");
        assert_eq!(latency.samples, 100);
        assert!((latency.p50_ms - 50.0).abs() < 0.1, "{latency:?}");
        assert!((latency.p99_ms - 99.0).abs() < 0.1, "{latency:?}");
        assert!((latency.max_ms - 100.0).abs() < 0.1, "{latency:?}");
        let (count, sum) = recorder.totals();
        assert_eq!(count, 100);
        assert!((sum - 5.05).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn old_seconds_leave_the_window() {
        let recorder = LatencyRecorder::default();
        recorder.record_ages(500 * MS, [0]);
        assert_eq!(recorder.roll().map(|l| l.samples), Some(1));
        for _ in 1..WINDOW_SECS {
            assert_eq!(recorder.roll().map(|l| l.samples), Some(1), "still inside the window");
        }
        assert_eq!(recorder.roll(), None, "the only value has left the window");
        assert_eq!(recorder.totals().0, 1, "totals keep everything");
    }

    #[test]
    fn a_clock_step_backwards_records_the_minimum_not_a_panic() {
        let recorder = LatencyRecorder::default();
        recorder.record_ages(0, [5 * MS]);
        assert_eq!(recorder.roll().map(|l| l.samples), Some(1));
    }
}
