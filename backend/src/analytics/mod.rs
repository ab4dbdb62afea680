//! Analytics over the accepted tick stream, as pure synchronous types:
//! OHLCV bars with VWAP ([`bars`]), streaming indicators ([`indicators`]) and
//! anomaly alerts ([`anomaly`]), combined per symbol by [`Analytics`].

pub mod anomaly;
pub mod bars;
pub mod indicators;
mod rolling;
#[cfg(test)]
mod talib_reference;

use std::collections::HashMap;

use anomaly::{AnomalyDetector, AnomalySettings};
use bars::BarBuilder;
use indicators::{IndicatorSet, IndicatorValues};
use marquee_shared::{Alert, AnalyzedBar, BarInterval, Indicators, OhlcvBar, Tick};

/// What a batch of ticks produced.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Output {
    pub bars: Vec<AnalyzedBar>,
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Clone)]
struct Series {
    builder: BarBuilder,
    indicators: IndicatorSet,
    /// The indicators after the last closed bar.
    last: Indicators,
}

/// Bars of every interval and indicators for every symbol, plus alerts.
#[derive(Debug)]
pub struct Analytics {
    symbols: HashMap<String, Vec<Series>>,
    anomalies: AnomalyDetector,
}

impl Default for Analytics {
    fn default() -> Self {
        Self::new(AnomalySettings::default())
    }
}

impl Analytics {
    pub fn new(settings: AnomalySettings) -> Self {
        Self { symbols: HashMap::new(), anomalies: AnomalyDetector::new(settings) }
    }

    /// Feeds one tick (in event-time order per symbol); closed bars and
    /// alerts are appended to `out`.
    pub fn on_tick(&mut self, tick: &Tick, out: &mut Output) {
        out.alerts.extend(self.anomalies.on_tick(tick));
        // Look up before inserting: the hot path allocates no key.
        if !self.symbols.contains_key(&tick.symbol) {
            let series = BarInterval::ALL
                .into_iter()
                .map(|interval| Series {
                    builder: BarBuilder::new(interval),
                    indicators: IndicatorSet::default(),
                    last: Indicators::default(),
                })
                .collect();
            self.symbols.insert(tick.symbol.clone(), series);
        }
        let Some(series) = self.symbols.get_mut(&tick.symbol) else { return };
        for s in series.iter_mut() {
            let Some(bar) = s.builder.on_tick(tick) else { continue };
            let values = s.indicators.update(bar.close);
            if bar.interval == BarInterval::OneMinute {
                let closed_at = bar.start + bar.interval.nanos();
                out.alerts.extend(self.anomalies.on_bar(&bar.symbol, bar.volume, values.rsi14, closed_at));
            }
            s.last = to_wire(&values);
            out.bars.push(AnalyzedBar { bar, indicators: s.last });
        }
    }

    /// Every bar still forming, with the indicators of its series' last close.
    pub fn forming_bars(&self) -> Vec<AnalyzedBar> {
        let mut bars: Vec<AnalyzedBar> = self
            .symbols
            .values()
            .flatten()
            .filter_map(|s| {
                s.builder.forming().map(|bar| AnalyzedBar { bar: bar.clone(), indicators: s.last })
            })
            .collect();
        bars.sort_by(|a, b| (&a.bar.symbol, a.bar.interval).cmp(&(&b.bar.symbol, b.bar.interval)));
        bars
    }

    /// The bar still forming for `symbol` at `interval`.
    pub fn forming(&self, symbol: &str, interval: BarInterval) -> Option<&OhlcvBar> {
        self.symbols.get(symbol)?.iter().find_map(|s| s.builder.forming().filter(|b| b.interval == interval))
    }
}

/// The standard indicators after each of `closes`, oldest first, computed
/// the same way as for live bars.
pub fn indicators_over(closes: impl IntoIterator<Item = f64>) -> Vec<Indicators> {
    let mut set = IndicatorSet::default();
    closes.into_iter().map(|close| to_wire(&set.update(close))).collect()
}

fn to_wire(v: &IndicatorValues) -> Indicators {
    Indicators {
        sma20: v.sma20,
        sma50: v.sma50,
        ema12: v.ema12,
        ema26: v.ema26,
        rsi14: v.rsi14,
        macd: v.macd.map(|m| m.macd),
        macd_signal: v.macd.map(|m| m.signal),
        macd_hist: v.macd.map(|m| m.histogram),
        bb_upper: v.bollinger.map(|b| b.upper),
        bb_middle: v.bollinger.map(|b| b.middle),
        bb_lower: v.bollinger.map(|b| b.lower),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000_000_000;

    fn tick(symbol: &str, ts: i64, price: f64) -> Tick {
        Tick { symbol: symbol.into(), seq: 0, ts, price, size: 10.0, change: 0.0, change_pct: 0.0 }
    }

    #[test]
    fn closed_bars_of_every_interval_carry_indicators() {
        let mut analytics = Analytics::default();
        let mut out = Output::default();
        // One tick a minute for 31 minutes, rising: 1m bars close every minute,
        // 5m bars every five, 15m bars twice.
        for m in 0..=30 {
            analytics.on_tick(&tick("A", m * MINUTE, 100.0 + m as f64), &mut out);
        }
        let count = |i: BarInterval| out.bars.iter().filter(|b| b.bar.interval == i).count();
        assert_eq!(
            (
                count(BarInterval::OneMinute),
                count(BarInterval::FiveMinutes),
                count(BarInterval::FifteenMinutes)
            ),
            (30, 6, 2)
        );
        let minute_bars: Vec<&AnalyzedBar> =
            out.bars.iter().filter(|b| b.bar.interval == BarInterval::OneMinute).collect();
        assert_eq!(minute_bars[18].indicators.sma20, None);
        assert_eq!(minute_bars[19].indicators.sma20, Some(109.5), "mean of 100..=119");
        assert_eq!(analytics.forming("A", BarInterval::OneMinute).map(|b| b.start), Some(30 * MINUTE));
        let forming = analytics.forming_bars();
        assert_eq!(forming.len(), 3, "one per interval");
        assert_eq!(forming[0].indicators.sma20, minute_bars.last().and_then(|b| b.indicators.sma20));
        // RSI is 100 from its first value on: never *crossed* 70, so no alert.
        assert!(out.alerts.iter().all(|a| a.kind != marquee_shared::AlertKind::RsiOverbought));
    }

    #[test]
    fn symbols_are_independent() {
        let mut analytics = Analytics::default();
        let mut out = Output::default();
        analytics.on_tick(&tick("A", 0, 1.0), &mut out);
        analytics.on_tick(&tick("B", 5 * MINUTE, 2.0), &mut out);
        assert!(out.bars.is_empty(), "B's later tick does not close A's bar");
    }
}
