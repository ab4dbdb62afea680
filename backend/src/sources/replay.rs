//! A replay's bookkeeping, pure: when each stored tick is played again (the
//! session's spacing divided by the speed, from the moment the replay
//! starts) and the seq it gets (after the newest made of its symbol, so no
//! seq is made twice).

use std::collections::HashMap;

use marquee_shared::Tick;

/// Plays a session again from `start` (ns) at `speed` times its pace.
#[derive(Debug)]
pub struct Replayer {
    start: i64,
    speed: f64,
    /// The first replayed tick's original event time.
    first: Option<i64>,
    symbols: HashMap<String, Position>,
}

/// Where a symbol stands: the next seq to give, and the last tick replayed
/// (seq and price), if any.
#[derive(Debug, Clone, Copy)]
struct Position {
    next_seq: u64,
    played: Option<(u64, f64)>,
}

impl Replayer {
    /// `newest`: the newest seq of each symbol made so far.
    pub fn new(start: i64, speed: f64, newest: impl IntoIterator<Item = (String, u64)>) -> Self {
        let symbols = newest
            .into_iter()
            .map(|(symbol, seq)| (symbol, Position { next_seq: seq + 1, played: None }))
            .collect();
        Self { start, speed, first: None, symbols }
    }

    /// The stored `tick` as played again: its new event time and seq, its
    /// price, size and change as recorded.
    pub fn replay(&mut self, tick: Tick) -> Tick {
        let first = *self.first.get_or_insert(tick.ts);
        let offset = (tick.ts.saturating_sub(first) as f64 / self.speed) as i64;
        // Looked up before the symbol is cloned: once per symbol, not per tick.
        let position = match self.symbols.get_mut(&tick.symbol) {
            Some(position) => position,
            None => self.symbols.entry(tick.symbol.clone()).or_insert(Position { next_seq: 1, played: None }),
        };
        let seq = position.next_seq;
        position.next_seq += 1;
        position.played = Some((seq, tick.price));
        Tick { ts: self.start.saturating_add(offset), seq, ..tick }
    }

    /// Where each replayed symbol stands: its last seq and price, for
    /// whatever makes its ticks next.
    pub fn positions(&self) -> impl Iterator<Item = (&str, u64, f64)> {
        self.symbols.iter().filter_map(|(symbol, position)| {
            position.played.map(|(seq, price)| (symbol.as_str(), seq, price))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(symbol: &str, seq: u64, ts: i64, price: f64) -> Tick {
        Tick { symbol: symbol.into(), seq, ts, price, size: 1.5, change: 0.5, change_pct: 0.1 }
    }

    #[test]
    fn the_spacing_is_divided_by_the_speed_and_seqs_continue_after_the_newest() {
        let mut replayer = Replayer::new(1_000_000, 10.0, [("A".to_owned(), 40)]);
        let played: Vec<Tick> =
            [tick("A", 3, 5_000_000, 1.0), tick("B", 7, 5_500_000, 2.0), tick("A", 4, 7_000_000, 3.0)]
                .into_iter()
                .map(|t| replayer.replay(t))
                .collect();
        let shape: Vec<(&str, u64, i64, f64)> =
            played.iter().map(|t| (t.symbol.as_str(), t.seq, t.ts, t.price)).collect();
        assert_eq!(shape, [("A", 41, 1_000_000, 1.0), ("B", 1, 1_050_000, 2.0), ("A", 42, 1_200_000, 3.0)]);
        assert_eq!((played[0].size, played[0].change), (1.5, 0.5), "recorded values kept");
        let mut positions: Vec<(&str, u64, f64)> = replayer.positions().collect();
        positions.sort_by(|a, b| a.0.cmp(b.0));
        assert_eq!(positions, [("A", 42, 3.0), ("B", 1, 2.0)], "the last seq and price made of each");
    }
}
