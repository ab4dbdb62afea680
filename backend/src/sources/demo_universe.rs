//! The built-in demo universe: well-known symbols with a reference price, so
//! Marquee streams with no API key and no network. Prices are synthetic and
//! labelled as such wherever they are shown.

/// One demo symbol. `reference` is the price the simulation starts from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoSymbol {
    pub ticker: &'static str,
    pub name: &'static str,
    pub sector: &'static str,
    pub reference: f64,
}

const fn sym(ticker: &'static str, name: &'static str, sector: &'static str, reference: f64) -> DemoSymbol {
    DemoSymbol { ticker, name, sector, reference }
}

/// The universe, in display order.
pub const SYMBOLS: &[DemoSymbol] = &[
    sym("AAPL", "Apple Inc.", "Technology", 228.50),
    sym("MSFT", "Microsoft Corporation", "Technology", 415.20),
    sym("NVDA", "NVIDIA Corporation", "Technology", 132.80),
    sym("GOOGL", "Alphabet Inc. Class A", "Communication Services", 171.40),
    sym("AMZN", "Amazon.com Inc.", "Consumer Discretionary", 186.90),
    sym("META", "Meta Platforms Inc.", "Communication Services", 563.10),
    sym("TSLA", "Tesla Inc.", "Consumer Discretionary", 248.30),
    sym("BRK.B", "Berkshire Hathaway Inc. Class B", "Financials", 452.70),
    sym("JPM", "JPMorgan Chase & Co.", "Financials", 214.60),
    sym("V", "Visa Inc.", "Financials", 281.40),
    sym("JNJ", "Johnson & Johnson", "Health Care", 158.20),
    sym("UNH", "UnitedHealth Group Inc.", "Health Care", 573.90),
    sym("XOM", "Exxon Mobil Corporation", "Energy", 118.70),
    sym("WMT", "Walmart Inc.", "Consumer Staples", 80.30),
    sym("PG", "Procter & Gamble Co.", "Consumer Staples", 169.80),
    sym("MA", "Mastercard Inc.", "Financials", 493.50),
    sym("HD", "Home Depot Inc.", "Consumer Discretionary", 398.10),
    sym("KO", "Coca-Cola Co.", "Consumer Staples", 69.40),
    sym("DIS", "Walt Disney Co.", "Communication Services", 95.60),
    sym("NFLX", "Netflix Inc.", "Communication Services", 701.20),
    sym("IBM", "International Business Machines", "Technology", 208.40),
    sym("INTC", "Intel Corporation", "Technology", 22.90),
];

/// Looks a ticker up, exactly (tickers are upper case).
pub fn find(ticker: &str) -> Option<DemoSymbol> {
    SYMBOLS.iter().find(|s| s.ticker == ticker).copied()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn universe_is_large_unique_and_priced() {
        assert!(SYMBOLS.len() >= 20);
        let unique: HashSet<_> = SYMBOLS.iter().map(|s| s.ticker).collect();
        assert_eq!(unique.len(), SYMBOLS.len(), "duplicate ticker");
        assert!(SYMBOLS.iter().all(|s| s.reference > 0.0 && !s.name.is_empty()));
        assert_eq!(find("NVDA").map(|s| s.name), Some("NVIDIA Corporation"));
        assert_eq!(find("nvda"), None);
    }
}
