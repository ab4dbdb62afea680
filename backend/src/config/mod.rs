//! The command line and the one typed [`Config`].
//!
//! Flags fall back to `MARQUEE_*` environment variables. Nothing outside this
//! module reads the environment; everything downstream takes a validated
//! [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

mod alphavantage;
mod cluster;
mod edge;
mod error;
mod secrets;
mod sources;
mod store;

pub use alphavantage::{AlphaVantageArgs, AlphaVantageConfig};
pub use cluster::{ClusterArgs, ClusterConfig, Role, Roles};
pub use edge::{EdgeArgs, EdgeConfig};
pub use error::ConfigError;
pub use secrets::{Secret, Secrets};
pub use sources::{LiveSource, MAX_FEED_SYMBOLS, ReplayArgs, ReplaySpec, SourceArgs, SourcesConfig};
pub use store::{MongoConfig, RetentionArgs, StoreArgs};

use crate::cluster::cluster_key::ClusterKey;
use crate::common::telemetry::LogFormat;
use crate::pipeline::wiring::engines::Engines;
use crate::receiver::buffer::BufferLimits;
use crate::sources::demo_universe::{self, DemoSymbol};

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
    Serve(Box<ServeArgs>),
    /// Fetch daily history and company data from Alpha Vantage into the store.
    Fetch(FetchArgs),
    /// Import daily bars (date,open,high,low,close,volume) from a CSV file into the store.
    Import(ImportArgs),
    /// Serve, playing a stored session again instead of the simulation or
    /// a feed: its ticks through the same pipeline at `--speed` times the
    /// recorded pace, marked "Replay".
    Replay(Box<ReplayCommand>),
}

/// `marquee replay`: the session and the usual `serve` flags.
#[derive(Debug, Clone, Args)]
pub struct ReplayCommand {
    #[command(flatten)]
    pub replay: ReplayArgs,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    /// Symbols to fetch (1 to 50).
    #[arg(required = true, num_args = 1..=50)]
    pub symbols: Vec<String>,
    /// Fetch the full history instead of the latest 100 days.
    #[arg(long)]
    pub full: bool,
    /// Also fetch intraday bars of this size: 1min, 5min, 15min, 30min or 60min.
    #[arg(long)]
    pub intraday: Option<String>,
    /// Replace a symbol's daily bars from another source (a CSV import);
    /// demo (synthetic) bars are always replaced.
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub alphavantage: AlphaVantageArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The CSV file.
    pub file: PathBuf,
    /// The symbol the bars belong to.
    #[arg(long)]
    pub symbol: String,
    /// Replace the symbol's daily bars from another source (Alpha Vantage);
    /// demo (synthetic) bars are always replaced.
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub store: StoreArgs,
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
    /// Messages a WebSocket client may fall behind before it is conflated to
    /// the latest value per symbol (told with a `lagged` message and a fresh snapshot).
    #[arg(long, env = "MARQUEE_CLIENT_QUEUE", default_value_t = 256)]
    pub client_queue: usize,
    /// A web origin (`https://ops.example.com`) whose pages may use the
    /// operator routes and `/ws` besides this server's own dashboard
    /// (repeatable, or comma-separated in the environment).
    #[arg(long = "allowed-origin", env = "MARQUEE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Listen on a non-loopback address with no MARQUEE_OPERATOR_TOKEN, so
    /// that anyone who reaches the port may stop the simulation or import
    /// data. Without it such a start is refused.
    #[arg(long, env = "MARQUEE_INSECURE_OPEN")]
    pub insecure_open: bool,
    /// Recent ticks held per symbol to replay to clients that resume after a reconnect.
    #[arg(long, env = "MARQUEE_RESUME_HISTORY", default_value_t = 3_000)]
    pub resume_history: usize,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// Ticks the receiver holds before it stops reading (backpressure).
    #[arg(long, env = "MARQUEE_BUFFER_CAPACITY", default_value_t = 10_000)]
    pub buffer_capacity: usize,
    /// Ticks the receiver writes to the store in one batch.
    #[arg(long, env = "MARQUEE_FLUSH_BATCH", default_value_t = 500)]
    pub flush_batch: usize,
    /// Milliseconds a tick may wait in the receiver's buffer before it is written.
    #[arg(long, env = "MARQUEE_FLUSH_AGE_MS", default_value_t = 250)]
    pub flush_age_ms: u64,
    /// Distinct stored symbols needed before the simulation starts by itself.
    #[arg(long, env = "MARQUEE_THRESHOLD", default_value_t = 5)]
    pub threshold: u64,
    /// Chance per tick and symbol of a price jump (news); 0 turns jumps off.
    #[arg(long, env = "MARQUEE_JUMP_PROBABILITY", default_value_t = 0.0005)]
    pub jump_probability: f64,
    /// Typical size of a jump, as a log return (0.01 is about 1 %).
    #[arg(long, env = "MARQUEE_JUMP_SIZE", default_value_t = 0.01)]
    pub jump_size: f64,
    /// Load the demo universe: `auto` loads it when no Alpha Vantage key is set.
    #[arg(long, env = "MARQUEE_DEMO", value_enum, default_value_t = DemoMode::Auto)]
    pub demo: DemoMode,
    #[command(flatten)]
    pub alphavantage: AlphaVantageArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub edge: EdgeArgs,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub notify: crate::notify::NotifyArgs,
    /// Demo symbols to load (comma separated); default: the whole demo universe.
    #[arg(long, env = "MARQUEE_SYMBOLS", value_delimiter = ',')]
    pub symbols: Vec<String>,
}

/// Whether the synthetic demo universe is loaded at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoMode {
    /// Only when no Alpha Vantage API key is configured.
    Auto,
    On,
    Off,
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
    /// Origins allowed besides the server itself, validated, in lower case.
    pub allowed_origins: Vec<String>,
    pub resume_history: usize,
    pub buffer: BufferLimits,
    pub data_dir: PathBuf,
    /// MongoDB instead of the embedded store in `data_dir`.
    pub mongodb: Option<MongoConfig>,
    /// Ticks older than this are pruned.
    pub tick_retention: Duration,
    pub threshold: u64,
    pub jump_probability: f64,
    pub jump_size: f64,
    /// Load the synthetic demo universe at start.
    pub load_demo: bool,
    /// Demo symbols to load.
    pub symbols: Vec<DemoSymbol>,
    pub alphavantage: AlphaVantageConfig,
    /// Which roles run here, and the engines between processes.
    pub cluster: ClusterConfig,
    /// Connection, queue and time limits of the HTTP and WebSocket edge.
    pub edge: EdgeConfig,
    /// The simulation and the venues' feeds.
    pub sources: SourcesConfig,
    /// Where alerts are delivered besides the dashboard.
    pub notify: crate::notify::NotifyConfig,
    pub secrets: Secrets,
}

impl Config {
    /// Validates the flags once, at start, with messages a user can act on.
    pub fn from_args(args: ServeArgs) -> Result<Self, ConfigError> {
        Self::from_parts(args, Secrets::from_env())
    }

    /// `marquee replay`: the serve flags, with the replay as the one source.
    pub fn for_replay(command: ReplayCommand) -> Result<Self, ConfigError> {
        let replay = command.replay.to_spec()?;
        let mut config = Self::from_args(command.serve)?;
        config.sources = SourcesConfig { simulation: false, live: Vec::new(), replay: Some(replay) };
        Ok(config)
    }

    /// [`Config::from_args`] with the secrets given rather than read.
    pub fn from_parts(args: ServeArgs, secrets: Secrets) -> Result<Self, ConfigError> {
        if !args.listen.ip().is_loopback() && secrets.operator_token.is_none() && !args.insecure_open {
            return Err(ConfigError::OpenOnNetwork(args.listen));
        }
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
        if !(1..=1_000_000).contains(&args.resume_history) {
            return Err(ConfigError::ResumeHistory(args.resume_history));
        }
        if !(1..=10_000).contains(&args.threshold) {
            return Err(ConfigError::Threshold(args.threshold));
        }
        if !((0.0..=1.0).contains(&args.jump_probability) && (0.0..=1.0).contains(&args.jump_size)) {
            return Err(ConfigError::Jumps(args.jump_probability, args.jump_size));
        }
        let alphavantage = args.alphavantage.to_config()?;
        if !(1..=10_000_000).contains(&args.buffer_capacity)
            || !(1..=args.buffer_capacity).contains(&args.flush_batch)
            || !(1..=60_000).contains(&args.flush_age_ms)
        {
            return Err(ConfigError::Buffer);
        }
        let buffer = BufferLimits {
            capacity: args.buffer_capacity,
            batch: args.flush_batch,
            max_age: Duration::from_millis(args.flush_age_ms),
        };
        let load_demo = match args.demo {
            DemoMode::Auto => secrets.alphavantage_api_key.is_none(),
            DemoMode::On => true,
            DemoMode::Off => false,
        };
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
            allowed_origins: args
                .allowed_origins
                .iter()
                .filter(|origin| !origin.trim().is_empty())
                .map(|origin| {
                    crate::gateway::origin::parse_origin(origin).map_err(ConfigError::AllowedOrigin)
                })
                .collect::<Result<_, _>>()?,
            resume_history: args.resume_history,
            buffer,
            mongodb: args.store.mongodb()?,
            data_dir: args.store.data_dir,
            tick_retention: args.retention.tick_retention,
            threshold: args.threshold,
            jump_probability: args.jump_probability,
            jump_size: args.jump_size,
            load_demo,
            symbols,
            alphavantage,
            cluster: cluster(&args.cluster, args.listen, &secrets)?,
            edge: args.edge.to_config()?,
            sources: args.sources.to_config(&secrets)?,
            notify: args
                .notify
                .to_config(args.listen, &|var| std::env::var(var).ok())
                .map_err(|err| ConfigError::Engine(Box::new(err)))?,
            secrets,
        })
    }

    /// The defaults of `marquee serve`, listening on any free loopback port,
    /// storing in `data_dir`, with no flag or environment consulted.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            static_dir: PathBuf::from("dist"),
            tick_interval: Duration::from_millis(100),
            volatility: 0.4,
            time_scale: 60.0,
            seed: None,
            client_queue: 256,
            allowed_origins: Vec::new(),
            resume_history: 3_000,
            buffer: BufferLimits { capacity: 10_000, batch: 500, max_age: Duration::from_millis(250) },
            data_dir: data_dir.into(),
            mongodb: None,
            tick_retention: Duration::from_secs(7 * 86_400),
            threshold: 5,
            jump_probability: 0.0005,
            jump_size: 0.01,
            load_demo: true,
            symbols: demo_universe::SYMBOLS.to_vec(),
            alphavantage: AlphaVantageConfig::default(),
            cluster: ClusterConfig {
                roles: Roles::all(),
                advertise_url: None,
                engines: Engines::default(),
                key: None,
            },
            edge: EdgeConfig::default(),
            sources: SourcesConfig::default(),
            notify: crate::notify::NotifyConfig::default(),
            secrets: Secrets::default(),
        }
    }
}

/// The cluster settings; a process of a split deployment must be reachable
/// at the address it advertises (0.0.0.0 is not an address to reach), and
/// share a secret with the others.
fn cluster(args: &ClusterArgs, listen: SocketAddr, secrets: &Secrets) -> Result<ClusterConfig, ConfigError> {
    let mut cluster = args.to_config()?;
    if !cluster.roles.is_all() && cluster.advertise_url.is_none() && listen.ip().is_unspecified() {
        return Err(ConfigError::AdvertiseNeeded(listen));
    }
    cluster.key = match &secrets.cluster_secret {
        Some(secret) => Some(ClusterKey::new(secret).ok_or(ConfigError::WeakClusterSecret)?),
        None if !cluster.roles.is_all() => {
            return Err(ConfigError::SplitNeedsSecret(cluster.roles.names().join(",")));
        }
        None => None,
    };
    Ok(cluster)
}

#[cfg(test)]
mod tests;
