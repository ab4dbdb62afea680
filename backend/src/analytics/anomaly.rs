//! Anomaly detection: price jumps (z-score of a tick's log return against a
//! rolling window of returns), volume spikes (a closed bar's volume against
//! the rolling mean of earlier bars) and RSI crossing 70 or 30. Each
//! (symbol, kind) has a cooldown in event time so one event makes one alert.

use std::collections::HashMap;

use marquee_shared::{Alert, AlertKind, Severity, Tick};

use super::rolling::RollingSums;

/// Thresholds and windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnomalySettings {
    /// Returns in the rolling window of a price-jump check.
    pub return_window: usize,
    /// |z| at or above this is a price jump.
    pub jump_z: f64,
    /// Closed bars in the rolling volume mean.
    pub volume_window: usize,
    /// Bar volume at or above this many times the mean is a spike.
    pub volume_ratio: f64,
    pub rsi_high: f64,
    pub rsi_low: f64,
    /// Minimum event time between two alerts of one kind for one symbol.
    pub cooldown_ns: i64,
}

impl Default for AnomalySettings {
    fn default() -> Self {
        Self {
            return_window: 200,
            jump_z: 5.0,
            volume_window: 20,
            volume_ratio: 3.0,
            rsi_high: 70.0,
            rsi_low: 30.0,
            cooldown_ns: 30_000_000_000,
        }
    }
}

/// The sample standard deviation of the values in `window`.
fn sample_sd(window: &RollingSums) -> f64 {
    let n = window.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    ((window.sum_sq() - window.sum() * window.sum() / n) / (n - 1.0)).max(0.0).sqrt()
}

#[derive(Debug, Clone)]
struct SymbolState {
    last_price: Option<f64>,
    returns: RollingSums,
    volumes: RollingSums,
    last_rsi: Option<f64>,
}

/// Per-symbol detectors and cooldowns.
#[derive(Debug, Clone)]
pub struct AnomalyDetector {
    settings: AnomalySettings,
    symbols: HashMap<String, SymbolState>,
    last_alert: HashMap<(String, AlertKind), i64>,
}

impl AnomalyDetector {
    pub fn new(settings: AnomalySettings) -> Self {
        Self { settings, symbols: HashMap::new(), last_alert: HashMap::new() }
    }

    fn state(&mut self, symbol: &str) -> &mut SymbolState {
        // Look up before inserting: the hot path allocates no key.
        if !self.symbols.contains_key(symbol) {
            let state = SymbolState {
                last_price: None,
                returns: RollingSums::new(self.settings.return_window.max(2)),
                volumes: RollingSums::new(self.settings.volume_window.max(2)),
                last_rsi: None,
            };
            self.symbols.insert(symbol.to_owned(), state);
        }
        self.symbols.get_mut(symbol).unwrap_or_else(|| unreachable!("inserted above"))
    }

    /// Checks a tick's return; a jump is judged against the returns before it.
    pub fn on_tick(&mut self, tick: &Tick) -> Option<Alert> {
        let jump_z = self.settings.jump_z;
        let state = self.state(&tick.symbol);
        let previous = state.last_price.replace(tick.price)?;
        if previous <= 0.0 || tick.price <= 0.0 {
            return None;
        }
        let r = (tick.price / previous).ln();
        let sd = sample_sd(&state.returns);
        let verdict = if state.returns.is_full() && sd > 0.0 {
            let z = (r - state.returns.mean()) / sd;
            (z.abs() >= jump_z).then_some(z)
        } else {
            None
        };
        state.returns.push(r);
        let z = verdict?;
        let severity = if z.abs() >= 2.0 * jump_z { Severity::Critical } else { Severity::Warning };
        self.raise(&tick.symbol, AlertKind::PriceJump, severity, z, jump_z.copysign(z), tick.ts)
    }

    /// Checks a closed bar's volume (against earlier bars) and its RSI crossing.
    pub fn on_bar(&mut self, symbol: &str, volume: f64, rsi: Option<f64>, ts: i64) -> Vec<Alert> {
        let settings = self.settings;
        let state = self.state(symbol);
        let mut found = Vec::new();
        if state.volumes.is_full() && state.volumes.mean() > 0.0 {
            let ratio = volume / state.volumes.mean();
            if ratio >= settings.volume_ratio {
                let severity =
                    if ratio >= 2.0 * settings.volume_ratio { Severity::Critical } else { Severity::Warning };
                found.push((AlertKind::VolumeSpike, severity, ratio, settings.volume_ratio));
            }
        }
        state.volumes.push(volume);
        if let Some(rsi) = rsi
            && let Some(before) = state.last_rsi.replace(rsi)
        {
            if before < settings.rsi_high && rsi >= settings.rsi_high {
                found.push((AlertKind::RsiOverbought, Severity::Info, rsi, settings.rsi_high));
            }
            if before > settings.rsi_low && rsi <= settings.rsi_low {
                found.push((AlertKind::RsiOversold, Severity::Info, rsi, settings.rsi_low));
            }
        }
        found
            .into_iter()
            .filter_map(|(kind, severity, value, threshold)| {
                self.raise(symbol, kind, severity, value, threshold, ts)
            })
            .collect()
    }

    fn raise(
        &mut self,
        symbol: &str,
        kind: AlertKind,
        severity: Severity,
        value: f64,
        threshold: f64,
        ts: i64,
    ) -> Option<Alert> {
        let key = (symbol.to_owned(), kind);
        if let Some(&last) = self.last_alert.get(&key)
            && ts - last < self.settings.cooldown_ns
        {
            return None;
        }
        self.last_alert.insert(key, ts);
        Some(Alert { symbol: symbol.to_owned(), kind, severity, value, threshold, ts })
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use rand_distr::{Distribution, StandardNormal};

    use super::*;

    const SECOND: i64 = 1_000_000_000;

    fn tick(ts: i64, price: f64) -> Tick {
        Tick { symbol: "X".into(), seq: 0, ts, price, size: 100.0, change: 0.0, change_pct: 0.0 }
    }

    /// A quiet random walk, a tick every 100 ms, with lasting jumps at the given steps.
    fn walk(jumps: &[(i64, f64)]) -> Vec<Tick> {
        let mut rng = StdRng::seed_from_u64(9);
        let mut price = 100.0;
        (0..1_000)
            .map(|i| {
                let z: f64 = StandardNormal.sample(&mut rng);
                price *= (0.0005 * z).exp();
                for (step, factor) in jumps {
                    if i == *step {
                        price *= factor;
                    }
                }
                tick(i * SECOND / 10, price)
            })
            .collect()
    }

    fn walk_with_jump() -> Vec<Tick> {
        walk(&[(500, 1.03)])
    }

    #[test]
    fn a_jump_raises_one_price_alert_and_quiet_ticks_none() {
        let mut detector = AnomalyDetector::new(AnomalySettings::default());
        let alerts: Vec<Alert> = walk_with_jump().iter().filter_map(|t| detector.on_tick(t)).collect();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let alert = &alerts[0];
        assert_eq!((alert.kind, alert.ts), (AlertKind::PriceJump, 500 * SECOND / 10));
        assert!(alert.value > 5.0 && alert.threshold == 5.0, "{alert:?}");
        assert_eq!(alert.severity, Severity::Critical, "a 3 % jump is 60 sigma");
    }

    #[test]
    fn the_cooldown_holds_back_repeats_of_the_same_kind() {
        let mut detector =
            AnomalyDetector::new(AnomalySettings { cooldown_ns: 10 * SECOND, ..Default::default() });
        // Jumps at 50 s, 55 s (cooling down) and 65 s (cooled down).
        let ticks = walk(&[(500, 1.03), (550, 0.97), (650, 1.03)]);
        let alerts: Vec<i64> = ticks.iter().filter_map(|t| detector.on_tick(t)).map(|a| a.ts).collect();
        assert_eq!(alerts, [500 * SECOND / 10, 650 * SECOND / 10]);
    }

    #[test]
    fn volume_spikes_and_rsi_crossings() {
        let mut detector = AnomalyDetector::new(AnomalySettings::default());
        for i in 0..20 {
            assert!(detector.on_bar("X", 1_000.0 + i as f64, Some(50.0), i as i64 * 60 * SECOND).is_empty());
        }
        let spike = detector.on_bar("X", 10_000.0, Some(71.0), 21 * 60 * SECOND);
        let kinds: Vec<AlertKind> = spike.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, [AlertKind::VolumeSpike, AlertKind::RsiOverbought]);
        assert_eq!(spike[0].severity, Severity::Critical, "ten times the mean");
        let oversold = detector.on_bar("X", 1_000.0, Some(29.0), 22 * 60 * SECOND);
        assert_eq!(oversold.iter().map(|a| a.kind).collect::<Vec<_>>(), [AlertKind::RsiOversold]);
        assert!(detector.on_bar("X", 1_000.0, Some(28.0), 23 * 60 * SECOND).is_empty(), "no new crossing");
    }
}
