//! Which alerts a sink takes: a minimum severity, a list of symbols and of
//! kinds, and a cooldown per (symbol, kind), so a symbol that keeps
//! jumping pages someone once per cooldown, not once per tick. Pure.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use marquee_shared::{Alert, AlertKind, Severity};

/// (symbol, kind) pairs a sink remembers at most; beyond, the ones whose
/// cooldown has passed are forgotten first.
const REMEMBERED: usize = 10_000;

/// A sink's rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub min_severity: Severity,
    /// `None`: every symbol.
    pub symbols: Option<HashSet<String>>,
    /// `None`: every kind.
    pub kinds: Option<HashSet<AlertKind>>,
    pub cooldown: Duration,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            min_severity: Severity::Warning,
            symbols: None,
            kinds: None,
            cooldown: Duration::from_secs(300),
        }
    }
}

impl Rules {
    /// Whether the alert is one this sink wants, cooldown aside.
    pub fn admits(&self, alert: &Alert) -> bool {
        alert.severity >= self.min_severity
            && self.symbols.as_ref().is_none_or(|symbols| symbols.contains(&alert.symbol))
            && self.kinds.as_ref().is_none_or(|kinds| kinds.contains(&alert.kind))
    }
}

/// When each (symbol, kind) last went out.
#[derive(Debug, Default)]
pub struct Cooldown {
    sent: HashMap<(String, AlertKind), i64>,
}

impl Cooldown {
    /// True (and remembered) when the alert may go out at `now` (ns): none
    /// of its symbol and kind went out within `cooldown`.
    pub fn pass(&mut self, alert: &Alert, cooldown: Duration, now: i64) -> bool {
        if !self.ready(alert, cooldown, now) {
            return false;
        }
        self.record(alert, cooldown, now);
        true
    }

    /// Whether the alert may go out at `now`, without remembering it.
    pub fn ready(&self, alert: &Alert, cooldown: Duration, now: i64) -> bool {
        let span = i64::try_from(cooldown.as_nanos()).unwrap_or(i64::MAX);
        let key = (alert.symbol.clone(), alert.kind);
        self.sent.get(&key).is_none_or(|last| now.saturating_sub(*last) >= span)
    }

    /// The alert went out at `now`: its symbol and kind cool down from here.
    pub fn record(&mut self, alert: &Alert, cooldown: Duration, now: i64) {
        let span = i64::try_from(cooldown.as_nanos()).unwrap_or(i64::MAX);
        let key = (alert.symbol.clone(), alert.kind);
        if self.sent.len() >= REMEMBERED {
            self.sent.retain(|_, last| now.saturating_sub(*last) < span);
            if self.sent.len() >= REMEMBERED {
                // Every one is still cooling down: forget the oldest.
                if let Some(oldest) = self.sent.iter().min_by_key(|(_, last)| **last).map(|(k, _)| k.clone())
                {
                    self.sent.remove(&oldest);
                }
            }
        }
        self.sent.insert(key, now);
    }

    pub fn len(&self) -> usize {
        self.sent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(symbol: &str, kind: AlertKind, severity: Severity) -> Alert {
        Alert { symbol: symbol.into(), kind, severity, value: 5.0, threshold: 3.0, ts: 0 }
    }

    #[test]
    fn severity_symbols_and_kinds_filter() {
        let rules = Rules {
            min_severity: Severity::Critical,
            symbols: Some(["AAPL".to_owned()].into()),
            kinds: Some([AlertKind::PriceJump].into()),
            cooldown: Duration::ZERO,
        };
        assert!(rules.admits(&alert("AAPL", AlertKind::PriceJump, Severity::Critical)));
        assert!(!rules.admits(&alert("AAPL", AlertKind::PriceJump, Severity::Warning)), "below the severity");
        assert!(!rules.admits(&alert("MSFT", AlertKind::PriceJump, Severity::Critical)), "another symbol");
        assert!(!rules.admits(&alert("AAPL", AlertKind::VolumeSpike, Severity::Critical)), "another kind");
        assert!(Rules::default().admits(&alert("ANY", AlertKind::RsiOversold, Severity::Warning)));
        assert!(!Rules::default().admits(&alert("ANY", AlertKind::RsiOversold, Severity::Info)));
    }

    #[test]
    fn one_alert_per_symbol_and_kind_per_cooldown() {
        let mut cooldown = Cooldown::default();
        let minute = Duration::from_secs(60);
        let jump = alert("AAPL", AlertKind::PriceJump, Severity::Critical);
        assert!(cooldown.pass(&jump, minute, 0));
        assert!(!cooldown.pass(&jump, minute, 59_000_000_000), "still cooling down");
        assert!(cooldown.pass(&alert("AAPL", AlertKind::VolumeSpike, Severity::Critical), minute, 1));
        assert!(cooldown.pass(&alert("MSFT", AlertKind::PriceJump, Severity::Critical), minute, 1));
        assert!(cooldown.pass(&jump, minute, 60_000_000_000), "a minute later");
    }

    #[test]
    fn what_it_remembers_is_bounded() {
        let mut cooldown = Cooldown::default();
        let hour = Duration::from_secs(3_600);
        for i in 0..REMEMBERED + 50 {
            let symbol = format!("S{i}");
            assert!(cooldown.pass(&alert(&symbol, AlertKind::PriceJump, Severity::Critical), hour, i as i64));
        }
        assert_eq!(cooldown.len(), REMEMBERED);
    }
}
