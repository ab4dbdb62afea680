//! What the dashboard knows, as plain data updated by server messages.
//! No DOM and no signals here, so it is tested natively.

use std::collections::BTreeMap;

use marquee_shared::{ServerMessage, Tick};

/// Which way a symbol's last price moved against its previous tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
    Unchanged,
}

/// One symbol as the dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub tick: Tick,
    /// Move of the last price against the tick before it.
    pub last_move: Move,
    /// Ticks received for this symbol since the page loaded.
    pub ticks: u64,
}

/// The market as the server has described it so far.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MarketState {
    quotes: BTreeMap<String, Quote>,
    /// Ticks applied since the page loaded.
    pub ticks_received: u64,
    /// Ticks that never arrived, detected from `seq` gaps.
    pub ticks_missed: u64,
    /// Batches the server skipped because this page fell behind.
    pub batches_skipped: u64,
    /// The last error the server reported about our messages.
    pub last_error: Option<String>,
}

impl MarketState {
    /// Applies one server message.
    pub fn apply(&mut self, message: ServerMessage) {
        match message {
            ServerMessage::Snapshot { quotes, .. } => {
                for tick in quotes {
                    self.apply_snapshot_quote(tick);
                }
            }
            ServerMessage::Ticks { ticks } => {
                for tick in ticks {
                    self.apply_tick(tick);
                }
            }
            ServerMessage::Lagged { skipped } => self.batches_skipped += skipped,
            ServerMessage::Pong { .. } => {}
            ServerMessage::Error { code, message } => self.last_error = Some(format!("{code:?}: {message}")),
        }
    }

    pub fn quote(&self, symbol: &str) -> Option<&Quote> {
        self.quotes.get(symbol)
    }

    /// Symbols in display order.
    pub fn symbols(&self) -> Vec<String> {
        self.quotes.keys().cloned().collect()
    }

    /// A snapshot resets where each symbol stands; it does not count as ticks.
    fn apply_snapshot_quote(&mut self, tick: Tick) {
        match self.quotes.get_mut(&tick.symbol) {
            Some(quote) if quote.tick.seq >= tick.seq => {}
            Some(quote) => {
                quote.last_move = direction(quote.tick.price, tick.price);
                quote.tick = tick;
            }
            None => {
                let quote = Quote { tick, last_move: Move::Unchanged, ticks: 0 };
                self.quotes.insert(quote.tick.symbol.clone(), quote);
            }
        }
    }

    fn apply_tick(&mut self, tick: Tick) {
        match self.quotes.get_mut(&tick.symbol) {
            // A duplicate or a replay of something already shown.
            Some(quote) if tick.seq <= quote.tick.seq => return,
            Some(quote) => {
                self.ticks_missed += tick.seq - quote.tick.seq - 1;
                quote.last_move = direction(quote.tick.price, tick.price);
                quote.tick = tick;
                quote.ticks += 1;
            }
            None => {
                let quote = Quote { tick, last_move: Move::Unchanged, ticks: 1 };
                self.quotes.insert(quote.tick.symbol.clone(), quote);
            }
        }
        self.ticks_received += 1;
    }
}

fn direction(before: f64, after: f64) -> Move {
    if after > before {
        Move::Up
    } else if after < before {
        Move::Down
    } else {
        Move::Unchanged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(symbol: &str, seq: u64, price: f64) -> Tick {
        Tick {
            symbol: symbol.into(),
            seq,
            ts: 0,
            price,
            size: 100,
            change: price - 100.0,
            change_pct: price - 100.0,
        }
    }

    fn ticks(ticks: Vec<Tick>) -> ServerMessage {
        ServerMessage::Ticks { ticks }
    }

    #[test]
    fn a_snapshot_lists_symbols_in_order_without_counting_ticks() {
        let mut state = MarketState::default();
        state.apply(ServerMessage::Snapshot {
            server_time: 1,
            quotes: vec![tick("MSFT", 4, 1.0), tick("AAPL", 9, 2.0)],
        });
        assert_eq!(state.symbols(), ["AAPL", "MSFT"]);
        assert_eq!(state.ticks_received, 0);
        assert_eq!(state.quote("AAPL").map(|q| q.tick.seq), Some(9));
    }

    #[test]
    fn ticks_update_price_and_direction() {
        let mut state = MarketState::default();
        state.apply(ticks(vec![tick("AAPL", 1, 100.0)]));
        state.apply(ticks(vec![tick("AAPL", 2, 101.0)]));
        assert_eq!(state.quote("AAPL").map(|q| (q.tick.price, q.last_move)), Some((101.0, Move::Up)));
        state.apply(ticks(vec![tick("AAPL", 3, 99.5)]));
        assert_eq!(
            state.quote("AAPL").map(|q| (q.tick.price, q.last_move, q.ticks)),
            Some((99.5, Move::Down, 3))
        );
        assert_eq!(state.ticks_received, 3);
    }

    #[test]
    fn duplicates_are_ignored_and_gaps_counted() {
        let mut state = MarketState::default();
        state.apply(ticks(vec![tick("KO", 1, 60.0), tick("KO", 2, 61.0)]));
        state.apply(ticks(vec![tick("KO", 2, 99.0), tick("KO", 1, 98.0)]));
        assert_eq!(state.quote("KO").map(|q| q.tick.price), Some(61.0));
        state.apply(ticks(vec![tick("KO", 6, 62.0)]));
        assert_eq!(state.ticks_missed, 3);
        assert_eq!(state.ticks_received, 3);
    }

    #[test]
    fn a_snapshot_after_reconnect_moves_forward_but_never_back() {
        let mut state = MarketState::default();
        state.apply(ticks(vec![tick("A", 5, 10.0)]));
        state.apply(ServerMessage::Snapshot { server_time: 2, quotes: vec![tick("A", 3, 9.0)] });
        assert_eq!(state.quote("A").map(|q| q.tick.seq), Some(5));
        state.apply(ServerMessage::Snapshot { server_time: 3, quotes: vec![tick("A", 8, 11.0)] });
        assert_eq!(state.quote("A").map(|q| (q.tick.seq, q.last_move)), Some((8, Move::Up)));
        // Ticks after the snapshot continue from its seq without a false gap.
        state.apply(ticks(vec![tick("A", 9, 11.5)]));
        assert_eq!(state.ticks_missed, 0);
    }

    #[test]
    fn lagged_notices_and_errors_are_recorded() {
        let mut state = MarketState::default();
        state.apply(ServerMessage::Lagged { skipped: 4 });
        state.apply(ServerMessage::Lagged { skipped: 2 });
        assert_eq!(state.batches_skipped, 6);
        state.apply(ServerMessage::Error {
            code: marquee_shared::ErrorCode::BadMessage,
            message: "nope".into(),
        });
        assert_eq!(state.last_error.as_deref(), Some("BadMessage: nope"));
    }
}
