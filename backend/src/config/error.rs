//! Why a configuration was refused: every error names the flag and what it accepts.

use std::net::SocketAddr;
use std::time::Duration;

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
    #[error("--mongodb-url must start with mongodb:// or mongodb+srv://")]
    MongoUrl,
    #[error("this marquee was built without MongoDB support: rebuild with `cargo build --features mongo`")]
    MongoNotBuilt,
    #[error("this marquee was built without {0} support: rebuild with `cargo build --features {1}`")]
    NotBuilt(&'static str, &'static str),
    #[error("--role {0} runs only part of the pipeline: set {1} so its ticks reach the other parts")]
    SplitNeedsLinks(String, &'static str),
    #[error("--advertise-url must start with http:// or https://, got {0:?}")]
    AdvertiseUrl(String),
    #[error("listening on {0} with --role: set --advertise-url to an address other processes can reach")]
    AdvertiseNeeded(SocketAddr),
    /// An adapter's settings (Kafka, SNS, alert sinks, ...), refused by it.
    #[error("{0}")]
    Engine(Box<dyn std::error::Error + Send + Sync>),
    #[error("{0:?} is not a MongoDB database name: use 1 to 63 characters without / \\ . space \" $")]
    MongoDatabase(String),
    #[error("resume history must be between 1 and 1000000 ticks per symbol, got {0}")]
    ResumeHistory(usize),
    #[error("threshold must be between 1 and 10000 symbols, got {0}")]
    Threshold(u64),
    #[error("jump probability must be in [0, 1] and jump size in [0, 1], got {0} and {1}")]
    Jumps(f64, f64),
    #[error("buffer: capacity must be 1 to 10000000 ticks, batch 1 to capacity, age 1 to 60000 ms")]
    Buffer,
    #[error("Alpha Vantage settings: {0}")]
    AlphaVantage(String),
    #[error("{0} must be between 1 and {2}, got {1}")]
    Edge(&'static str, usize, usize),
    #[error("{0} must be between 100ms and 1h, got {1:?}")]
    EdgeTimeout(&'static str, Duration),
    #[error(
        "listening on {0}, reachable from the network, with no operator token: anyone who reaches the port \
         could stop the simulation or import data. Set MARQUEE_OPERATOR_TOKEN to a long random string, \
         listen on 127.0.0.1, or pass --insecure-open to run open anyway"
    )]
    OpenOnNetwork(SocketAddr),
    #[error(
        "--role {0} runs only part of the pipeline: set MARQUEE_CLUSTER_SECRET (the same secret of at least 16 characters in every process, e.g. `openssl rand -hex 32`) so the processes can tell each other's heartbeats and forwarded requests from forged ones"
    )]
    SplitNeedsSecret(String),
    #[error("MARQUEE_CLUSTER_SECRET must be at least 16 characters (e.g. `openssl rand -hex 32`)")]
    WeakClusterSecret,
    #[error("--allowed-origin: {0}")]
    AllowedOrigin(String),
    #[error("--source {0}: {1}")]
    Source(String, String),
    #[error("marquee replay: {0}")]
    Replay(String),
    #[error("unknown symbol {0:?}; the demo universe has: {1}")]
    UnknownSymbol(String, String),
}
