//! The market as the stream describes it: quotes, symbols, sparklines,
//! forming bars, the feeds (alerts, events; `feeds.rs`), metrics and health.
//! Plain data updated by server messages; no DOM and no signals, so it is
//! tested natively.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use marquee_shared::{
    Alert, AnalyzedBar, BarInterval, DataSource, Event, FormingBars, Health, Metrics, SPARK_POINTS,
    ServerMessage, SimulationState, SymbolInfo, Tick, is_spark_point,
};

use super::feeds::Feeds;
use super::stream::StreamCounts;

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
    /// What the page counts of its stream.
    pub stream: StreamCounts,
    sparks: BTreeMap<String, VecDeque<f64>>,
    forming: FormingBars,
    /// Alerts and events, newest first.
    pub feeds: Feeds,
    pub metrics: Option<Metrics>,
    pub health: Option<Health>,
    /// What changed since [`MarketState::take_changed`] was last called.
    changed: Changed,
}

/// Which symbols' rows (quote, sparkline, volume, name) changed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Changed {
    /// Every symbol may have (a snapshot, a new symbol list).
    pub all: bool,
    pub symbols: BTreeSet<String>,
    /// The server's figures (metrics, health).
    pub figures: bool,
    /// The alerts or events.
    pub feeds: bool,
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
                self.changed.all = true;
                self.set_symbols(simulation, symbols);
                self.replace_quotes(quotes);
                self.sparks = sparklines
                    .into_iter()
                    .map(|(symbol, points)| (symbol, points.into_iter().collect()))
                    .collect();
                self.forming.replace(bars);
                self.metrics = metrics.map(|m| *m).or(self.metrics.take());
                self.health = health.map(|h| *h).or(self.health.take());
            }
            ServerMessage::Simulation { state, symbols } => {
                self.changed.all = true;
                self.set_symbols(state, symbols);
            }
            ServerMessage::Ticks { ticks } => {
                for tick in ticks {
                    self.apply_tick(tick);
                }
            }
            ServerMessage::Lagged { skipped } => {
                self.stream.batches_skipped += skipped;
                self.stream.lagged_notices += 1;
                self.stream.seqs.restart();
            }
            ServerMessage::Bars { bars, closed } => {
                if closed {
                    self.stream.bars_received += bars.len() as u64;
                }
                for bar in &bars {
                    if self.forming.apply(bar) {
                        self.changed.symbols.insert(bar.bar.symbol.clone());
                    }
                }
            }
            ServerMessage::Alert { alert } => {
                self.feeds.alert(alert);
                self.changed.feeds = true;
            }
            ServerMessage::Event { event } => {
                self.feeds.event(event);
                self.changed.feeds = true;
            }
            ServerMessage::Metrics { metrics } => {
                self.metrics = Some(*metrics);
                self.changed.figures = true;
            }
            ServerMessage::Health { health } => {
                self.health = Some(*health);
                self.changed.figures = true;
            }
            ServerMessage::Resumed { replayed } => self.stream.resumed_ticks += replayed,
            ServerMessage::Pong { .. } | ServerMessage::Subscribed { .. } => {}
            ServerMessage::Error { code, message } => {
                self.stream.last_error = Some(format!("{code:?}: {message}"))
            }
        }
    }

    fn mark_changed(&mut self, symbol: &str) {
        if !self.changed.symbols.contains(symbol) {
            self.changed.symbols.insert(symbol.to_owned());
        }
    }

    /// What changed since the last call, for views that redraw per symbol.
    pub fn take_changed(&mut self) -> Changed {
        std::mem::take(&mut self.changed)
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
        self.forming.get(symbol, interval)
    }

    /// Adds alerts or events read over REST at page load, behind live ones.
    pub fn add_history(&mut self, alerts: Vec<Alert>, events: Vec<Event>) {
        self.feeds.add_history(alerts, events);
        self.changed.feeds = true;
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

    fn apply_tick(&mut self, tick: Tick) {
        if !self.stream.seqs.insert(&tick.symbol, tick.seq) {
            return; // a duplicate
        }
        self.stream.ticks_received += 1;
        if is_spark_point(tick.seq) {
            self.mark_changed(&tick.symbol);
            let spark = self.sparks.entry(tick.symbol.clone()).or_default();
            if spark.len() == SPARK_POINTS {
                spark.pop_front();
            }
            spark.push_back(tick.price);
        }
        // A replay of something older than what is shown: counted, not shown.
        if self.quotes.get(&tick.symbol).is_some_and(|quote| tick.seq <= quote.tick.seq) {
            return;
        }
        self.mark_changed(&tick.symbol);
        match self.quotes.get_mut(&tick.symbol) {
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
mod tests;
