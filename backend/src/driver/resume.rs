//! Where each symbol resumes: after the newest tick ever made for it, so
//! that no seq is made twice (a repeated seq would be dropped as a
//! duplicate downstream, and the tick lost).

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use marquee_shared::{Invalid, SymbolSummary, validate};

use super::{RandomWalk, Seed};
use crate::store::LastTick;

/// Ticks made before this driver started that the store may not hold yet.
pub trait RecentTicks: Send + Sync + Debug {
    /// The newest tick of each symbol it knows of.
    fn last_ticks(&self) -> Pin<Box<dyn Future<Output = Result<Vec<LastTick>, String>> + Send + '_>>;
}

/// The newest (highest seq) of each symbol's ticks.
pub fn newest_per_symbol(ticks: impl IntoIterator<Item = LastTick>) -> HashMap<String, LastTick> {
    let mut newest: HashMap<String, LastTick> = HashMap::new();
    for tick in ticks {
        match newest.get(&tick.symbol) {
            Some(held) if held.seq >= tick.seq => {}
            _ => {
                newest.insert(tick.symbol.clone(), tick);
            }
        }
    }
    newest
}

/// Where a symbol's walk starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// Fresh, or after its newest tick.
    Seed(Seed),
    /// After its newest tick's seq, but from the reference: that tick's
    /// price is impossible (stored before prices were checked).
    Repaired(Seed, Invalid),
    /// Not at all: its newest tick's seq cannot be followed by another, and
    /// a seq made again would be dropped as a duplicate.
    Skipped(Invalid),
}

/// Where `symbol` starts, from its reference close (already checked) and
/// the newest tick made for it, if any.
pub fn start(symbol: &str, reference: f64, last: Option<&LastTick>) -> Start {
    let Some(last) = last else { return Start::Seed(Seed::at(symbol, reference)) };
    // The next seq must be valid too.
    if let Err(invalid) = validate::seq(last.seq.saturating_add(1)) {
        return Start::Skipped(invalid);
    }
    let seed = |price| Seed { symbol: symbol.to_owned(), reference, price, seq: last.seq };
    match validate::price("price", last.price) {
        Ok(price) => Start::Seed(seed(price)),
        Err(invalid) => Start::Repaired(seed(reference), invalid),
    }
}

/// Where each symbol's walk starts, after the newest of the `known` ticks
/// made for it; a symbol whose newest tick cannot be followed is left out,
/// and an impossible price is replaced by the latest close (each logged).
pub fn seeds(symbols: &[SymbolSummary], known: Vec<LastTick>) -> Vec<Seed> {
    let last_ticks = newest_per_symbol(known);
    let mut seeds = Vec::with_capacity(symbols.len());
    for s in symbols {
        match start(&s.symbol, s.last, last_ticks.get(&s.symbol)) {
            Start::Seed(seed) => seeds.push(seed),
            Start::Repaired(seed, invalid) => {
                tracing::warn!(
                    symbol = %s.symbol,
                    seq = seed.seq,
                    %invalid,
                    "the newest tick made is impossible; resuming after it from the latest close"
                );
                seeds.push(seed);
            }
            Start::Skipped(invalid) => tracing::warn!(
                symbol = %s.symbol,
                %invalid,
                "the newest tick made has a seq no tick can follow; not simulated"
            ),
        }
    }
    seeds
}

/// Where a walk stands: each symbol's last seq and price.
pub fn positions(walk: &RandomWalk) -> Vec<LastTick> {
    walk.positions().map(|(symbol, seq, price)| LastTick { symbol: symbol.to_owned(), seq, price }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(symbol: &str, seq: u64, price: f64) -> LastTick {
        LastTick { symbol: symbol.into(), seq, price }
    }

    #[test]
    fn the_highest_seq_wins_whatever_the_order() {
        let newest =
            newest_per_symbol([tick("A", 5, 1.0), tick("B", 2, 2.0), tick("A", 9, 3.0), tick("A", 7, 4.0)]);
        assert_eq!((newest["A"].seq, newest["A"].price), (9, 3.0));
        assert_eq!(newest["B"].seq, 2);
    }

    #[test]
    fn an_impossible_last_tick_is_repaired_or_skipped() {
        let resumed = Seed { symbol: "A".into(), reference: 10.0, price: 11.0, seq: 5 };
        assert_eq!(start("A", 10.0, Some(&tick("A", 5, 11.0))), Start::Seed(resumed));
        assert_eq!(start("A", 10.0, None), Start::Seed(Seed::at("A", 10.0)));
        let repaired = start("A", 10.0, Some(&tick("A", 5, 1e308)));
        assert!(
            matches!(&repaired, Start::Repaired(seed, _) if seed.price == 10.0 && seed.seq == 5),
            "{repaired:?}"
        );
        assert!(matches!(start("A", 10.0, Some(&tick("A", u64::MAX, 1.0))), Start::Skipped(_)));
        assert!(matches!(start("A", 10.0, Some(&tick("A", validate::MAX_SEQ, 1.0))), Start::Skipped(_)));
    }

    #[test]
    fn every_symbol_resumes_after_its_newest_known_tick_or_is_left_out() {
        let summary = |symbol: &str, last: f64| SymbolSummary {
            symbol: symbol.into(),
            name: None,
            source: marquee_shared::DataSource::Synthetic,
            records: 1,
            latest_ts: 0,
            last,
            change: 0.0,
            change_pct: 0.0,
            feed: None,
        };
        let symbols = [summary("A", 10.0), summary("B", 20.0), summary("C", 30.0)];
        let known = vec![tick("A", 3, 11.0), tick("A", 8, 12.0), tick("C", u64::MAX, 1.0)];
        let seeds = seeds(&symbols, known);
        let starts: Vec<_> = seeds.iter().map(|s| (s.symbol.as_str(), s.seq, s.price)).collect();
        assert_eq!(starts, [("A", 8, 12.0), ("B", 0, 20.0)], "C's seq cannot be followed");
    }
}
