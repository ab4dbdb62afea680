//! A live feed's bookkeeping, pure (no socket, no clock): which trades are
//! new (by the venue's trade id, per symbol: a trade sent again after a
//! reconnect is dropped), how many the venue's ids say were missed, the
//! `seq` Marquee gives each tick, and its change against the symbol's
//! reference. `driver::feed` runs the connection and hands it every trade.

use std::collections::{HashMap, HashSet, VecDeque};

use marquee_shared::{Tick, Validate};

use super::venues::{Ids, Trade};

/// Trade ids remembered per symbol where ids run in no order: a repeat of
/// an older trade than these is not recognised (venues repeat only the
/// last few, after a reconnect).
pub const RECENT_IDS: usize = 4_096;

/// Where a symbol resumes: after the newest seq made anywhere, with the
/// price its change is measured against (the stored close where there is
/// one; otherwise the first trade seen).
#[derive(Debug, Clone, PartialEq)]
pub struct Resume {
    pub symbol: String,
    pub last_seq: u64,
    pub reference: Option<f64>,
}

/// What became of one trade.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A new trade, as the tick to send.
    Tick(Tick),
    /// Seen already (its id is not above the last one's).
    Duplicate,
    /// A symbol this feed did not subscribe to.
    Foreign,
    /// Outside Marquee's limits (a price of 0, a size of 1e15): why.
    Invalid(String),
}

/// Counts since the feed started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedCounts {
    pub trades: u64,
    pub duplicates: u64,
    /// Trades the venue's ids say were never received.
    pub missed: u64,
    /// Times a jump in the venue's ids was seen.
    pub gaps: u64,
    pub foreign: u64,
    pub invalid: u64,
}

#[derive(Debug, Default)]
struct SymbolBook {
    last_trade_id: Option<u64>,
    /// The last [`RECENT_IDS`] ids, oldest first, where ids run in no order.
    recent: VecDeque<u64>,
    seen: HashSet<u64>,
    next_seq: u64,
    reference: Option<f64>,
}

impl SymbolBook {
    /// False when `id` is among the recent ones.
    fn remember(&mut self, id: u64) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        self.recent.push_back(id);
        if self.recent.len() > RECENT_IDS
            && let Some(oldest) = self.recent.pop_front()
        {
            self.seen.remove(&oldest);
        }
        true
    }
}

/// The bookkeeping of one feed's symbols.
#[derive(Debug)]
pub struct FeedBook {
    ids: Ids,
    symbols: HashMap<String, SymbolBook>,
    counts: FeedCounts,
}

impl FeedBook {
    pub fn new(resume: impl IntoIterator<Item = Resume>, ids: Ids) -> Self {
        let symbols = resume
            .into_iter()
            .map(|r| {
                let book =
                    SymbolBook { next_seq: r.last_seq + 1, reference: r.reference, ..SymbolBook::default() };
                (r.symbol, book)
            })
            .collect();
        Self { ids, symbols, counts: FeedCounts::default() }
    }

    /// The trades now come from another venue: its ids say nothing of the
    /// last venue's, so repeats and gaps are judged afresh.
    pub fn switch_venue(&mut self, ids: Ids) {
        self.ids = ids;
        for book in self.symbols.values_mut() {
            book.last_trade_id = None;
            book.recent.clear();
            book.seen.clear();
        }
    }

    /// The symbols, in order.
    pub fn symbols(&self) -> Vec<String> {
        let mut symbols: Vec<String> = self.symbols.keys().cloned().collect();
        symbols.sort();
        symbols
    }

    pub fn counts(&self) -> FeedCounts {
        self.counts
    }

    /// A trade from the venue. `symbol` is the name Marquee shows for the
    /// venue's symbol (the same, upper-cased).
    pub fn trade(&mut self, trade: Trade, symbol: &str) -> Outcome {
        let Some(book) = self.symbols.get_mut(symbol) else {
            self.counts.foreign += 1;
            return Outcome::Foreign;
        };
        match self.ids {
            Ids::Contiguous => {
                if let Some(last) = book.last_trade_id {
                    if trade.trade_id <= last {
                        self.counts.duplicates += 1;
                        return Outcome::Duplicate;
                    }
                    if trade.trade_id > last + 1 {
                        self.counts.gaps += 1;
                        self.counts.missed += trade.trade_id - last - 1;
                    }
                }
            }
            Ids::Unordered => {
                if !book.remember(trade.trade_id) {
                    self.counts.duplicates += 1;
                    return Outcome::Duplicate;
                }
            }
        }
        let reference = book.reference.unwrap_or(trade.price);
        let change = trade.price - reference;
        let tick = Tick {
            symbol: symbol.to_owned(),
            seq: book.next_seq,
            ts: trade.ts,
            price: trade.price,
            size: trade.size,
            change,
            change_pct: if reference > 0.0 { change / reference * 100.0 } else { 0.0 },
        };
        // The id moves on even for a trade Marquee refuses: it was received.
        book.last_trade_id = Some(trade.trade_id);
        if let Err(invalid) = tick.validate() {
            self.counts.invalid += 1;
            return Outcome::Invalid(invalid.to_string());
        }
        book.reference = Some(reference);
        book.next_seq += 1;
        self.counts.trades += 1;
        Outcome::Tick(tick)
    }

    /// The venue's word on the last trade it sent for `symbol`: trades after
    /// the last one received and up to it were missed (a trade the venue
    /// dropped, or one lost on a reconnect). Before any trade of the symbol
    /// there is nothing to compare with.
    pub fn heartbeat(&mut self, symbol: &str, last_trade_id: u64) {
        let Some(book) = self.symbols.get_mut(symbol).filter(|_| self.ids == Ids::Contiguous) else { return };
        match book.last_trade_id {
            Some(last) if last_trade_id > last => {
                self.counts.gaps += 1;
                self.counts.missed += last_trade_id - last;
                book.last_trade_id = Some(last_trade_id);
            }
            Some(_) => {}
            None => book.last_trade_id = Some(last_trade_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(id: u64, price: f64) -> Trade {
        Trade {
            symbol: "BTC-USD".into(),
            price,
            size: 0.5,
            ts: 1_700_000_000_000_000_000 + id as i64,
            trade_id: id,
        }
    }

    fn book() -> FeedBook {
        FeedBook::new(
            [Resume { symbol: "BTC-USD".into(), last_seq: 41, reference: Some(100.0) }],
            Ids::Contiguous,
        )
    }

    fn seq(outcome: Outcome) -> u64 {
        match outcome {
            Outcome::Tick(tick) => tick.seq,
            other => panic!("a tick, got {other:?}"),
        }
    }

    #[test]
    fn seqs_continue_after_the_newest_made_and_repeats_are_dropped() {
        let mut book = book();
        let Outcome::Tick(first) = book.trade(trade(7, 110.0), "BTC-USD") else { panic!("tick") };
        assert_eq!((first.seq, first.size, first.change, first.change_pct), (42, 0.5, 10.0, 10.0));
        assert_eq!(seq(book.trade(trade(8, 90.0), "BTC-USD")), 43);
        // Sent again after a reconnect.
        assert_eq!(book.trade(trade(8, 90.0), "BTC-USD"), Outcome::Duplicate);
        assert_eq!(book.trade(trade(3, 90.0), "BTC-USD"), Outcome::Duplicate);
        assert_eq!(seq(book.trade(trade(9, 91.0), "BTC-USD")), 44);
        assert_eq!(book.trade(trade(10, 91.0), "ETH-USD"), Outcome::Foreign);
        let counts = book.counts();
        assert_eq!((counts.trades, counts.duplicates, counts.foreign, counts.gaps), (3, 2, 1, 0));
    }

    #[test]
    fn a_skipped_id_is_a_gap_and_a_heartbeat_ahead_of_the_last_trade_is_one_too() {
        let mut book = book();
        seq(book.trade(trade(1, 100.0), "BTC-USD"));
        assert_eq!(seq(book.trade(trade(4, 100.0), "BTC-USD")), 43, "seq has no gap: Marquee made every one");
        assert_eq!((book.counts().gaps, book.counts().missed), (1, 2));
        book.heartbeat("BTC-USD", 4);
        assert_eq!(book.counts().gaps, 1, "caught up");
        book.heartbeat("BTC-USD", 6);
        assert_eq!((book.counts().gaps, book.counts().missed), (2, 4));
        assert_eq!(book.trade(trade(6, 100.0), "BTC-USD"), Outcome::Duplicate, "counted as missed already");
    }

    #[test]
    fn without_a_stored_close_the_first_trade_is_the_reference_and_bad_prices_are_refused() {
        let mut book =
            FeedBook::new([Resume { symbol: "X".into(), last_seq: 0, reference: None }], Ids::Contiguous);
        assert!(matches!(book.trade(trade(1, 0.0), "X"), Outcome::Invalid(_)), "a price of 0");
        let Outcome::Tick(tick) = book.trade(trade(2, 50.0), "X") else { panic!("tick") };
        assert_eq!((tick.seq, tick.change), (1, 0.0));
        let Outcome::Tick(tick) = book.trade(trade(3, 55.0), "X") else { panic!("tick") };
        assert_eq!((tick.seq, tick.change, tick.change_pct), (2, 5.0, 10.0));
        assert_eq!(book.counts().invalid, 1);
    }

    #[test]
    fn unordered_ids_drop_recent_repeats_and_tell_no_gaps() {
        let resume = [Resume { symbol: "BTC-USD".into(), last_seq: 0, reference: None }];
        let mut book = FeedBook::new(resume, Ids::Unordered);
        assert_eq!(seq(book.trade(trade(50, 1.0), "BTC-USD")), 1);
        assert_eq!(seq(book.trade(trade(7, 1.0), "BTC-USD")), 2, "a lower id from another exchange is new");
        assert_eq!(book.trade(trade(50, 1.0), "BTC-USD"), Outcome::Duplicate);
        book.heartbeat("BTC-USD", 1_000);
        assert_eq!((book.counts().gaps, book.counts().duplicates), (0, 1));
        for id in 1_000..1_000 + RECENT_IDS as u64 {
            book.trade(trade(id, 1.0), "BTC-USD");
        }
        assert!(
            matches!(book.trade(trade(50, 1.0), "BTC-USD"), Outcome::Tick(_)),
            "forgotten after RECENT_IDS"
        );
    }
}
