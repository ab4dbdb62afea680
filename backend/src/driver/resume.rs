//! Where each symbol resumes: after the newest tick ever made for it, so
//! that no seq is made twice (a repeated seq would be dropped as a
//! duplicate downstream, and the tick lost).

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use super::RandomWalk;
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
}
