//! Where live ticks come from: the simulation (the default), one or more
//! venues' trade feeds (`--source coinbase:BTC-USD,ETH-USD`), or both on
//! different symbols.

use clap::Args;

use super::{ConfigError, Secrets};
use crate::common::symbol::normalize;
use crate::sources::venues::{Keys, Venue, alpaca, binance, coinbase, finnhub};

/// Symbols one feed streams at most.
pub const MAX_FEED_SYMBOLS: usize = 100;

/// Flags of `marquee serve` for the sources.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Where live ticks come from; repeat for several: `simulation` (the
    /// default), or a venue and its symbols: `coinbase:BTC-USD,ETH-USD` or
    /// `binance:BTCUSDT` (no key needed), `finnhub:AAPL,BINANCE:BTCUSDT`
    /// (FINNHUB_API_KEY), `alpaca:AAPL` (ALPACA_API_KEY_ID and
    /// ALPACA_API_SECRET_KEY).
    #[arg(long = "source", env = "MARQUEE_SOURCE", value_delimiter = ';')]
    pub sources: Vec<String>,
    /// Coinbase Exchange's WebSocket feed (tests point it at a local server).
    #[arg(long, env = "MARQUEE_COINBASE_URL", default_value = coinbase::URL)]
    pub coinbase_url: String,
    /// Binance's raw stream endpoint.
    #[arg(long, env = "MARQUEE_BINANCE_URL", default_value = binance::URL)]
    pub binance_url: String,
    /// Finnhub's trades WebSocket (the key is added from FINNHUB_API_KEY).
    #[arg(long, env = "MARQUEE_FINNHUB_URL", default_value = finnhub::URL)]
    pub finnhub_url: String,
    /// Alpaca's market data stream (`.../v2/test` for the test stream's FAKEPACA).
    #[arg(long, env = "MARQUEE_ALPACA_URL", default_value = alpaca::URL)]
    pub alpaca_url: String,
    /// A venue to use while a `--source` venue is down, and until it is back:
    /// the first `--failover` backs the first venue `--source`, its symbols
    /// paired in order (`--source coinbase:BTC-USD --failover binance:BTCUSDT`).
    #[arg(long = "failover", env = "MARQUEE_FAILOVER", value_delimiter = ';')]
    pub failovers: Vec<String>,
}

/// One venue's feed: its symbols, as the venue names them and as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSource {
    pub venue: Venue,
    pub url: String,
    /// (the venue's symbol, the symbol Marquee shows).
    pub symbols: Vec<(String, String)>,
    /// From the environment; `Debug` shows neither.
    pub keys: Keys,
    /// The venue used while this one is down (`--failover`): its symbols
    /// paired in order with these, shown under these ones' names.
    pub failover: Option<Box<LiveSource>>,
}

/// The checked sources.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcesConfig {
    /// The random walk over stored symbols (live symbols left out).
    pub simulation: bool,
    pub live: Vec<LiveSource>,
    /// A stored session played again (`marquee replay`), instead of the others.
    pub replay: Option<ReplaySpec>,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        Self { simulation: true, live: Vec::new(), replay: None }
    }
}

/// Which stored ticks a replay plays, and how fast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplaySpec {
    /// Inclusive bounds on the event time, ns since the epoch.
    pub from: i64,
    pub to: i64,
    /// 10: ten times as fast as recorded.
    pub speed: f64,
}

/// Flags of `marquee replay` besides those of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The session's start: a date (2026-12-07), an RFC 3339 time or ns since the epoch.
    #[arg(long)]
    pub from: String,
    /// Its end, the same way (inclusive).
    #[arg(long)]
    pub to: String,
    /// How much faster than recorded (0.01 to 10000); the spacing between ticks is kept, divided by it.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
}

impl ReplayArgs {
    pub fn to_spec(&self) -> Result<ReplaySpec, ConfigError> {
        ReplaySpec::parse(&self.from, &self.to, self.speed).map_err(ConfigError::Replay)
    }
}

impl ReplaySpec {
    /// A window and speed as people write them (`marquee replay`'s flags,
    /// the dashboard's replay control), checked.
    pub fn parse(from: &str, to: &str, speed: f64) -> Result<Self, String> {
        let (from_ns, to_ns) = (time(from)?, time(to)?);
        if from_ns > to_ns {
            return Err(format!("the start {from} is after the end {to}"));
        }
        if !(speed.is_finite() && (0.01..=10_000.0).contains(&speed)) {
            return Err(format!("the speed must be from 0.01 to 10000, got {speed}"));
        }
        Ok(Self { from: from_ns, to: to_ns, speed })
    }
}

/// A date (UTC midnight), an RFC 3339 time, or ns since the epoch.
fn time(raw: &str) -> Result<i64, String> {
    crate::common::time::parse_instant(raw).ok_or_else(|| {
        format!("{:?} is not a date (2026-12-07), an RFC 3339 time or ns since the epoch", raw.trim())
    })
}

impl SourcesConfig {
    /// Every symbol a live feed streams.
    pub fn live_symbols(&self) -> impl Iterator<Item = &str> {
        self.live.iter().flat_map(|source| source.symbols.iter().map(|(_, shown)| shown.as_str()))
    }
}

impl SourceArgs {
    pub fn to_config(&self, secrets: &Secrets) -> Result<SourcesConfig, ConfigError> {
        let refuse = |source: &str, why: String| ConfigError::Source(source.to_owned(), why);
        if self.sources.is_empty() {
            return Ok(SourcesConfig::default());
        }
        let mut config = SourcesConfig { simulation: false, live: Vec::new(), replay: None };
        for raw in &self.sources {
            let source = raw.trim();
            if source.eq_ignore_ascii_case("simulation") {
                config.simulation = true;
                continue;
            }
            config.live.push(self.venue_source(source, secrets).map_err(|why| refuse(source, why))?);
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = config.live_symbols().find(|s| !seen.insert(*s)) {
            return Err(refuse(twice, "two sources stream this symbol: each symbol has one".into()));
        }
        if self.failovers.len() > config.live.len() {
            let extra = &self.failovers[config.live.len()];
            return Err(refuse(
                extra,
                "each --failover backs the venue --source in the same place: add one".into(),
            ));
        }
        for (raw, primary) in self.failovers.iter().zip(&mut config.live) {
            let source = raw.trim();
            let backup = self.venue_source(source, secrets).map_err(|why| refuse(source, why))?;
            if backup.symbols.len() != primary.symbols.len() {
                let why = format!(
                    "names {} symbols for the {} of {}: one for each, in the same order",
                    backup.symbols.len(),
                    primary.symbols.len(),
                    primary.venue.as_str()
                );
                return Err(refuse(source, why));
            }
            // The backup's trades are shown under the primary's symbols.
            let symbols = backup
                .symbols
                .iter()
                .zip(&primary.symbols)
                .map(|((venue, _), (_, shown))| (venue.clone(), shown.clone()));
            let symbols = symbols.collect();
            primary.failover = Some(Box::new(LiveSource { symbols, ..backup }));
        }
        Ok(config)
    }

    /// `VENUE:SYMBOL,SYMBOL`, checked, with its URL and keys.
    fn venue_source(&self, source: &str, secrets: &Secrets) -> Result<LiveSource, String> {
        let Some((name, symbols)) = source.split_once(':') else {
            return Err("use `simulation` or VENUE:SYMBOL,SYMBOL".into());
        };
        let venue = Venue::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Venue::ALL.iter().map(|v| v.as_str()).collect();
            format!("{name:?} is not a venue; known: {}", known.join(", "))
        })?;
        let symbols = symbols
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            // Every venue writes its symbols in its trades in upper case
            // (Binance's stream names are lower case, made so by its protocol).
            .map(|s| normalize(s).map(|shown| (s.to_ascii_uppercase(), shown)))
            .collect::<Result<Vec<_>, _>>()?;
        if symbols.is_empty() || symbols.len() > MAX_FEED_SYMBOLS {
            return Err(format!("name 1 to {MAX_FEED_SYMBOLS} symbols"));
        }
        let url = match venue {
            Venue::Coinbase => &self.coinbase_url,
            Venue::Binance => &self.binance_url,
            Venue::Finnhub => &self.finnhub_url,
            Venue::Alpaca => &self.alpaca_url,
        };
        check_url(url)?;
        let keys = keys(venue, secrets)?;
        Ok(LiveSource { venue, url: url.clone(), symbols, keys, failover: None })
    }
}

/// The venue's credentials, which must all be set.
fn keys(venue: Venue, secrets: &Secrets) -> Result<Keys, String> {
    let keys = match venue {
        Venue::Coinbase | Venue::Binance => return Ok(Keys::default()),
        Venue::Finnhub => Keys { key: secrets.finnhub_api_key.clone(), secret: None },
        Venue::Alpaca => {
            Keys { key: secrets.alpaca_key_id.clone(), secret: secrets.alpaca_secret_key.clone() }
        }
    };
    let missing = keys.key.is_none() || (venue == Venue::Alpaca && keys.secret.is_none());
    if missing {
        return Err(format!("set {} in the environment (keys are never taken as flags)", venue.key_hint()));
    }
    Ok(keys)
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

    fn args(list: &[&str]) -> SourceArgs {
        SourceArgs {
            sources: list.iter().map(|s| s.to_string()).collect(),
            coinbase_url: coinbase::URL.into(),
            binance_url: binance::URL.into(),
            finnhub_url: finnhub::URL.into(),
            alpaca_url: alpaca::URL.into(),
            failovers: Vec::new(),
        }
    }

    fn sources(list: &[&str]) -> Result<SourcesConfig, ConfigError> {
        args(list).to_config(&Secrets::default())
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
            ("nasdaq:AAPL", "not a venue; known: coinbase, binance, finnhub, alpaca"),
            ("finnhub:AAPL", "set FINNHUB_API_KEY in the environment"),
            ("alpaca:AAPL", "set ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY"),
            ("coinbase", "VENUE:SYMBOL"),
            ("coinbase:", "1 to 100 symbols"),
            ("coinbase:BTC/USD", "is not a symbol"),
        ] {
            let err = sources(&[bad]).expect_err(bad).to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let twice = sources(&["coinbase:BTC-USD", "coinbase:btc-usd"]).expect_err("twice").to_string();
        assert!(twice.contains("one"), "{twice}");
        let http = SourceArgs { coinbase_url: "http://x".into(), ..args(&["coinbase:BTC-USD"]) };
        assert!(http.to_config(&Secrets::default()).expect_err("http").to_string().contains("wss://"));
    }

    #[test]
    fn a_failover_backs_the_venue_source_in_its_place_symbol_for_symbol() {
        let with = |failovers: &[&str]| SourceArgs {
            failovers: failovers.iter().map(|s| s.to_string()).collect(),
            ..args(&["simulation", "coinbase:BTC-USD,ETH-USD"])
        };
        let config = with(&["binance:btcusdt,ethusdt"]).to_config(&Secrets::default()).expect("valid");
        let backup = config.live[0].failover.as_deref().expect("a failover");
        assert_eq!(backup.venue, Venue::Binance);
        assert_eq!(
            backup.symbols,
            [("BTCUSDT".into(), "BTC-USD".into()), ("ETHUSDT".into(), "ETH-USD".into())]
        );
        assert_eq!(
            config.live_symbols().collect::<Vec<_>>(),
            ["BTC-USD", "ETH-USD"],
            "shown under the primary's names"
        );
        let short = with(&["binance:BTCUSDT"]).to_config(&Secrets::default()).expect_err("short").to_string();
        assert!(short.contains("names 1 symbols for the 2 of coinbase"), "{short}");
        let extra = with(&["binance:BTCUSDT,ETHUSDT", "binance:X"]).to_config(&Secrets::default());
        assert!(extra.expect_err("extra").to_string().contains("add one"));
    }

    #[test]
    fn a_replay_takes_a_window_and_a_speed() {
        let args = |from: &str, to: &str, speed: f64| ReplayArgs { from: from.into(), to: to.into(), speed };
        let spec = args("2026-12-07", "2026-12-07T10:00:00Z", 10.0).to_spec().expect("valid");
        assert_eq!(
            (spec.from, spec.to, spec.speed),
            (1_796_601_600_000_000_000, 1_796_637_600_000_000_000, 10.0)
        );
        assert_eq!(args("5", "7", 1.0).to_spec().expect("ns").from, 5);
        for (bad, says) in [
            (args("2026-12-08", "2026-12-07", 1.0), "is after"),
            (args("2026-12-07", "2026-12-08", 0.0), "the speed must be"),
            (args("yesterday", "2026-12-08", 1.0), "is not a date"),
        ] {
            let err = bad.to_spec().expect_err(says).to_string();
            assert!(err.contains(says), "{err}");
        }
    }

    #[test]
    fn keyed_venues_take_their_keys_from_the_environment() {
        use crate::config::Secret;
        let secrets = Secrets {
            finnhub_api_key: Some(Secret::new("fh-key")),
            alpaca_key_id: Some(Secret::new("ak-id")),
            alpaca_secret_key: Some(Secret::new("ak-secret")),
            ..Secrets::default()
        };
        let config = args(&["finnhub:aapl,binance:btcusdt", "alpaca:FAKEPACA", "binance:ethusdt"])
            .to_config(&secrets)
            .expect("valid");
        let finnhub = &config.live[0];
        assert_eq!(
            finnhub.symbols,
            [("AAPL".into(), "AAPL".into()), ("BINANCE:BTCUSDT".into(), "BINANCE:BTCUSDT".into())]
        );
        assert_eq!(finnhub.keys.key, Some(Secret::new("fh-key")));
        assert_eq!(
            (config.live[1].url.as_str(), config.live[1].keys.secret.clone()),
            (alpaca::URL, Some(Secret::new("ak-secret")))
        );
        assert_eq!(config.live[2].symbols[0].0, "ETHUSDT");
        assert!(!format!("{config:?}").contains("fh-key"), "Debug hides the keys");
    }
}
