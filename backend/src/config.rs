//! The command line and the one typed [`Config`].
//!
//! Flags fall back to `MARQUEE_*` environment variables. Nothing outside this
//! module reads the environment; everything downstream takes a validated
//! [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::demo_universe::{self, DemoSymbol};
use crate::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(name = "marquee", version, about = "Real-time market data pipeline and live dashboard")]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, env = "MARQUEE_LOG_FORMAT", value_enum, default_value_t, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every stage and serve the dashboard, REST API and WebSocket.
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (use port 0 for any free port).
    #[arg(long, env = "MARQUEE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory holding the trunk-built dashboard (index.html and its assets).
    #[arg(long, env = "MARQUEE_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,
    /// Milliseconds between two ticks of the same symbol.
    #[arg(long, env = "MARQUEE_TICK_INTERVAL_MS", default_value_t = 100)]
    pub tick_interval_ms: u64,
    /// Annualised volatility of the simulated prices (0.3 = 30 %).
    #[arg(long, env = "MARQUEE_VOLATILITY", default_value_t = 0.4)]
    pub volatility: f64,
    /// Simulated market seconds per wall-clock second; larger moves prices faster.
    #[arg(long, env = "MARQUEE_TIME_SCALE", default_value_t = 60.0)]
    pub time_scale: f64,
    /// Seed for the simulation; the same seed gives the same price paths.
    #[arg(long, env = "MARQUEE_SEED")]
    pub seed: Option<u64>,
    /// Tick batches a WebSocket client may fall behind before it is skipped
    /// ahead (told with a `lagged` message and a fresh snapshot).
    #[arg(long, env = "MARQUEE_CLIENT_QUEUE", default_value_t = 256)]
    pub client_queue: usize,
    /// Demo symbols to stream (comma separated); default: the whole demo universe.
    #[arg(long, env = "MARQUEE_SYMBOLS", value_delimiter = ',')]
    pub symbols: Vec<String>,
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("tick interval must be between 1 ms and 60000 ms, got {0} ms")]
    TickInterval(u64),
    #[error("volatility must be a number in (0, 5], got {0}")]
    Volatility(f64),
    #[error("time scale must be a number in (0, 100000], got {0}")]
    TimeScale(f64),
    #[error("client queue must hold between 1 and 65536 batches, got {0}")]
    ClientQueue(usize),
    #[error("unknown symbol {0:?}; the demo universe has: {1}")]
    UnknownSymbol(String, String),
}

/// Validated settings for `marquee serve`.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub static_dir: PathBuf,
    pub tick_interval: Duration,
    pub volatility: f64,
    pub time_scale: f64,
    pub seed: Option<u64>,
    pub client_queue: usize,
    pub symbols: Vec<DemoSymbol>,
}

impl Config {
    /// Validates the flags once, at start, with messages a user can act on.
    pub fn from_args(args: ServeArgs) -> Result<Self, ConfigError> {
        if !(1..=60_000).contains(&args.tick_interval_ms) {
            return Err(ConfigError::TickInterval(args.tick_interval_ms));
        }
        if !(args.volatility > 0.0 && args.volatility <= 5.0) {
            return Err(ConfigError::Volatility(args.volatility));
        }
        if !(args.time_scale > 0.0 && args.time_scale <= 100_000.0) {
            return Err(ConfigError::TimeScale(args.time_scale));
        }
        if !(1..=65_536).contains(&args.client_queue) {
            return Err(ConfigError::ClientQueue(args.client_queue));
        }
        let symbols = if args.symbols.is_empty() {
            demo_universe::SYMBOLS.to_vec()
        } else {
            args.symbols
                .iter()
                .map(|wanted| {
                    let wanted = wanted.trim().to_ascii_uppercase();
                    demo_universe::find(&wanted).ok_or_else(|| {
                        let known: Vec<_> = demo_universe::SYMBOLS.iter().map(|s| s.ticker).collect();
                        ConfigError::UnknownSymbol(wanted, known.join(","))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(Self {
            listen: args.listen,
            static_dir: args.static_dir,
            tick_interval: Duration::from_millis(args.tick_interval_ms),
            volatility: args.volatility,
            time_scale: args.time_scale,
            seed: args.seed,
            client_queue: args.client_queue,
            symbols,
        })
    }

    /// The defaults of `marquee serve`, listening on any free loopback port,
    /// with no flag or environment consulted. For tests and embedding.
    pub fn for_tests() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            static_dir: PathBuf::from("dist"),
            tick_interval: Duration::from_millis(100),
            volatility: 0.4,
            time_scale: 60.0,
            seed: None,
            client_queue: 256,
            symbols: demo_universe::SYMBOLS.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> ServeArgs {
        let mut argv = vec!["marquee", "serve"];
        argv.extend_from_slice(extra);
        match Cli::try_parse_from(argv).expect("flags parse").command {
            Command::Serve(args) => args,
        }
    }

    #[test]
    fn for_tests_matches_the_command_line_defaults() {
        let parsed = Config::from_args(args(&[])).expect("valid");
        let fixed = Config::for_tests();
        assert_eq!(parsed.tick_interval, fixed.tick_interval);
        assert_eq!(parsed.volatility, fixed.volatility);
        assert_eq!(parsed.time_scale, fixed.time_scale);
        assert_eq!(parsed.static_dir, fixed.static_dir);
        assert_eq!(parsed.client_queue, fixed.client_queue);
    }

    #[test]
    fn defaults_are_valid_and_stream_the_whole_universe() {
        let config = Config::from_args(args(&[])).expect("valid");
        assert_eq!(config.tick_interval, Duration::from_millis(100));
        assert_eq!(config.symbols.len(), demo_universe::SYMBOLS.len());
    }

    #[test]
    fn symbols_are_matched_case_insensitively_and_unknown_ones_refused() {
        let config = Config::from_args(args(&["--symbols", "aapl,MSFT"])).expect("valid");
        let tickers: Vec<_> = config.symbols.iter().map(|s| s.ticker).collect();
        assert_eq!(tickers, ["AAPL", "MSFT"]);

        let err = Config::from_args(args(&["--symbols", "AAPL,NOPE"])).expect_err("unknown");
        assert!(err.to_string().contains("\"NOPE\""), "{err}");
    }

    #[test]
    fn out_of_range_numbers_are_refused() {
        assert!(matches!(
            Config::from_args(args(&["--tick-interval-ms", "0"])),
            Err(ConfigError::TickInterval(0))
        ));
        assert!(matches!(Config::from_args(args(&["--volatility=-1"])), Err(ConfigError::Volatility(_))));
        assert!(matches!(Config::from_args(args(&["--volatility", "NaN"])), Err(ConfigError::Volatility(_))));
        assert!(matches!(Config::from_args(args(&["--time-scale", "0"])), Err(ConfigError::TimeScale(_))));
        assert!(matches!(
            Config::from_args(args(&["--client-queue", "0"])),
            Err(ConfigError::ClientQueue(0))
        ));
    }
}
