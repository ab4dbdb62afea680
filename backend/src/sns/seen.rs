//! The message ids already delivered, kept for as long as a repeat of the
//! message could still pass the age check: a count-bounded memory would
//! forget an id after a burst of others and let a replay through.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What is known of a message id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    New,
    Repeated,
    /// New, but the memory holds its cap of ids still in their window: the
    /// message is refused rather than an id forgotten early (fail closed).
    Full,
}

/// Ids by the time they may be forgotten, oldest first.
#[derive(Debug)]
pub struct SeenIds {
    /// How long an id is kept after it is noted.
    window: Duration,
    cap: usize,
    expiries: VecDeque<(Instant, Arc<str>)>,
    ids: HashSet<Arc<str>>,
}

impl SeenIds {
    pub fn new(window: Duration, cap: usize) -> Self {
        Self { window, cap, expiries: VecDeque::new(), ids: HashSet::new() }
    }

    /// Whether `id` was noted, without noting it (an unverified message
    /// must not take a genuine one's place).
    pub fn check(&mut self, id: &str, now: Instant) -> Seen {
        self.forget_expired(now);
        if self.ids.contains(id) {
            Seen::Repeated
        } else if self.ids.len() >= self.cap {
            Seen::Full
        } else {
            Seen::New
        }
    }

    /// Notes `id` if it is new and there is room.
    pub fn note(&mut self, id: &str, now: Instant) -> Seen {
        let seen = self.check(id, now);
        if seen == Seen::New {
            let id: Arc<str> = Arc::from(id);
            self.expiries.push_back((now + self.window, Arc::clone(&id)));
            self.ids.insert(id);
        }
        seen
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.ids.len()
    }

    /// Every id is noted with the same window, so expiries are in order.
    fn forget_expired(&mut self, now: Instant) {
        while let Some((expiry, _)) = self.expiries.front()
            && *expiry <= now
        {
            if let Some((_, id)) = self.expiries.pop_front() {
                self.ids.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn an_id_is_remembered_through_any_number_of_others_within_its_window() {
        let start = Instant::now();
        let mut seen = SeenIds::new(HOUR, 100_000);
        assert_eq!(seen.note("first", start), Seen::New);
        // Far more than a count-bounded memory (512 ids) would keep.
        for n in 0..10_000 {
            assert_eq!(seen.note(&format!("m{n}"), start + Duration::from_secs(1)), Seen::New);
        }
        let later = start + HOUR - Duration::from_secs(1);
        assert_eq!(seen.check("first", later), Seen::Repeated);
        assert_eq!(seen.note("first", later), Seen::Repeated);
        assert_eq!(seen.len(), 10_001, "a repeat is not noted twice");
    }

    #[test]
    fn ids_are_forgotten_once_their_window_has_passed() {
        let start = Instant::now();
        let mut seen = SeenIds::new(HOUR, 10);
        seen.note("a", start);
        seen.note("b", start + Duration::from_secs(60));
        assert_eq!(seen.check("a", start + HOUR), Seen::New, "a's window is over");
        assert_eq!(seen.check("b", start + HOUR), Seen::Repeated, "b's is not");
        assert_eq!(seen.len(), 1);
    }

    #[test]
    fn a_full_memory_refuses_new_ids_rather_than_forget_live_ones() {
        let start = Instant::now();
        let mut seen = SeenIds::new(HOUR, 3);
        for id in ["a", "b", "c"] {
            assert_eq!(seen.note(id, start), Seen::New);
        }
        assert_eq!(seen.check("d", start), Seen::Full);
        assert_eq!(seen.note("d", start), Seen::Full);
        assert_eq!(seen.note("a", start), Seen::Repeated, "the ids held are still known");
        assert_eq!(seen.len(), 3);
        // Room again once the window has passed.
        assert_eq!(seen.note("d", start + HOUR), Seen::New);
    }
}
