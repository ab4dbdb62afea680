//! Where each symbol resumes: after the newest tick ever made for it, so
//! that no seq is made twice (a repeated seq would be dropped as a
//! duplicate downstream, and the tick lost).

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use marquee_shared::{Invalid, validate};

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
}
