//! Rows stored before every door checked its values may hold impossible ones
//! (a close of 1e308 from an early CSV import, a seq of `u64::MAX` from a
//! hostile Kafka record). Whatever computes from stored rows (the driver's
//! seeds, indicators over stored history, the hub's resume history) screens
//! them here: an invalid row is skipped with a warning naming its symbol and
//! date, and never reaches a sum.

use marquee_shared::{AnalyzedBar, Bar, Tick, Validate};

/// The UTC date of `ts` (ns since the epoch) as people write it, or the
/// raw number when it is no date at all.
pub fn day(ts: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ts))
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| format!("{ts} ns since the epoch"))
}

/// `bars` without the invalid ones, each skipped one logged.
pub fn valid_bars(bars: Vec<Bar>) -> Vec<Bar> {
    bars.into_iter()
        .filter(|bar| match bar.validate() {
            Ok(()) => true,
            Err(invalid) => {
                tracing::warn!(
                    symbol = %bar.symbol,
                    date = %day(bar.ts),
                    %invalid,
                    "skipping an impossible stored bar (stored before values were checked; import it again)"
                );
                false
            }
        })
        .collect()
}

/// Live bars without the invalid ones (built from ticks before they were
/// checked), each skipped one logged.
pub fn valid_analyzed_bars(bars: Vec<AnalyzedBar>) -> Vec<AnalyzedBar> {
    bars.into_iter()
        .filter(|bar| match bar.validate() {
            Ok(()) => true,
            Err(invalid) => {
                tracing::warn!(
                    symbol = %bar.bar.symbol,
                    interval = bar.bar.interval.as_str(),
                    date = %day(bar.bar.start),
                    %invalid,
                    "skipping an impossible stored live bar (built before values were checked)"
                );
                false
            }
        })
        .collect()
}

/// `ticks` without the invalid ones, each skipped one logged.
pub fn valid_ticks(ticks: Vec<Tick>) -> Vec<Tick> {
    ticks
        .into_iter()
        .filter(|tick| match tick.validate() {
            Ok(()) => true,
            Err(invalid) => {
                tracing::warn!(
                    symbol = %tick.symbol,
                    seq = tick.seq,
                    date = %day(tick.ts),
                    %invalid,
                    "skipping an impossible stored tick"
                );
                false
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use marquee_shared::DataSource;

    use super::*;

    #[test]
    fn impossible_rows_are_left_out() {
        let bar = |close: f64| Bar {
            symbol: "ACME".into(),
            ts: 1_714_521_600_000_000_000,
            open: 10.0,
            high: close.max(11.0),
            low: 9.0,
            close,
            volume: 5,
            source: DataSource::Csv,
        };
        let kept = valid_bars(vec![bar(10.0), bar(1e308), bar(f64::NAN)]);
        assert_eq!(kept, [bar(10.0)]);
        assert_eq!(day(1_714_521_600_000_000_000), "2024-05-01");
        let tick = |seq: u64| Tick {
            symbol: "ACME".into(),
            seq,
            ts: 1,
            price: 1.0,
            size: 1.0,
            change: 0.0,
            change_pct: 0.0,
        };
        assert_eq!(valid_ticks(vec![tick(1), tick(u64::MAX)]), [tick(1)]);
    }
}
