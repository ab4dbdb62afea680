//! Which ticks of each symbol the page has received, by seq, so gaps in the
//! stream are counted rather than guessed. Out-of-order arrival is fine (a
//! resume replays older ticks after newer ones); holes are what count.

use std::collections::BTreeMap;

/// Holes kept per symbol before the oldest are forgotten.
const MAX_RANGES: usize = 64;

/// Received seqs per symbol as sorted, disjoint, inclusive ranges.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SeqLog {
    ranges: BTreeMap<String, Vec<(u64, u64)>>,
}

impl SeqLog {
    /// Records `seq`; false if it was already received (a duplicate).
    pub fn insert(&mut self, symbol: &str, seq: u64) -> bool {
        let ranges = match self.ranges.get_mut(symbol) {
            Some(ranges) => ranges,
            None => self.ranges.entry(symbol.to_owned()).or_default(),
        };
        // The first range that ends at or after seq - 1 (could absorb seq).
        let i = ranges.partition_point(|&(_, end)| end.saturating_add(1) < seq);
        if let Some(&(start, end)) = ranges.get(i) {
            if (start..=end).contains(&seq) {
                return false;
            }
            if end + 1 == seq {
                ranges[i].1 = seq;
                if ranges.get(i + 1).is_some_and(|next| next.0 == seq + 1) {
                    ranges[i].1 = ranges[i + 1].1;
                    ranges.remove(i + 1);
                }
                return true;
            }
            if start == seq + 1 {
                ranges[i].0 = seq;
                return true;
            }
        }
        ranges.insert(i, (seq, seq));
        if ranges.len() > MAX_RANGES {
            ranges.remove(0);
        }
        true
    }

    /// Seqs missing between the first and the last received, over all symbols.
    pub fn gaps(&self) -> u64 {
        self.ranges.values().flat_map(|r| r.windows(2).map(|w| w[1].0 - w[0].1 - 1)).sum()
    }

    /// Forgets everything: after a `lagged` notice the server says what was
    /// skipped, so older holes are explained and tracking starts afresh.
    pub fn restart(&mut self) {
        self.ranges.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_seqs_have_no_gaps_in_any_order() {
        let mut log = SeqLog::default();
        for seq in [5, 6, 7, 1, 3, 2, 4, 8] {
            assert!(log.insert("A", seq), "{seq}");
        }
        assert_eq!(log.gaps(), 0);
        assert_eq!(log.ranges["A"], [(1, 8)]);
        assert!(!log.insert("A", 3), "a duplicate");
    }

    #[test]
    fn holes_are_counted_until_they_are_filled() {
        let mut log = SeqLog::default();
        for seq in [1, 2, 6, 10] {
            log.insert("A", seq);
        }
        log.insert("B", 4);
        assert_eq!(log.gaps(), 3 + 3);
        for seq in [3, 4, 5] {
            log.insert("A", seq);
        }
        assert_eq!(log.gaps(), 3, "7, 8, 9 still missing");
        log.restart();
        log.insert("A", 20);
        assert_eq!(log.gaps(), 0);
    }
}
