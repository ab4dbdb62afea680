//! The market as the stream describes it: quotes, symbols, sparklines,
//! forming bars, alerts, events, metrics and health. Plain data updated by
//! server messages; no DOM and no signals, so it is tested natively.

use std::collections::{BTreeMap, VecDeque};

use marquee_shared::{
    Alert, AnalyzedBar, BarInterval, DataSource, Event, Health, Metrics, SPARK_POINTS, ServerMessage,
    SimulationState, SymbolInfo, Tick, is_spark_point,
};

use super::seqs::SeqLog;

/// Alerts kept for the page, newest first.
pub const RECENT_ALERTS: usize = 50;
/// Events kept for the page, newest first.
pub const RECENT_EVENTS: usize = 100;

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
    /// Every symbol the server has data for, with its source.
    symbols: BTreeMap<String, SymbolInfo>,
    /// Where the live simulation stands; `None` before the first snapshot.
    pub simulation: Option<SimulationState>,
    /// Ticks received since the page loaded (duplicates not counted).
    pub ticks_received: u64,
    /// Which seqs arrived, to count gaps.
    pub seqs: SeqLog,
    /// `lagged` notices: the server conflated this page's stream.
    pub lagged_notices: u64,
    /// Messages the server skipped because this page fell behind.
    pub batches_skipped: u64,
    /// Ticks replayed by the server after reconnects.
    pub resumed_ticks: u64,
    sparks: BTreeMap<String, VecDeque<f64>>,
    forming: BTreeMap<(String, BarInterval), AnalyzedBar>,
    /// The newest events, newest first, at most [`RECENT_EVENTS`].
    pub events: VecDeque<Event>,
    pub metrics: Option<Metrics>,
    pub health: Option<Health>,
    /// The last error the server reported about our messages.
    pub last_error: Option<String>,
    /// The newest alerts, newest first, at most [`RECENT_ALERTS`].
    pub alerts: VecDeque<Alert>,
    /// Closed bars received since the page loaded.
    pub bars_received: u64,
}

impl MarketState {
    /// Applies one server message.
    pub fn apply(&mut self, message: ServerMessage) {
        match message {
            ServerMessage::Snapshot {
                quotes,
                simulation,
                symbols,
                sparklines,
                bars,
                metrics,
                health,
                ..
            } => {
                self.set_symbols(simulation, symbols);
                self.replace_quotes(quotes);
                self.sparks = sparklines
                    .into_iter()
                    .map(|(symbol, points)| (symbol, points.into_iter().collect()))
                    .collect();
                self.replace_forming(bars);
                self.metrics = metrics.map(|m| *m).or(self.metrics.take());
                self.health = health.map(|h| *h).or(self.health.take());
            }
            ServerMessage::Simulation { state, symbols } => self.set_symbols(state, symbols),
            ServerMessage::Ticks { ticks } => {
                for tick in ticks {
                    self.apply_tick(tick);
                }
            }
            ServerMessage::Lagged { skipped } => {
                self.batches_skipped += skipped;
                self.lagged_notices += 1;
                self.seqs.restart();
            }
            ServerMessage::Bars { bars, closed } => {
                if closed {
                    self.bars_received += bars.len() as u64;
                }
                bars.iter().for_each(|bar| self.apply_bar(bar));
            }
            ServerMessage::Alert { alert } => {
                self.alerts.push_front(alert);
                self.alerts.truncate(RECENT_ALERTS);
            }
            ServerMessage::Event { event } => {
                self.events.push_front(event);
                self.events.truncate(RECENT_EVENTS);
            }
            ServerMessage::Metrics { metrics } => self.metrics = Some(*metrics),
            ServerMessage::Health { health } => self.health = Some(*health),
            ServerMessage::Resumed { replayed } => self.resumed_ticks += replayed,
            ServerMessage::Pong { .. } | ServerMessage::Subscribed { .. } => {}
            ServerMessage::Error { code, message } => self.last_error = Some(format!("{code:?}: {message}")),
        }
    }

    pub fn quote(&self, symbol: &str) -> Option<&Quote> {
        self.quotes.get(symbol)
    }

    /// The last seq seen of every symbol, for `resume` after a reconnect.
    pub fn last_seqs(&self) -> BTreeMap<String, u64> {
        self.quotes.iter().map(|(symbol, q)| (symbol.clone(), q.tick.seq)).collect()
    }

    /// Recent prices of `symbol`, oldest first.
    pub fn sparkline(&self, symbol: &str) -> Vec<f64> {
        self.sparks.get(symbol).map(|points| points.iter().copied().collect()).unwrap_or_default()
    }

    /// The bar forming now for `symbol` at `interval`.
    pub fn forming(&self, symbol: &str, interval: BarInterval) -> Option<&AnalyzedBar> {
        self.forming.get(&(symbol.to_owned(), interval))
    }

    /// Adds alerts or events read over REST at page load, behind live ones.
    pub fn add_history(&mut self, alerts: Vec<Alert>, events: Vec<Event>) {
        for alert in alerts {
            if !self.alerts.contains(&alert) {
                self.alerts.push_back(alert);
            }
        }
        self.alerts.truncate(RECENT_ALERTS);
        for event in events {
            if !self.events.iter().any(|e| e.id == event.id) {
                self.events.push_back(event);
            }
        }
        self.events.truncate(RECENT_EVENTS);
    }

    fn apply_bar(&mut self, bar: &AnalyzedBar) {
        let key = (bar.bar.symbol.clone(), bar.bar.interval);
        match self.forming.get_mut(&key) {
            Some(held) if held.bar.start > bar.bar.start => {}
            Some(held) => held.clone_from(bar),
            None => {
                self.forming.insert(key, bar.clone());
            }
        }
    }

    /// Symbols in display order: every known symbol, ticking or not.
    pub fn symbols(&self) -> Vec<String> {
        let mut all: Vec<String> = self.symbols.keys().chain(self.quotes.keys()).cloned().collect();
        all.sort();
        all.dedup();
        all
    }

    pub fn info(&self, symbol: &str) -> Option<&SymbolInfo> {
        self.symbols.get(symbol)
    }

    /// The distinct data sources of the known symbols, for the header.
    pub fn sources(&self) -> Vec<DataSource> {
        let mut sources: Vec<DataSource> = self.symbols.values().map(|s| s.source).collect();
        sources.sort_by_key(|s| s.as_str());
        sources.dedup();
        sources
    }

    fn set_symbols(&mut self, simulation: SimulationState, symbols: Vec<SymbolInfo>) {
        self.simulation = Some(simulation);
        self.symbols = symbols.into_iter().map(|s| (s.symbol.clone(), s)).collect();
    }

    /// A snapshot says where every symbol stands: its quotes replace the
    /// page's, and a symbol it leaves out has no quote any more. A quote the
    /// page holds that is newer (same symbol, higher seq) is kept: the
    /// snapshot never moves a price back. Snapshots do not count as ticks.
    fn replace_quotes(&mut self, quotes: Vec<Tick>) {
        let mut held = std::mem::take(&mut self.quotes);
        for tick in quotes {
            let quote = match held.remove(&tick.symbol) {
                Some(quote) if quote.tick.seq >= tick.seq => quote,
                Some(quote) => Quote { last_move: direction(quote.tick.price, tick.price), tick, ..quote },
                None => Quote { tick, last_move: Move::Unchanged, ticks: 0 },
            };
            self.quotes.insert(quote.tick.symbol.clone(), quote);
        }
    }

    /// The snapshot's forming bars replace the page's: a bar the snapshot
    /// leaves out has closed (or its symbol left) while the page lagged.
    fn replace_forming(&mut self, bars: Vec<AnalyzedBar>) {
        let mut held = std::mem::take(&mut self.forming);
        for bar in bars {
            let key = (bar.bar.symbol.clone(), bar.bar.interval);
            let bar = match held.remove(&key) {
                Some(newer) if newer.bar.start > bar.bar.start => newer,
                _ => bar,
            };
            self.forming.insert(key, bar);
        }
    }

    fn apply_tick(&mut self, tick: Tick) {
        if !self.seqs.insert(&tick.symbol, tick.seq) {
            return; // a duplicate
        }
        self.ticks_received += 1;
        if is_spark_point(tick.seq) {
            let spark = self.sparks.entry(tick.symbol.clone()).or_default();
            if spark.len() == SPARK_POINTS {
                spark.pop_front();
            }
            spark.push_back(tick.price);
        }
        match self.quotes.get_mut(&tick.symbol) {
            // A replay of something older than what is shown: counted, not shown.
            Some(quote) if tick.seq <= quote.tick.seq => {}
            Some(quote) => {
                quote.last_move = direction(quote.tick.price, tick.price);
                quote.tick = tick;
                quote.ticks += 1;
            }
            None => {
                let quote = Quote { tick, last_move: Move::Unchanged, ticks: 1 };
                self.quotes.insert(quote.tick.symbol.clone(), quote);
            }
        }
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

    fn snapshot(quotes: Vec<Tick>) -> ServerMessage {
        let running = SimulationState::Running { symbols: 2, speed: 1.0 };
        snapshot_of(running, quotes, BTreeMap::new(), vec![])
    }

    fn snapshot_of(
        simulation: SimulationState,
        quotes: Vec<Tick>,
        sparklines: BTreeMap<String, Vec<f64>>,
        bars: Vec<AnalyzedBar>,
    ) -> ServerMessage {
        ServerMessage::Snapshot {
            server_time: 1,
            simulation,
            symbols: vec![],
            quotes,
            sparklines,
            bars,
            metrics: None,
            health: None,
        }
    }

    fn info(symbol: &str, source: DataSource) -> SymbolInfo {
        SymbolInfo { symbol: symbol.into(), name: None, source }
    }

    #[test]
    fn symbols_and_the_simulation_state_come_from_the_server() {
        let mut state = MarketState::default();
        assert_eq!(state.simulation, None);
        state.apply(ServerMessage::Simulation {
            state: SimulationState::Waiting { have: 2, need: 5 },
            symbols: vec![info("KO", DataSource::Csv), info("IBM", DataSource::AlphaVantage)],
        });
        assert_eq!(state.simulation, Some(SimulationState::Waiting { have: 2, need: 5 }));
        assert_eq!(state.symbols(), ["IBM", "KO"], "known symbols show before they tick");
        assert_eq!(state.sources(), [DataSource::AlphaVantage, DataSource::Csv]);
        assert_eq!(state.info("KO").map(|i| i.source), Some(DataSource::Csv));
    }

    #[test]
    fn a_snapshot_lists_symbols_in_order_without_counting_ticks() {
        let mut state = MarketState::default();
        state.apply(snapshot(vec![tick("MSFT", 4, 1.0), tick("AAPL", 9, 2.0)]));
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
        assert_eq!(state.seqs.gaps(), 3);
        assert_eq!(state.ticks_received, 3);
    }

    #[test]
    fn a_resume_fills_the_gap_behind_a_newer_snapshot() {
        let mut state = MarketState::default();
        state.apply(ticks(vec![tick("A", 1, 10.0), tick("A", 2, 10.5)]));
        assert_eq!(state.last_seqs(), BTreeMap::from([("A".to_owned(), 2)]));
        // Reconnected: the snapshot is at 5, the stream goes on from 6, and
        // the replay of 3..=5 arrives after it.
        state.apply(snapshot(vec![tick("A", 5, 11.0)]));
        state.apply(ticks(vec![tick("A", 6, 11.5)]));
        assert_eq!(state.seqs.gaps(), 3);
        state.apply(ticks(vec![tick("A", 3, 1.0), tick("A", 4, 1.0), tick("A", 5, 11.0)]));
        state.apply(ServerMessage::Resumed { replayed: 3 });
        assert_eq!((state.seqs.gaps(), state.resumed_ticks, state.ticks_received), (0, 3, 6));
        assert_eq!(state.quote("A").map(|q| q.tick.price), Some(11.5), "replays do not move the price back");
    }

    #[test]
    fn a_snapshot_after_reconnect_moves_forward_but_never_back() {
        let mut state = MarketState::default();
        state.apply(ticks(vec![tick("A", 5, 10.0)]));
        state.apply(snapshot(vec![tick("A", 3, 9.0)]));
        assert_eq!(state.quote("A").map(|q| q.tick.seq), Some(5));
        state.apply(snapshot(vec![tick("A", 8, 11.0)]));
        assert_eq!(state.quote("A").map(|q| (q.tick.seq, q.last_move)), Some((8, Move::Up)));
        state.apply(ticks(vec![tick("A", 9, 11.5)]));
        assert_eq!(state.quote("A").map(|q| q.tick.seq), Some(9));
    }

    fn forming_bar(symbol: &str, interval: BarInterval, start: i64, volume: u64) -> AnalyzedBar {
        AnalyzedBar {
            bar: marquee_shared::OhlcvBar {
                symbol: symbol.into(),
                interval,
                start,
                open: 1.0,
                high: 1.0,
                low: 1.0,
                close: 1.0,
                volume,
                vwap: 1.0,
                trades: 1,
            },
            indicators: Default::default(),
        }
    }

    #[test]
    fn a_snapshot_replaces_what_every_symbol_shows() {
        let mut state = MarketState::default();
        let spark_ticks = |symbol: &str| (1..=20).map(|seq| tick(symbol, seq, seq as f64)).collect();
        state.apply(ticks(spark_ticks("A")));
        state.apply(ticks(spark_ticks("B")));
        state.apply(ServerMessage::Bars {
            bars: vec![
                forming_bar("A", BarInterval::OneMinute, 60, 10),
                forming_bar("A", BarInterval::FifteenMinutes, 0, 30),
                forming_bar("B", BarInterval::OneMinute, 60, 20),
            ],
            closed: false,
        });
        assert_eq!(state.sparkline("B"), [10.0, 20.0]);

        // The server moved on while the page lagged: B left the market, A's
        // 15-minute bar closed, and its 1-minute bar is a new one.
        state.apply(ServerMessage::Lagged { skipped: 40 });
        state.apply(snapshot_of(
            SimulationState::Running { symbols: 1, speed: 1.0 },
            vec![tick("A", 90, 42.0)],
            BTreeMap::from([("A".to_owned(), vec![30.0, 90.0])]),
            vec![forming_bar("A", BarInterval::OneMinute, 120, 5)],
        ));
        assert_eq!(state.symbols(), ["A"], "B has no stale row");
        assert_eq!(
            state.quote("A").map(|q| (q.tick.seq, q.tick.price, q.last_move)),
            Some((90, 42.0, Move::Up))
        );
        assert_eq!(state.quote("B"), None);
        assert_eq!(state.sparkline("A"), [30.0, 90.0]);
        assert_eq!(state.sparkline("B"), Vec::<f64>::new());
        assert_eq!(state.forming("A", BarInterval::OneMinute).map(|b| b.bar.volume), Some(5));
        assert_eq!(state.forming("A", BarInterval::FifteenMinutes), None, "closed while the page lagged");
        assert_eq!(state.forming("B", BarInterval::OneMinute), None);
        assert_eq!(state.ticks_received, 40, "a snapshot is not ticks");
    }

    #[test]
    fn alerts_are_kept_newest_first_and_bounded() {
        let mut state = MarketState::default();
        for ts in 0..60 {
            let alert = Alert {
                symbol: "A".into(),
                kind: marquee_shared::AlertKind::PriceJump,
                severity: marquee_shared::Severity::Warning,
                value: 6.0,
                threshold: 5.0,
                ts,
            };
            state.apply(ServerMessage::Alert { alert });
        }
        assert_eq!(state.alerts.len(), RECENT_ALERTS);
        assert_eq!(state.alerts.front().map(|a| a.ts), Some(59));
    }

    #[test]
    fn lagged_notices_and_errors_are_recorded() {
        let mut state = MarketState::default();
        state.apply(ticks(vec![tick("A", 1, 1.0), tick("A", 5, 1.0)]));
        assert_eq!(state.seqs.gaps(), 3);
        state.apply(ServerMessage::Lagged { skipped: 4 });
        state.apply(ServerMessage::Lagged { skipped: 2 });
        assert_eq!((state.batches_skipped, state.lagged_notices), (6, 2));
        assert_eq!(state.seqs.gaps(), 0, "a lagged notice explains the gap");
        state.apply(ServerMessage::Error {
            code: marquee_shared::ErrorCode::BadMessage,
            message: "nope".into(),
        });
        assert_eq!(state.last_error.as_deref(), Some("BadMessage: nope"));
    }
}
