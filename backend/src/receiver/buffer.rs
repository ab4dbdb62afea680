//! The receiver's tick buffer, after Accumulo's BatchWriter: ticks are held
//! bounded in count and handed out in batches sorted by (symbol, event time,
//! seq) when enough have gathered or the oldest has waited long enough.
//! (They are sorted once per batch rather than on every insert: the same
//! batches, without a per-tick allocation.)
//! A full buffer refuses more, so the stage in front of it waits
//! (backpressure) instead of the buffer growing or dropping.
//! A seq already accepted for a symbol is a duplicate and is ignored.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use marquee_shared::Tick;

/// When to flush and how much to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferLimits {
    /// Ticks held at most; `push` refuses beyond this.
    pub capacity: usize,
    /// Flush once this many are held.
    pub batch: usize,
    /// Flush once the oldest held tick has waited this long.
    pub max_age: Duration,
}

/// What `push` did with a tick.
#[derive(Debug, Clone, PartialEq)]
pub enum Pushed {
    Accepted,
    /// Its seq was already accepted for its symbol.
    Duplicate,
    /// The buffer is full: flush, then push the tick (handed back) again.
    Full(Tick),
}

#[derive(Debug)]
pub struct TickBuffer {
    limits: BufferLimits,
    ticks: Vec<Tick>,
    /// The highest seq accepted per symbol.
    accepted: HashMap<String, u64>,
    oldest: Option<Instant>,
    duplicates: u64,
}

impl TickBuffer {
    pub fn new(limits: BufferLimits) -> Self {
        let limits = BufferLimits {
            capacity: limits.capacity.max(1),
            batch: limits.batch.clamp(1, limits.capacity.max(1)),
            ..limits
        };
        let ticks = Vec::with_capacity(limits.capacity);
        Self { limits, ticks, accepted: HashMap::new(), oldest: None, duplicates: 0 }
    }

    /// True if this symbol's seq was accepted already (counted as a duplicate).
    pub fn is_duplicate(&mut self, tick: &Tick) -> bool {
        let duplicate = self.accepted.get(&tick.symbol).is_some_and(|&seq| tick.seq <= seq);
        self.duplicates += u64::from(duplicate);
        duplicate
    }

    /// Adds a tick received at `now`.
    pub fn push(&mut self, tick: Tick, now: Instant) -> Pushed {
        if self.is_duplicate(&tick) {
            return Pushed::Duplicate;
        }
        if self.ticks.len() >= self.limits.capacity {
            return Pushed::Full(tick);
        }
        // Look up before inserting: the hot path allocates no key.
        match self.accepted.get_mut(&tick.symbol) {
            Some(seq) => *seq = tick.seq,
            None => {
                self.accepted.insert(tick.symbol.clone(), tick.seq);
            }
        }
        self.oldest.get_or_insert(now);
        self.ticks.push(tick);
        Pushed::Accepted
    }

    /// True when a batch is due at `now`: enough ticks, or the oldest too old.
    pub fn should_flush(&self, now: Instant) -> bool {
        self.ticks.len() >= self.limits.batch
            || self.oldest.is_some_and(|oldest| now.duration_since(oldest) >= self.limits.max_age)
    }

    /// When the oldest held tick comes of age, for the flush timer.
    pub fn due_at(&self) -> Option<Instant> {
        self.oldest.map(|oldest| oldest + self.limits.max_age)
    }

    /// Everything held, sorted by (symbol, event time, seq); empties the buffer.
    pub fn take(&mut self) -> Vec<Tick> {
        self.oldest = None;
        let mut batch = std::mem::replace(&mut self.ticks, Vec::with_capacity(self.limits.capacity));
        batch.sort_unstable_by(|a, b| (&a.symbol, a.ts, a.seq).cmp(&(&b.symbol, b.ts, b.seq)));
        batch
    }

    pub fn len(&self) -> usize {
        self.ticks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ticks.is_empty()
    }

    /// Held ticks as a share of capacity, in [0, 1].
    pub fn fill(&self) -> f64 {
        self.ticks.len() as f64 / self.limits.capacity as f64
    }

    /// Duplicates ignored since the start.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(symbol: &str, seq: u64, ts: i64) -> Tick {
        Tick { symbol: symbol.into(), seq, ts, price: 1.0, size: 1.0, change: 0.0, change_pct: 0.0 }
    }

    const LIMITS: BufferLimits = BufferLimits { capacity: 4, batch: 3, max_age: Duration::from_millis(50) };

    #[test]
    fn batches_come_out_sorted_by_symbol_time_and_seq() {
        let now = Instant::now();
        let mut buffer = TickBuffer::new(BufferLimits { capacity: 10, batch: 10, ..LIMITS });
        for t in [tick("MSFT", 2, 20), tick("AAPL", 7, 30), tick("MSFT", 3, 10), tick("AAPL", 8, 30)] {
            assert_eq!(buffer.push(t, now), Pushed::Accepted);
        }
        let order: Vec<_> = buffer.take().into_iter().map(|t| (t.symbol, t.ts, t.seq)).collect();
        assert_eq!(
            order,
            [("AAPL".into(), 30, 7), ("AAPL".into(), 30, 8), ("MSFT".into(), 10, 3), ("MSFT".into(), 20, 2)]
        );
        assert!(buffer.is_empty() && buffer.due_at().is_none());
    }

    #[test]
    fn flushes_by_size_or_by_age() {
        let start = Instant::now();
        let mut buffer = TickBuffer::new(LIMITS);
        buffer.push(tick("A", 1, 1), start);
        assert!(!buffer.should_flush(start));
        assert!(buffer.should_flush(start + Duration::from_millis(50)), "the oldest tick came of age");
        assert_eq!(buffer.due_at(), Some(start + Duration::from_millis(50)));
        buffer.push(tick("A", 2, 2), start);
        buffer.push(tick("A", 3, 3), start);
        assert!(buffer.should_flush(start), "a full batch");
    }

    #[test]
    fn a_full_buffer_refuses_instead_of_growing_or_dropping() {
        let now = Instant::now();
        let mut buffer = TickBuffer::new(LIMITS);
        for seq in 1..=4 {
            assert_eq!(buffer.push(tick("A", seq, seq as i64), now), Pushed::Accepted);
        }
        assert_eq!(buffer.push(tick("A", 5, 5), now), Pushed::Full(tick("A", 5, 5)));
        assert_eq!((buffer.len(), buffer.fill()), (4, 1.0));
        assert_eq!(buffer.take().len(), 4);
        assert_eq!(
            buffer.push(tick("A", 5, 5), now),
            Pushed::Accepted,
            "the refused tick is taken after a flush"
        );
    }

    #[test]
    fn duplicates_are_ignored_even_after_a_flush() {
        let now = Instant::now();
        let mut buffer = TickBuffer::new(LIMITS);
        buffer.push(tick("A", 1, 1), now);
        buffer.push(tick("A", 2, 2), now);
        assert_eq!(buffer.push(tick("A", 2, 2), now), Pushed::Duplicate);
        buffer.take();
        assert_eq!(buffer.push(tick("A", 1, 1), now), Pushed::Duplicate);
        assert_eq!(buffer.push(tick("B", 1, 1), now), Pushed::Accepted, "seq is per symbol");
        assert_eq!(buffer.duplicates(), 2);
    }
}
