//! Streaming technical indicators, O(1) per value, equal to TA-Lib's output
//! for the same input, warm-up included (TA-Lib returns nothing until an
//! indicator has seen enough values; so do these, with `None`).
//!
//! Why not a crate: the maintained Rust crates (`ta`, `yata`) seed their EMAs
//! with the first value rather than TA-Lib's SMA of the first period, and
//! their RSI and MACD warm-ups differ from TA-Lib's, so their values do not
//! match TA-Lib's. The TA-Lib reference vectors in
//! `tests/fixtures/talib/indicators.json` hold these to a relative 1e-9.

use super::rolling::RollingSums;

/// Simple moving average (TA-Lib `SMA`).
#[derive(Debug, Clone)]
pub struct Sma(RollingSums);

impl Sma {
    pub fn new(period: usize) -> Self {
        Self(RollingSums::new(period))
    }

    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.0.push(x);
        self.0.is_full().then(|| self.0.mean())
    }
}

/// Exponential moving average (TA-Lib `EMA`): seeded with the SMA of the
/// first `period` values, then `ema += k·(x − ema)` with `k = 2/(period+1)`.
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    k: f64,
    seed_sum: f64,
    seen: usize,
    value: Option<f64>,
}

impl Ema {
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self { period, k: 2.0 / (period as f64 + 1.0), seed_sum: 0.0, seen: 0, value: None }
    }

    pub fn update(&mut self, x: f64) -> Option<f64> {
        match self.value {
            Some(prev) => {
                // TA-Lib's form: ((x - prev) * k) + prev.
                self.value = Some((x - prev) * self.k + prev);
            }
            None => {
                self.seen += 1;
                self.seed_sum += x;
                if self.seen == self.period {
                    self.value = Some(self.seed_sum / self.period as f64);
                }
            }
        }
        self.value
    }
}

/// Relative strength index with Wilder's smoothing (TA-Lib `RSI`): the first
/// averages are plain means of `period` gains and losses, then
/// `avg = (avg·(period−1) + new) / period`.
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    previous: Option<f64>,
    changes: usize,
    avg_gain: f64,
    avg_loss: f64,
}

impl Rsi {
    pub fn new(period: usize) -> Self {
        Self { period: period.max(1), previous: None, changes: 0, avg_gain: 0.0, avg_loss: 0.0 }
    }

    pub fn update(&mut self, x: f64) -> Option<f64> {
        let previous = self.previous.replace(x)?;
        let change = x - previous;
        let (gain, loss) = if change > 0.0 { (change, 0.0) } else { (0.0, -change) };
        let period = self.period as f64;
        self.changes += 1;
        if self.changes <= self.period {
            self.avg_gain += gain;
            self.avg_loss += loss;
            if self.changes < self.period {
                return None;
            }
            self.avg_gain /= period;
            self.avg_loss /= period;
        } else {
            self.avg_gain = (self.avg_gain * (period - 1.0) + gain) / period;
            self.avg_loss = (self.avg_loss * (period - 1.0) + loss) / period;
        }
        let total = self.avg_gain + self.avg_loss;
        // TA-Lib answers 0 when nothing moved at all.
        Some(if total >= 1e-14 { 100.0 * self.avg_gain / total } else { 0.0 })
    }
}

/// One MACD output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    pub macd: f64,
    pub signal: f64,
    pub histogram: f64,
}

/// MACD (TA-Lib `MACD`). As in TA-Lib, the fast EMA is seeded over the
/// `fast` values that end where the slow EMA's seed ends, so both start on
/// the same value; the signal is an EMA of the MACD line.
#[derive(Debug, Clone)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
    /// Values to skip before feeding the fast EMA: `slow − fast`.
    fast_delay: usize,
    seen: usize,
}

impl Macd {
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        let (fast, slow) = if fast > slow { (slow, fast) } else { (fast, slow) };
        Self {
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            signal: Ema::new(signal),
            fast_delay: slow - fast,
            seen: 0,
        }
    }

    pub fn update(&mut self, x: f64) -> Option<MacdValue> {
        self.seen += 1;
        let slow = self.slow.update(x);
        let fast = if self.seen > self.fast_delay { self.fast.update(x) } else { None };
        let macd = fast? - slow?;
        let signal = self.signal.update(macd)?;
        Some(MacdValue { macd, signal, histogram: macd - signal })
    }
}

/// One Bollinger Bands output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandsValue {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
}

/// Bollinger Bands (TA-Lib `BBANDS` with an SMA middle band): middle ± k·σ,
/// σ the population standard deviation of the window.
#[derive(Debug, Clone)]
pub struct Bollinger {
    window: RollingSums,
    width: f64,
}

impl Bollinger {
    pub fn new(period: usize, width: f64) -> Self {
        Self { window: RollingSums::new(period), width }
    }

    pub fn update(&mut self, x: f64) -> Option<BandsValue> {
        self.window.push(x);
        if !self.window.is_full() {
            return None;
        }
        let middle = self.window.mean();
        let variance = self.window.sum_sq() / self.window.len() as f64 - middle * middle;
        // Rounding can make a flat window's variance a hair below zero.
        let sd = if variance > 1e-14 { variance.sqrt() } else { 0.0 };
        Some(BandsValue { upper: middle + self.width * sd, middle, lower: middle - self.width * sd })
    }
}

/// Every indicator Marquee computes, for one symbol and bar interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IndicatorValues {
    pub sma20: Option<f64>,
    pub sma50: Option<f64>,
    pub ema12: Option<f64>,
    pub ema26: Option<f64>,
    pub rsi14: Option<f64>,
    pub macd: Option<MacdValue>,
    pub bollinger: Option<BandsValue>,
}

/// The standard set: SMA(20, 50), EMA(12, 26), RSI(14), MACD(12, 26, 9),
/// Bollinger(20, 2), updated with each closed bar's close.
#[derive(Debug, Clone)]
pub struct IndicatorSet {
    sma20: Sma,
    sma50: Sma,
    ema12: Ema,
    ema26: Ema,
    rsi14: Rsi,
    macd: Macd,
    bollinger: Bollinger,
}

impl Default for IndicatorSet {
    fn default() -> Self {
        Self {
            sma20: Sma::new(20),
            sma50: Sma::new(50),
            ema12: Ema::new(12),
            ema26: Ema::new(26),
            rsi14: Rsi::new(14),
            macd: Macd::new(12, 26, 9),
            bollinger: Bollinger::new(20, 2.0),
        }
    }
}

impl IndicatorSet {
    pub fn update(&mut self, close: f64) -> IndicatorValues {
        IndicatorValues {
            sma20: self.sma20.update(close),
            sma50: self.sma50.update(close),
            ema12: self.ema12.update(close),
            ema26: self.ema26.update(close),
            rsi14: self.rsi14.update(close),
            macd: self.macd.update(close),
            bollinger: self.bollinger.update(close),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::talib_reference::reference;

    /// Same warm-up (None where TA-Lib has NaN) and values within 1e-9 relative.
    fn assert_matches(name: &str, ours: &[Option<f64>], talib: &[Option<f64>]) {
        assert_eq!(ours.len(), talib.len(), "{name}: length");
        for (i, (a, b)) in ours.iter().zip(talib).enumerate() {
            match (a, b) {
                (None, None) => {}
                (Some(a), Some(b)) => {
                    let scale = a.abs().max(b.abs()).max(1e-12);
                    assert!((a - b).abs() / scale <= 1e-9, "{name}[{i}]: ours {a} vs TA-Lib {b}");
                }
                _ => panic!("{name}[{i}]: ours {a:?} vs TA-Lib {b:?} (warm-up differs)"),
            }
        }
    }

    fn run<T>(closes: &[f64], mut f: impl FnMut(f64) -> T) -> Vec<T> {
        closes.iter().map(|&c| f(c)).collect()
    }

    #[test]
    fn moving_averages_match_talib() {
        let r = reference();
        let mut sma20 = Sma::new(20);
        let mut sma50 = Sma::new(50);
        let mut ema12 = Ema::new(12);
        let mut ema26 = Ema::new(26);
        assert_matches("sma20", &run(&r.close, |c| sma20.update(c)), &r.sma20);
        assert_matches("sma50", &run(&r.close, |c| sma50.update(c)), &r.sma50);
        assert_matches("ema12", &run(&r.close, |c| ema12.update(c)), &r.ema12);
        assert_matches("ema26", &run(&r.close, |c| ema26.update(c)), &r.ema26);
    }

    #[test]
    fn rsi_matches_talib_including_the_flat_stretch() {
        let r = reference();
        let mut rsi = Rsi::new(14);
        assert_matches("rsi14", &run(&r.close, |c| rsi.update(c)), &r.rsi14);
    }

    #[test]
    fn macd_matches_talib() {
        let r = reference();
        let mut macd = Macd::new(12, 26, 9);
        let out = run(&r.close, |c| macd.update(c));
        assert_matches("macd", &out.iter().map(|v| v.map(|v| v.macd)).collect::<Vec<_>>(), &r.macd);
        assert_matches(
            "macd_signal",
            &out.iter().map(|v| v.map(|v| v.signal)).collect::<Vec<_>>(),
            &r.macd_signal,
        );
        assert_matches(
            "macd_hist",
            &out.iter().map(|v| v.map(|v| v.histogram)).collect::<Vec<_>>(),
            &r.macd_hist,
        );
    }

    #[test]
    fn bollinger_bands_match_talib() {
        let r = reference();
        let mut bands = Bollinger::new(20, 2.0);
        let out = run(&r.close, |c| bands.update(c));
        assert_matches("bb_upper", &out.iter().map(|v| v.map(|v| v.upper)).collect::<Vec<_>>(), &r.bb_upper);
        assert_matches(
            "bb_middle",
            &out.iter().map(|v| v.map(|v| v.middle)).collect::<Vec<_>>(),
            &r.bb_middle,
        );
        assert_matches("bb_lower", &out.iter().map(|v| v.map(|v| v.lower)).collect::<Vec<_>>(), &r.bb_lower);
    }

    #[test]
    fn streaming_equals_computing_over_the_whole_series() {
        // One value at a time into one set, versus a fresh set fed the whole
        // prefix for a few cut points: the latest values agree exactly.
        let r = reference();
        let mut streaming = IndicatorSet::default();
        let streamed: Vec<IndicatorValues> = r.close.iter().map(|&c| streaming.update(c)).collect();
        for cut in [1, 14, 15, 33, 34, 50, 137, 251, r.close.len()] {
            let mut batch = IndicatorSet::default();
            let last = r.close[..cut].iter().map(|&c| batch.update(c)).last().expect("non-empty");
            assert_eq!(last, streamed[cut - 1], "cut {cut}");
        }
    }

    #[test]
    fn the_set_reports_each_indicator_once_warmed_up() {
        let r = reference();
        let mut set = IndicatorSet::default();
        let out: Vec<IndicatorValues> = r.close.iter().map(|&c| set.update(c)).collect();
        assert!(out[18].sma20.is_none() && out[19].sma20.is_some());
        assert!(out[13].rsi14.is_none() && out[14].rsi14.is_some());
        assert!(out[32].macd.is_none() && out[33].macd.is_some());
        assert!(out[48].sma50.is_none() && out[49].sma50.is_some());
    }
}
