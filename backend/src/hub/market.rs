//! What the hub remembers of the stream, as plain data: the latest tick of
//! every symbol, a bounded history of recent ticks per symbol (to replay to
//! a client that resumes), sparkline points and the bars forming now.

use std::collections::{BTreeMap, VecDeque};

use marquee_shared::{AnalyzedBar, FormingBars, SPARK_POINTS, Tick, is_spark_point};

/// The replay for one client: the ticks still held, and how many were not.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Replay {
    pub ticks: Vec<Tick>,
    pub missing: u64,
}

/// One symbol's range to replay: the ticks after `after`, up to `upto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRange {
    pub symbol: String,
    pub after: u64,
    pub upto: u64,
}

#[derive(Debug)]
pub struct Market {
    history_len: usize,
    history: BTreeMap<String, VecDeque<Tick>>,
    sparks: BTreeMap<String, VecDeque<f64>>,
    forming: FormingBars,
}

impl Market {
    /// Keeps up to `history_len` (at least 1) recent ticks per symbol.
    pub fn new(history_len: usize) -> Self {
        Self {
            history_len: history_len.max(1),
            history: BTreeMap::new(),
            sparks: BTreeMap::new(),
            forming: FormingBars::default(),
        }
    }

    pub fn history_len(&self) -> usize {
        self.history_len
    }

    /// Records `tick` if it is newer (by seq) than what is held for its symbol.
    pub fn apply(&mut self, tick: &Tick) {
        let held = self.history.entry(tick.symbol.clone()).or_default();
        if held.back().is_some_and(|last| last.seq >= tick.seq) {
            return;
        }
        if held.len() == self.history_len {
            held.pop_front();
        }
        held.push_back(tick.clone());
        if is_spark_point(tick.seq) {
            let spark = self.sparks.entry(tick.symbol.clone()).or_default();
            if spark.len() == SPARK_POINTS {
                spark.pop_front();
            }
            spark.push_back(tick.price);
        }
    }

    /// Keeps the newest forming (or just closed) bar per symbol and interval;
    /// true if that changed what is held.
    pub fn apply_bar(&mut self, bar: &AnalyzedBar) -> bool {
        self.forming.apply(bar)
    }

    /// The latest tick of every symbol, in symbol order.
    pub fn quotes(&self) -> Vec<Tick> {
        self.history.values().filter_map(|held| held.back().cloned()).collect()
    }

    /// The latest seq of every symbol.
    pub fn last_seqs(&self) -> BTreeMap<String, u64> {
        self.history.iter().filter_map(|(symbol, held)| Some((symbol.clone(), held.back()?.seq))).collect()
    }

    pub fn sparklines(&self) -> BTreeMap<String, Vec<f64>> {
        self.sparks
            .iter()
            .map(|(symbol, points)| (symbol.clone(), points.iter().copied().collect()))
            .collect()
    }

    pub fn forming_bars(&self) -> Vec<AnalyzedBar> {
        self.forming.bars().cloned().collect()
    }

    /// The held ticks in each range, oldest first per symbol. A range whose
    /// start is no longer held counts as missing as a whole: a client
    /// resumes without gaps or starts afresh, never with a hole.
    pub fn replay(&self, ranges: &[ReplayRange]) -> Replay {
        let mut replay = Replay::default();
        for range in ranges.iter().filter(|r| r.upto > r.after) {
            let held = self.history.get(&range.symbol);
            let first_held = held.and_then(|h| h.front()).map(|t| t.seq);
            match (held, first_held) {
                (Some(held), Some(first)) if first <= range.after + 1 => replay
                    .ticks
                    .extend(held.iter().filter(|t| t.seq > range.after && t.seq <= range.upto).cloned()),
                _ => replay.missing += range.upto - range.after,
            }
        }
        replay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(symbol: &str, seq: u64) -> Tick {
        Tick {
            symbol: symbol.into(),
            seq,
            ts: seq as i64,
            price: seq as f64,
            size: 1.0,
            change: 0.0,
            change_pct: 0.0,
        }
    }

    fn range(symbol: &str, after: u64, upto: u64) -> ReplayRange {
        ReplayRange { symbol: symbol.into(), after, upto }
    }

    #[test]
    fn keeps_the_latest_tick_per_symbol_and_ignores_late_ones() {
        let mut market = Market::new(10);
        for t in [tick("B", 1), tick("A", 2), tick("B", 3), tick("B", 2)] {
            market.apply(&t);
        }
        let quotes: Vec<_> = market.quotes().iter().map(|t| (t.symbol.clone(), t.seq)).collect();
        assert_eq!(quotes, [("A".to_owned(), 2), ("B".to_owned(), 3)]);
        assert_eq!(market.last_seqs(), BTreeMap::from([("A".to_owned(), 2), ("B".to_owned(), 3)]));
    }

    #[test]
    fn replays_exactly_the_range_asked_for() {
        let mut market = Market::new(100);
        (1..=50).for_each(|seq| market.apply(&tick("A", seq)));
        let replay = market.replay(&[range("A", 40, 45), range("A", 50, 50)]);
        assert_eq!(replay.ticks.iter().map(|t| t.seq).collect::<Vec<_>>(), [41, 42, 43, 44, 45]);
        assert_eq!(replay.missing, 0);
    }

    #[test]
    fn a_range_older_than_the_history_is_missing_as_a_whole() {
        let mut market = Market::new(10);
        (1..=50).for_each(|seq| market.apply(&tick("A", seq)));
        // Held: 41..=50. After 40 is still complete; after 39 is not.
        assert_eq!(market.replay(&[range("A", 40, 50)]).ticks.len(), 10);
        let replay = market.replay(&[range("A", 39, 50), range("B", 0, 7)]);
        assert!(replay.ticks.is_empty());
        assert_eq!(replay.missing, 11 + 7);
    }

    #[test]
    fn sparklines_take_every_nth_tick_and_stay_bounded() {
        let mut market = Market::new(5);
        let last = SPARK_POINTS as u64 * marquee_shared::SPARK_EVERY * 2;
        (1..=last).for_each(|seq| market.apply(&tick("A", seq)));
        let spark = &market.sparklines()["A"];
        assert_eq!(spark.len(), SPARK_POINTS);
        assert_eq!(spark.last(), Some(&(last as f64)));
        assert!(spark.windows(2).all(|w| w[1] - w[0] == marquee_shared::SPARK_EVERY as f64));
    }
}
