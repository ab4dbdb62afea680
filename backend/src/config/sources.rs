//! Where live ticks come from: the simulation (the default), one or more
//! venues' trade feeds (`--source coinbase:BTC-USD,ETH-USD`), or both on
//! different symbols.

use clap::Args;

use super::ConfigError;
use crate::common::symbol::normalize;
use crate::sources::venues::{Venue, coinbase};

/// Symbols one feed streams at most.
pub const MAX_FEED_SYMBOLS: usize = 100;

/// Flags of `marquee serve` for the sources.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Where live ticks come from; repeat for several: `simulation` (the
    /// default), or a venue and its symbols, `coinbase:BTC-USD,ETH-USD`
    /// (Coinbase Exchange, no key needed).
    #[arg(long = "source", env = "MARQUEE_SOURCE", value_delimiter = ';')]
    pub sources: Vec<String>,
    /// Coinbase Exchange's WebSocket feed (tests point it at a local server).
    #[arg(long, env = "MARQUEE_COINBASE_URL", default_value = coinbase::URL)]
    pub coinbase_url: String,
}

/// One venue's feed: its symbols, as the venue names them and as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSource {
    pub venue: Venue,
    pub url: String,
    /// (the venue's symbol, the symbol Marquee shows).
    pub symbols: Vec<(String, String)>,
}

/// The checked sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcesConfig {
    /// The random walk over stored symbols (live symbols left out).
    pub simulation: bool,
    pub live: Vec<LiveSource>,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        Self { simulation: true, live: Vec::new() }
    }
}

impl SourcesConfig {
    /// Every symbol a live feed streams.
    pub fn live_symbols(&self) -> impl Iterator<Item = &str> {
        self.live.iter().flat_map(|source| source.symbols.iter().map(|(_, shown)| shown.as_str()))
    }
}

impl SourceArgs {
    pub fn to_config(&self) -> Result<SourcesConfig, ConfigError> {
        let refuse = |source: &str, why: String| ConfigError::Source(source.to_owned(), why);
        if self.sources.is_empty() {
            return Ok(SourcesConfig::default());
        }
        let mut config = SourcesConfig { simulation: false, live: Vec::new() };
        for raw in &self.sources {
            let source = raw.trim();
            if source.eq_ignore_ascii_case("simulation") {
                config.simulation = true;
                continue;
            }
            let Some((name, symbols)) = source.split_once(':') else {
                return Err(refuse(source, "use `simulation` or VENUE:SYMBOL,SYMBOL".into()));
            };
            let venue = Venue::parse(name).ok_or_else(|| {
                let known: Vec<&str> = Venue::ALL.iter().map(|v| v.as_str()).collect();
                refuse(source, format!("{name:?} is not a venue; known: {}", known.join(", ")))
            })?;
            let symbols = symbols
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    normalize(s).map(|shown| (venue_symbol(venue, s), shown)).map_err(|e| refuse(source, e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if symbols.is_empty() || symbols.len() > MAX_FEED_SYMBOLS {
                return Err(refuse(source, format!("name 1 to {MAX_FEED_SYMBOLS} symbols")));
            }
            let url = match venue {
                Venue::Coinbase => self.coinbase_url.clone(),
            };
            check_url(&url).map_err(|why| refuse(source, why))?;
            config.live.push(LiveSource { venue, url, symbols });
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = config.live_symbols().find(|s| !seen.insert(*s)) {
            return Err(refuse(twice, "two sources stream this symbol: each symbol has one".into()));
        }
        Ok(config)
    }
}

/// The symbol as the venue writes it.
fn venue_symbol(venue: Venue, raw: &str) -> String {
    match venue {
        // Products are upper case: BTC-USD.
        Venue::Coinbase => raw.to_ascii_uppercase(),
    }
}

fn check_url(url: &str) -> Result<(), String> {
    if url.starts_with("wss://") || url.starts_with("ws://") {
        Ok(())
    } else {
        Err(format!("the venue URL must start with wss:// or ws://, got {url:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(list: &[&str]) -> Result<SourcesConfig, ConfigError> {
        let args = SourceArgs {
            sources: list.iter().map(|s| s.to_string()).collect(),
            coinbase_url: coinbase::URL.into(),
        };
        args.to_config()
    }

    #[test]
    fn the_simulation_runs_unless_sources_are_named() {
        assert_eq!(sources(&[]).expect("default"), SourcesConfig::default());
        let live = sources(&["coinbase:btc-usd, ETH-USD"]).expect("valid");
        assert!(!live.simulation);
        assert_eq!(live.live[0].venue, Venue::Coinbase);
        assert_eq!(live.live[0].url, coinbase::URL);
        assert_eq!(live.live_symbols().collect::<Vec<_>>(), ["BTC-USD", "ETH-USD"]);
        let both = sources(&["simulation", "coinbase:BTC-USD"]).expect("valid");
        assert!(both.simulation && both.live.len() == 1);
    }

    #[test]
    fn a_bad_source_is_refused_saying_what_to_write() {
        for (bad, says) in [
            ("nasdaq:AAPL", "not a venue; known: coinbase"),
            ("coinbase", "VENUE:SYMBOL"),
            ("coinbase:", "1 to 100 symbols"),
            ("coinbase:BTC/USD", "is not a symbol"),
        ] {
            let err = sources(&[bad]).expect_err(bad).to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let twice = sources(&["coinbase:BTC-USD", "coinbase:btc-usd"]).expect_err("twice").to_string();
        assert!(twice.contains("one"), "{twice}");
        let args = SourceArgs { sources: vec!["coinbase:BTC-USD".into()], coinbase_url: "http://x".into() };
        assert!(args.to_config().expect_err("http").to_string().contains("wss://"));
    }
}
