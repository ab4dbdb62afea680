//! Tick-to-render latency as the browser measures it: from a tick's event
//! time (server clock) to the animation frame that shows it (page clock,
//! corrected by the offset measured with ping/pong).

use std::collections::VecDeque;

/// Samples kept; percentiles describe the most recent ones.
const SAMPLES: usize = 2_000;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct RenderLatency {
    /// Server clock minus page clock, in ms; `None` before the first pong.
    offset_ms: Option<f64>,
    /// Round trip of the ping that gave the offset, in ms.
    pub round_trip_ms: Option<f64>,
    samples: VecDeque<f64>,
}

impl RenderLatency {
    /// Server clock minus page clock, in ms, once measured.
    pub fn offset_ms(&self) -> Option<f64> {
        self.offset_ms
    }

    /// A pong for a ping sent at `sent_ms` arrived at `received_ms` (page
    /// clock) carrying the server's time. Keeps the estimate from the
    /// fastest round trip, the least distorted by queueing. An offset within
    /// half the round trip cannot be told from zero (the reply may have
    /// waited on either side), so the clocks are then taken to agree.
    pub fn on_pong(&mut self, sent_ms: f64, received_ms: f64, server_time_ns: i64) {
        let round_trip = (received_ms - sent_ms).max(0.0);
        if self.round_trip_ms.is_some_and(|best| best < round_trip) {
            return;
        }
        let midpoint = (sent_ms + received_ms) / 2.0;
        let offset = server_time_ns as f64 / 1e6 - midpoint;
        self.offset_ms = Some(if offset.abs() <= round_trip / 2.0 { 0.0 } else { offset });
        self.round_trip_ms = Some(round_trip);
    }

    /// Records ticks with event times `ts_ns` shown at `rendered_ms` (page clock).
    pub fn on_render(&mut self, rendered_ms: f64, ts_ns: impl IntoIterator<Item = i64>) {
        for ts in ts_ns {
            let Some(age) = self.age_ms(rendered_ms, ts) else { return };
            if self.samples.len() == SAMPLES {
                self.samples.pop_front();
            }
            self.samples.push_back(age);
        }
    }

    /// How old a tick with event time `ts_ns` is at `now_ms` (page clock),
    /// in ms; `None` before the clocks were compared.
    pub fn age_ms(&self, now_ms: f64, ts_ns: i64) -> Option<f64> {
        self.offset_ms.map(|offset| (now_ms + offset - ts_ns as f64 / 1e6).max(0.0))
    }

    /// (p50, p99) in ms over the recent samples.
    pub fn percentiles(&self) -> Option<(f64, f64)> {
        if self.samples.is_empty() {
            return None;
        }
        let mut sorted: Vec<f64> = self.samples.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Some((at(0.50), at(0.99)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_measured_before_the_clocks_are_compared() {
        let mut latency = RenderLatency::default();
        latency.on_render(1_000.0, [0]);
        assert_eq!(latency.percentiles(), None);
    }

    #[test]
    fn latency_uses_the_server_clock_offset() {
        let mut latency = RenderLatency::default();
        // The server's clock is 500 ms ahead: at page time 1010 (midpoint of
        // 1000..1020) the server said 1510 ms.
        latency.on_pong(1_000.0, 1_020.0, 1_510_000_000);
        assert_eq!(latency.round_trip_ms, Some(20.0));
        // Ticks made at server times 1990..=2089 ms shown at page time 1600 (server 2100).
        latency.on_render(1_600.0, (1_990..2_090).map(|ms| ms * 1_000_000));
        let (p50, p99) = latency.percentiles().expect("samples");
        assert!((p50 - 60.0).abs() <= 1.0, "{p50}");
        assert!((p99 - 109.0).abs() <= 1.0, "{p99}");
        assert_eq!(latency.age_ms(1_600.0, 2_000_000_000), Some(100.0));
        assert_eq!(RenderLatency::default().age_ms(1_600.0, 0), None, "no clock comparison yet");
    }

    #[test]
    fn an_offset_inside_the_round_trip_is_no_offset() {
        let mut latency = RenderLatency::default();
        // 28 ms round trip, the reply seemingly 11.6 ms early: not measurable.
        latency.on_pong(1_000.0, 1_028.0, 1_002_400_000);
        assert_eq!(latency.offset_ms(), Some(0.0));
        latency.on_render(1_030.0, [1_024_000_000]);
        assert_eq!(latency.percentiles(), Some((6.0, 6.0)));
    }

    #[test]
    fn a_slower_round_trip_does_not_replace_a_better_estimate() {
        let mut latency = RenderLatency::default();
        latency.on_pong(0.0, 10.0, 5_000_000);
        latency.on_pong(100.0, 400.0, 999_000_000_000);
        assert_eq!(latency.round_trip_ms, Some(10.0));
    }
}
