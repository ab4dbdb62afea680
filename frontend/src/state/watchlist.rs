//! The watchlist's rows: filtered and sorted from the market state.

use marquee_shared::{BarInterval, DataSource, Feed};

use super::market::{MarketState, Move};

/// The interval whose forming bar gives the watchlist's volume column.
pub const VOLUME_INTERVAL: BarInterval = BarInterval::FifteenMinutes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Symbol,
    Last,
    Change,
    ChangePct,
    Volume,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Self { key: SortKey::Symbol, descending: false }
    }
}

impl Sort {
    /// Clicking a column: the same one flips direction, another sorts by it
    /// (text ascending, numbers descending first).
    pub fn clicked(self, key: SortKey) -> Self {
        if self.key == key {
            Self { key, descending: !self.descending }
        } else {
            Self { key, descending: key != SortKey::Symbol }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub symbol: String,
    pub name: Option<String>,
    pub source: Option<DataSource>,
    /// Where its live ticks come from, where the server says.
    pub feed: Option<Feed>,
    pub last: Option<f64>,
    /// The seq of the tick `last` comes from.
    pub seq: Option<u64>,
    pub change: Option<f64>,
    pub change_pct: Option<f64>,
    /// Volume of the forming [`VOLUME_INTERVAL`] bar.
    pub volume: Option<f64>,
    pub last_move: Move,
}

/// One symbol's row as it stands.
pub fn row(market: &MarketState, symbol: String) -> Row {
    let quote = market.quote(&symbol);
    let info = market.info(&symbol);
    Row {
        name: info.and_then(|i| i.name.clone()),
        source: info.map(|i| i.source),
        feed: info.and_then(|i| i.feed.clone()),
        last: quote.map(|q| q.tick.price),
        seq: quote.map(|q| q.tick.seq),
        change: quote.map(|q| q.tick.change),
        change_pct: quote.map(|q| q.tick.change_pct),
        volume: market.forming(&symbol, VOLUME_INTERVAL).map(|b| b.bar.volume),
        last_move: quote.map_or(Move::Unchanged, |q| q.last_move),
        symbol,
    }
}

/// The symbols of [`rows`], in their order.
pub fn order(market: &MarketState, filter: &str, sort: Sort) -> Vec<String> {
    rows(market, filter, sort).into_iter().map(|row| row.symbol).collect()
}

/// Rows whose symbol or name contains `filter` (any case), sorted.
pub fn rows(market: &MarketState, filter: &str, sort: Sort) -> Vec<Row> {
    let needle = filter.trim().to_lowercase();
    let mut rows: Vec<Row> = market
        .symbols()
        .into_iter()
        .map(|symbol| row(market, symbol))
        .filter(|row| {
            needle.is_empty()
                || row.symbol.to_lowercase().contains(&needle)
                || row.name.as_ref().is_some_and(|n| n.to_lowercase().contains(&needle))
        })
        .collect();
    let number = |row: &Row| match sort.key {
        SortKey::Symbol => None,
        SortKey::Last => row.last,
        SortKey::Change => row.change,
        SortKey::ChangePct => row.change_pct,
        SortKey::Volume => row.volume,
    };
    rows.sort_by(|a, b| {
        let order = match sort.key {
            SortKey::Symbol => a.symbol.cmp(&b.symbol),
            // Rows without a figure go last whichever the direction.
            _ => match (number(a), number(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => return std::cmp::Ordering::Less,
                (None, Some(_)) => return std::cmp::Ordering::Greater,
                (None, None) => a.symbol.cmp(&b.symbol),
            },
        };
        if sort.descending { order.reverse() } else { order }
    });
    rows
}

#[cfg(test)]
mod tests {
    use marquee_shared::{ServerMessage, SimulationState, SymbolInfo, Tick};

    use super::*;

    fn market() -> MarketState {
        let mut market = MarketState::default();
        let info = |symbol: &str, name: &str| SymbolInfo {
            symbol: symbol.into(),
            name: Some(name.into()),
            source: DataSource::Synthetic,
            feed: Some(Feed::Simulated),
        };
        market.apply(ServerMessage::Simulation {
            state: SimulationState::Running { symbols: 3, speed: 1.0 },
            symbols: vec![info("AAPL", "Apple Inc."), info("MSFT", "Microsoft"), info("KO", "Coca-Cola")],
        });
        let tick = |symbol: &str, pct: f64| Tick {
            symbol: symbol.into(),
            seq: 1,
            ts: 0,
            price: 100.0 + pct,
            size: 1.0,
            change: pct,
            change_pct: pct,
        };
        market.apply(ServerMessage::Ticks { ticks: vec![tick("AAPL", 1.5), tick("MSFT", -2.0)] });
        market
    }

    fn symbols(rows: &[Row]) -> Vec<&str> {
        rows.iter().map(|r| r.symbol.as_str()).collect()
    }

    #[test]
    fn filters_by_symbol_or_name_in_any_case() {
        let market = market();
        assert_eq!(symbols(&rows(&market, "", Sort::default())), ["AAPL", "KO", "MSFT"]);
        assert_eq!(symbols(&rows(&market, "ms", Sort::default())), ["MSFT"]);
        assert_eq!(symbols(&rows(&market, "cola", Sort::default())), ["KO"]);
        assert!(rows(&market, "zzz", Sort::default()).is_empty());
    }

    #[test]
    fn sorts_numbers_with_missing_figures_last_and_flips_on_a_second_click() {
        let market = market();
        let by_change = Sort::default().clicked(SortKey::ChangePct);
        assert!(by_change.descending);
        assert_eq!(symbols(&rows(&market, "", by_change)), ["AAPL", "MSFT", "KO"]);
        let flipped = by_change.clicked(SortKey::ChangePct);
        assert_eq!(symbols(&rows(&market, "", flipped)), ["MSFT", "AAPL", "KO"]);
        let by_symbol = flipped.clicked(SortKey::Symbol);
        assert_eq!(symbols(&rows(&market, "", by_symbol)), ["AAPL", "KO", "MSFT"]);
    }
}
