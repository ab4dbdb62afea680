//! OHLCV bars with VWAP and trade count, built from ticks in event time.
//!
//! A bar covers `[start, start + interval)` where `start` is a multiple of the
//! interval since the epoch. It closes when the first tick of a later
//! interval arrives. A tick older than the forming bar (late) is not counted
//! in any bar; the builder counts how many it refused.

use marquee_shared::{BarInterval, OhlcvBar, Tick};

/// Builds one symbol's bars of one interval.
#[derive(Debug, Clone)]
pub struct BarBuilder {
    interval: BarInterval,
    forming: Option<Forming>,
    late: u64,
}

#[derive(Debug, Clone)]
struct Forming {
    bar: OhlcvBar,
    /// Σ price·size, for the VWAP.
    notional: f64,
}

impl Forming {
    fn open(tick: &Tick, interval: BarInterval, start: i64) -> Self {
        let bar = OhlcvBar::opened(tick.symbol.clone(), interval, start, tick.price, tick.size);
        Self { bar, notional: tick.price * tick.size }
    }

    fn add(&mut self, tick: &Tick) {
        let bar = &mut self.bar;
        bar.high = bar.high.max(tick.price);
        bar.low = bar.low.min(tick.price);
        bar.close = tick.price;
        // Ticks are validated (price ≤ 1e9, size ≤ 1e12), so these sums stay
        // far from overflow for any real bar; the count saturates all the
        // same, so that no input can wrap it or panic, and the volume stops
        // at the largest finite number (JSON has no infinity).
        bar.volume = (bar.volume + tick.size).min(f64::MAX);
        bar.trades = bar.trades.saturating_add(1);
        self.notional += tick.price * tick.size;
        // A bar of zero-size prints has no volume to weight by: keep the last VWAP.
        if bar.volume > 0.0 && self.notional.is_finite() {
            // Rounding can put Σpv/Σv a hair outside [low, high]; it cannot be there.
            bar.vwap = (self.notional / bar.volume).clamp(bar.low, bar.high);
        }
    }
}

impl BarBuilder {
    pub fn new(interval: BarInterval) -> Self {
        Self { interval, forming: None, late: 0 }
    }

    /// Adds a tick; returns the bar it closed, if it opened a new one.
    pub fn on_tick(&mut self, tick: &Tick) -> Option<OhlcvBar> {
        // A tick from another process may carry any time: one whose interval
        // starts before the earliest time an i64 holds has no bar.
        let Some(start) = tick.ts.div_euclid(self.interval.nanos()).checked_mul(self.interval.nanos()) else {
            self.late += 1;
            return None;
        };
        match &mut self.forming {
            Some(forming) if start == forming.bar.start => {
                forming.add(tick);
                None
            }
            Some(forming) if start < forming.bar.start => {
                self.late += 1;
                None
            }
            _ => self.forming.replace(Forming::open(tick, self.interval, start)).map(|f| f.bar),
        }
    }

    /// The bar still forming, as it stands.
    pub fn forming(&self) -> Option<&OhlcvBar> {
        self.forming.as_ref().map(|f| &f.bar)
    }

    /// Ticks refused because their interval had already closed (or starts
    /// before the earliest representable time).
    pub fn late(&self) -> u64 {
        self.late
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const MINUTE: i64 = 60_000_000_000;

    fn tick(ts: i64, price: f64, size: f64) -> Tick {
        Tick { symbol: "X".into(), seq: 0, ts, price, size, change: 0.0, change_pct: 0.0 }
    }

    #[test]
    fn a_bar_closes_at_its_boundary_with_ohlcv_vwap_and_trades() {
        let mut builder = BarBuilder::new(BarInterval::OneMinute);
        assert_eq!(builder.on_tick(&tick(10 * MINUTE + 1, 10.0, 100.0)), None);
        assert_eq!(builder.on_tick(&tick(10 * MINUTE + 2, 12.0, 300.0)), None);
        assert_eq!(builder.on_tick(&tick(11 * MINUTE - 1, 9.0, 100.0)), None);
        let closed = builder.on_tick(&tick(11 * MINUTE, 11.0, 5.0)).expect("the minute closed");
        assert_eq!(
            (closed.start, closed.open, closed.high, closed.low, closed.close),
            (10 * MINUTE, 10.0, 12.0, 9.0, 9.0)
        );
        assert_eq!((closed.volume, closed.trades), (500.0, 3));
        assert!((closed.vwap - (10.0 * 100.0 + 12.0 * 300.0 + 9.0 * 100.0) / 500.0).abs() < 1e-12);
        assert_eq!(builder.forming().map(|b| (b.start, b.trades)), Some((11 * MINUTE, 1)));
    }

    #[test]
    fn late_ticks_are_refused_and_counted() {
        let mut builder = BarBuilder::new(BarInterval::FiveMinutes);
        builder.on_tick(&tick(10 * MINUTE, 1.0, 1.0));
        assert_eq!(builder.on_tick(&tick(4 * MINUTE, 2.0, 1.0)), None);
        assert_eq!(builder.late(), 1);
        assert_eq!(builder.forming().map(|b| b.trades), Some(1));
    }

    #[test]
    fn a_gap_skips_empty_intervals() {
        let mut builder = BarBuilder::new(BarInterval::OneMinute);
        builder.on_tick(&tick(MINUTE, 1.0, 1.0));
        let closed = builder.on_tick(&tick(30 * MINUTE, 2.0, 1.0)).expect("closed");
        assert_eq!(closed.start, MINUTE);
        assert_eq!(builder.forming().map(|b| b.start), Some(30 * MINUTE));
    }

    /// Found by fuzzing (`fuzz::kafka::ticks`): a tick at `ts: i64::MIN`
    /// overflowed its bar's start, and two huge sizes the bar's volume.
    #[test]
    fn ticks_at_the_ends_of_time_and_size_are_taken_without_overflow() {
        let mut builder = BarBuilder::new(BarInterval::FifteenMinutes);
        assert_eq!(builder.on_tick(&tick(i64::MIN, 1.0, 1.0)), None);
        assert_eq!((builder.late(), builder.forming()), (1, None));
        builder.on_tick(&tick(i64::MAX, 1.0, f64::MAX));
        builder.on_tick(&tick(i64::MAX, 2.0, f64::MAX));
        let bar = builder.forming().cloned().expect("forming");
        assert_eq!((bar.volume, bar.trades), (f64::MAX, 2), "the largest finite volume, never infinity");
        assert!(bar.vwap.is_finite(), "the VWAP keeps its last finite value");
    }

    #[test]
    fn sums_at_the_limits_stay_finite_and_counts_saturate() {
        use marquee_shared::validate::{MAX_PRICE, MAX_VOLUME, MIN_PRICE};
        let mut builder = BarBuilder::new(BarInterval::OneMinute);
        // A hundred thousand prints at the ceiling price and volume in one bar.
        for i in 0..100_000 {
            builder.on_tick(&tick(MINUTE + i, MAX_PRICE, MAX_VOLUME as f64));
        }
        let bar = builder.forming().cloned().expect("forming");
        assert_eq!((bar.vwap, bar.volume, bar.trades), (MAX_PRICE, 100_000.0 * MAX_VOLUME as f64, 100_000));
        // The floor and the ceiling, alternately: the VWAP is their mean.
        let mut builder = BarBuilder::new(BarInterval::OneMinute);
        for i in 0..1_000 {
            builder.on_tick(&tick(
                MINUTE + i,
                if i % 2 == 0 { MIN_PRICE } else { MAX_PRICE },
                MAX_VOLUME as f64,
            ));
        }
        let vwap = builder.forming().map(|b| b.vwap).expect("forming");
        assert!((vwap / (MAX_PRICE / 2.0) - 1.0).abs() < 1e-12, "{vwap}");
        // Fractional sizes (coins) add up as they are.
        let mut builder = BarBuilder::new(BarInterval::OneMinute);
        builder.on_tick(&tick(MINUTE, 100.0, 0.25));
        builder.on_tick(&tick(MINUTE + 1, 200.0, 0.75));
        let bar = builder.forming().cloned().expect("forming");
        assert_eq!((bar.volume, bar.vwap), (1.0, 175.0));
    }

    /// Random tick streams: non-decreasing event time, positive prices.
    fn streams() -> impl Strategy<Value = Vec<Tick>> {
        prop::collection::vec((0i64..40 * 1_000_000_000, 1.0f64..1_000.0, 0u64..5_000), 1..400).prop_map(
            |steps| {
                let mut ts = 1_700_000_000_000_000_000;
                steps
                    .into_iter()
                    .enumerate()
                    .map(|(i, (dt, price, size))| {
                        ts += dt;
                        Tick {
                            symbol: "P".into(),
                            seq: i as u64 + 1,
                            ts,
                            price,
                            size: size as f64 / 8.0,
                            change: 0.0,
                            change_pct: 0.0,
                        }
                    })
                    .collect()
            },
        )
    }

    fn build(interval: BarInterval, ticks: &[Tick]) -> Vec<OhlcvBar> {
        let mut builder = BarBuilder::new(interval);
        let mut bars: Vec<OhlcvBar> = ticks.iter().filter_map(|t| builder.on_tick(t)).collect();
        bars.extend(builder.forming().cloned());
        bars
    }

    proptest! {
        #[test]
        fn bars_are_consistent_with_their_ticks(ticks in streams(), which in 0usize..3) {
            let interval = BarInterval::ALL[which];
            let bars = build(interval, &ticks);
            for bar in &bars {
                let inside: Vec<&Tick> =
                    ticks.iter().filter(|t| t.ts >= bar.start && t.ts < bar.start + interval.nanos()).collect();
                prop_assert!(bar.high >= bar.open.max(bar.close));
                prop_assert!(bar.low <= bar.open.min(bar.close));
                // Eighths add exactly in binary.
                prop_assert_eq!(bar.volume, inside.iter().map(|t| t.size).sum::<f64>());
                prop_assert_eq!(bar.trades, inside.len() as u64);
                prop_assert!(bar.vwap >= bar.low && bar.vwap <= bar.high, "vwap {} outside [{}, {}]", bar.vwap, bar.low, bar.high);
                // And it is the volume-weighted mean of its ticks' prices.
                let volume: f64 = inside.iter().map(|t| t.size).sum();
                if volume > 0.0 {
                    let expected = inside.iter().map(|t| t.price * t.size).sum::<f64>() / volume;
                    prop_assert!((bar.vwap - expected).abs() <= 1e-9 * expected, "vwap {} vs {expected}", bar.vwap);
                }
                prop_assert_eq!(bar.start % interval.nanos(), 0);
            }
            // Every tick is in exactly one bar: the trade counts add up and no two bars share a start.
            prop_assert_eq!(bars.iter().map(|b| b.trades).sum::<u64>(), ticks.len() as u64);
            prop_assert!(bars.windows(2).all(|w| w[0].start < w[1].start));
        }

        #[test]
        fn batches_and_single_ticks_give_the_same_bars(ticks in streams(), cut in 0usize..400) {
            // Feeding a stream in two batches is the same as one by one: the
            // builder has no notion of batches, and this guards that it never gets one.
            let cut = cut.min(ticks.len());
            let whole = build(BarInterval::OneMinute, &ticks);
            let mut builder = BarBuilder::new(BarInterval::OneMinute);
            let mut split: Vec<OhlcvBar> = Vec::new();
            for batch in [&ticks[..cut], &ticks[cut..]] {
                split.extend(batch.iter().filter_map(|t| builder.on_tick(t)));
            }
            split.extend(builder.forming().cloned());
            prop_assert_eq!(whole, split);
        }
    }
}
