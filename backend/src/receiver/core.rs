//! The receiver's bookkeeping without a runtime: which ticks are repeats,
//! the analytics each new tick feeds, the buffer that holds it until a
//! flush, and which symbols still tick (for the forming bars sent each
//! second). The async loop in `mod.rs` only moves ticks in and out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use marquee_shared::{AnalyzedBar, Tick};

use super::buffer::{BufferLimits, Pushed, TickBuffer};
use crate::analytics::{Analytics, Output};

/// What became of a tick handed to [`Core::take`] or [`Core::hold`].
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Analysed and held until the next flush.
    Held,
    /// Its seq was seen already for its symbol: dropped, not analysed.
    Duplicate,
    /// Analysed, but the buffer is full: flush, then [`Core::hold`] it.
    Full(Tick),
}

#[derive(Debug)]
pub struct Core {
    pub buffer: TickBuffer,
    analytics: Analytics,
    /// When each symbol last ticked.
    last_tick: HashMap<String, Instant>,
    /// A symbol quiet for this long has no forming bar to send (its ticks
    /// may now go to another receiver, after a Kafka rebalance).
    stale_after: Duration,
}

impl Core {
    pub fn new(limits: BufferLimits, stale_after: Duration) -> Self {
        Self {
            buffer: TickBuffer::new(limits),
            analytics: Analytics::default(),
            last_tick: HashMap::new(),
            stale_after,
        }
    }

    /// A tick read at `now`: a repeat is dropped; a new one is analysed (its
    /// closed bars and alerts added to `output`) and held.
    pub fn take(&mut self, tick: Tick, now: Instant, output: &mut Output) -> Step {
        if self.buffer.is_duplicate(&tick) {
            return Step::Duplicate;
        }
        self.analytics.on_tick(&tick, output);
        match self.last_tick.get_mut(&tick.symbol) {
            Some(at) => *at = now,
            None => {
                self.last_tick.insert(tick.symbol.clone(), now);
            }
        }
        self.hold(tick, now)
    }

    /// Holds a tick already analysed (handed back by a full buffer).
    pub fn hold(&mut self, tick: Tick, now: Instant) -> Step {
        match self.buffer.push(tick, now) {
            Pushed::Accepted => Step::Held,
            Pushed::Duplicate => Step::Duplicate,
            Pushed::Full(tick) => Step::Full(tick),
        }
    }

    /// The bars forming now of the symbols that ticked within `stale_after`.
    pub fn forming(&self, now: Instant) -> Vec<AnalyzedBar> {
        let mut bars = self.analytics.forming_bars();
        bars.retain(|bar| {
            self.last_tick
                .get(&bar.bar.symbol)
                .is_some_and(|at| now.saturating_duration_since(*at) < self.stale_after)
        });
        bars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: i64 = 1_000_000_000;

    fn tick(symbol: &str, seq: u64, secs: i64) -> Tick {
        Tick {
            symbol: symbol.into(),
            price: 100.0 + seq as f64,
            size: 10.0,
            ts: 1_700_000_000 * NS + secs * NS,
            seq,
            change: 0.0,
            change_pct: 0.0,
        }
    }

    fn core(capacity: usize) -> Core {
        let limits = BufferLimits { capacity, batch: capacity, max_age: Duration::from_secs(1) };
        Core::new(limits, Duration::from_secs(5))
    }

    #[test]
    fn repeats_are_dropped_before_the_analytics_see_them() {
        let mut core = core(10);
        let (now, mut output) = (Instant::now(), Output::default());
        assert_eq!(core.take(tick("A", 1, 0), now, &mut output), Step::Held);
        assert_eq!(core.take(tick("A", 1, 0), now, &mut output), Step::Duplicate);
        assert_eq!(core.take(tick("A", 2, 61), now, &mut output), Step::Held);
        assert_eq!(output.bars.len(), 1, "one minute bar closed, from two ticks, not three");
        assert_eq!(output.bars[0].bar.trades, 1);
        assert_eq!((core.buffer.len(), core.buffer.duplicates()), (2, 1));
    }

    #[test]
    fn a_full_buffer_hands_the_analysed_tick_back_to_hold_after_a_flush() {
        let mut core = core(1);
        let (now, mut output) = (Instant::now(), Output::default());
        assert_eq!(core.take(tick("A", 1, 0), now, &mut output), Step::Held);
        let Step::Full(refused) = core.take(tick("A", 2, 1), now, &mut output) else { panic!("not full") };
        assert_eq!(core.buffer.take().len(), 1, "the flush");
        assert_eq!(core.hold(refused, now), Step::Held);
        assert_eq!(core.take(tick("A", 2, 1), now, &mut output), Step::Duplicate, "held once, analysed once");
    }

    #[test]
    fn forming_bars_are_those_of_symbols_still_ticking() {
        let mut core = core(10);
        let (start, mut output) = (Instant::now(), Output::default());
        core.take(tick("A", 1, 0), start, &mut output);
        core.take(tick("B", 1, 0), start + Duration::from_secs(4), &mut output);
        let symbols = |bars: Vec<AnalyzedBar>| {
            let mut symbols: Vec<String> = bars.into_iter().map(|b| b.bar.symbol).collect();
            symbols.dedup();
            symbols
        };
        assert_eq!(symbols(core.forming(start + Duration::from_secs(1))), ["A", "B"]);
        assert_eq!(symbols(core.forming(start + Duration::from_secs(6))), ["B"], "A went quiet 6 s ago");
    }
}
