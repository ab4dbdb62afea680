//! The bars forming now, one per symbol and interval: what the server's hub
//! holds for clients that connect, and what the dashboard draws as the
//! newest candle. One rule on both sides: a bar never gives way to an older
//! one.

use std::collections::BTreeMap;

use crate::{AnalyzedBar, BarInterval};

/// The newest forming (or just closed) bar per symbol and interval.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FormingBars(BTreeMap<(String, BarInterval), AnalyzedBar>);

impl FormingBars {
    /// Keeps `bar` unless an older one than held; true if what is held changed.
    pub fn apply(&mut self, bar: &AnalyzedBar) -> bool {
        let key = (bar.bar.symbol.clone(), bar.bar.interval);
        match self.0.get_mut(&key) {
            Some(held) if held.bar.start > bar.bar.start || held == bar => false,
            Some(held) => {
                held.clone_from(bar);
                true
            }
            None => {
                self.0.insert(key, bar.clone());
                true
            }
        }
    }

    /// A snapshot's bars replace those held: a bar it leaves out has closed
    /// (or its symbol left); one held that is newer than the snapshot's stays.
    pub fn replace(&mut self, bars: Vec<AnalyzedBar>) {
        let mut held = std::mem::take(&mut self.0);
        for bar in bars {
            let key = (bar.bar.symbol.clone(), bar.bar.interval);
            let bar = match held.remove(&key) {
                Some(newer) if newer.bar.start > bar.bar.start => newer,
                _ => bar,
            };
            self.0.insert(key, bar);
        }
    }

    /// The bar forming now for `symbol` at `interval`.
    pub fn get(&self, symbol: &str, interval: BarInterval) -> Option<&AnalyzedBar> {
        self.0.get(&(symbol.to_owned(), interval))
    }

    /// Every bar held, by symbol then interval.
    pub fn bars(&self) -> impl Iterator<Item = &AnalyzedBar> {
        self.0.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Indicators, OhlcvBar};

    fn bar(symbol: &str, start: i64, close: f64) -> AnalyzedBar {
        AnalyzedBar {
            bar: OhlcvBar::opened(symbol, BarInterval::OneMinute, start, close, 1.0),
            indicators: Indicators::default(),
        }
    }

    #[test]
    fn a_bar_never_gives_way_to_an_older_one() {
        let mut forming = FormingBars::default();
        assert!(forming.apply(&bar("A", 60, 10.0)));
        assert!(!forming.apply(&bar("A", 60, 10.0)), "the same bar changes nothing");
        assert!(forming.apply(&bar("A", 60, 11.0)), "the bar moved");
        assert!(!forming.apply(&bar("A", 0, 9.0)), "an older bar is ignored");
        assert!(forming.apply(&bar("A", 120, 12.0)), "the next bar takes over");
        assert_eq!(forming.get("A", BarInterval::OneMinute).map(|b| b.bar.close), Some(12.0));
        assert_eq!(forming.get("A", BarInterval::FiveMinutes), None);
    }

    #[test]
    fn a_snapshot_replaces_what_is_held_but_never_with_older_bars() {
        let mut forming = FormingBars::default();
        forming.apply(&bar("A", 120, 12.0));
        forming.apply(&bar("B", 60, 5.0));
        forming.replace(vec![bar("A", 60, 11.0), bar("C", 60, 7.0)]);
        let held: Vec<_> = forming.bars().map(|b| (b.bar.symbol.as_str(), b.bar.start)).collect();
        assert_eq!(held, [("A", 120), ("C", 60)], "B left; A's newer bar stays");
    }
}
