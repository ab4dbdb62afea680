//! The limits of the HTTP and WebSocket edge: how many connections, how long
//! a client may take, how much it may queue. Every one has a default that
//! is safe on a laptop and a flag to change it.

use std::time::Duration;

use clap::Args;

use super::ConfigError;

#[derive(Debug, Clone, Args)]
pub struct EdgeArgs {
    /// WebSocket clients served at once; beyond it a new one gets 503 (plain
    /// HTTP, `/health` and `/metrics` keep working). Lowered at start to fit
    /// the process's open-file limit.
    #[arg(long, env = "MARQUEE_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// WebSocket clients served at once from one IP address.
    #[arg(long, env = "MARQUEE_MAX_CONNECTIONS_PER_IP", default_value_t = 256)]
    pub max_connections_per_ip: usize,
    /// Bytes a WebSocket client may have queued before it is conflated (with
    /// `--client-queue`, whichever is reached first).
    #[arg(long, env = "MARQUEE_CLIENT_QUEUE_BYTES", default_value_t = 1024 * 1024)]
    pub client_queue_bytes: usize,
    /// Kernel send buffer of every accepted socket, in bytes (Linux doubles
    /// it for bookkeeping). A small buffer lets the server see a slow client
    /// within a second or two and conflate it, where Linux's autotuned buffer
    /// (up to 4 MiB) would hide seconds of stale ticks; 0 keeps the kernel's
    /// autotuning.
    #[arg(long, env = "MARQUEE_CLIENT_SEND_BUFFER", default_value_t = 256 * 1024)]
    pub client_send_buffer: usize,
    /// A WebSocket client whose socket accepts nothing for this long is closed
    /// (code 1008), e.g. `10s`, `1500ms`.
    #[arg(long, env = "MARQUEE_CLIENT_STALL_TIMEOUT", default_value = "10s", value_parser = duration)]
    pub client_stall_timeout: Duration,
    /// Symbols one WebSocket client may name in its subscriptions.
    #[arg(long, env = "MARQUEE_MAX_SUBSCRIPTIONS", default_value_t = 1_000)]
    pub max_subscriptions: usize,
    /// Time a client has to send a request's headers; also how long an idle
    /// keep-alive connection is kept open.
    #[arg(long, env = "MARQUEE_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = duration)]
    pub header_read_timeout: Duration,
    /// Time a request body may go without sending anything.
    #[arg(long, env = "MARQUEE_BODY_TIMEOUT", default_value = "30s", value_parser = duration)]
    pub body_timeout: Duration,
    /// On shutdown, how long requests in flight may take to finish, and how
    /// long ticks are still offered to a failing store or Kafka before they
    /// are spilled to the data directory (stored at the next start).
    #[arg(long, env = "MARQUEE_SHUTDOWN_GRACE", default_value = "5s", value_parser = duration)]
    pub shutdown_grace: Duration,
}

/// Validated edge limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeConfig {
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub client_queue_bytes: usize,
    /// `None`: the kernel autotunes.
    pub client_send_buffer: Option<usize>,
    pub client_stall_timeout: Duration,
    pub max_subscriptions: usize,
    pub header_read_timeout: Duration,
    pub body_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl Default for EdgeConfig {
    /// The command line's defaults.
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_connections_per_ip: 256,
            client_queue_bytes: 1024 * 1024,
            client_send_buffer: Some(256 * 1024),
            client_stall_timeout: Duration::from_secs(10),
            max_subscriptions: 1_000,
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

impl EdgeArgs {
    pub fn to_config(&self) -> Result<EdgeConfig, ConfigError> {
        let within = |name: &'static str, value: usize, max: usize| {
            if (1..=max).contains(&value) { Ok(value) } else { Err(ConfigError::Edge(name, value, max)) }
        };
        let timeout = |name: &'static str, value: Duration| {
            let ok = (Duration::from_millis(100)..=Duration::from_secs(3_600)).contains(&value);
            if ok { Ok(value) } else { Err(ConfigError::EdgeTimeout(name, value)) }
        };
        Ok(EdgeConfig {
            max_connections: within("--max-connections", self.max_connections, 1_000_000)?,
            max_connections_per_ip: within(
                "--max-connections-per-ip",
                self.max_connections_per_ip,
                1_000_000,
            )?,
            client_queue_bytes: within("--client-queue-bytes", self.client_queue_bytes, 1 << 30)?,
            client_send_buffer: match self.client_send_buffer {
                0 => None,
                bytes => Some(within("--client-send-buffer", bytes, 64 << 20)?),
            },
            client_stall_timeout: timeout("--client-stall-timeout", self.client_stall_timeout)?,
            max_subscriptions: within("--max-subscriptions", self.max_subscriptions, 1_000_000)?,
            header_read_timeout: timeout("--header-read-timeout", self.header_read_timeout)?,
            body_timeout: timeout("--body-timeout", self.body_timeout)?,
            shutdown_grace: timeout("--shutdown-grace", self.shutdown_grace)?,
        })
    }
}

/// A duration such as `10s`, `1500ms`, `2m` or `1m 30s`.
fn duration(raw: &str) -> Result<Duration, String> {
    let parsed: jiff::SignedDuration =
        raw.trim().parse().map_err(|_| format!("{raw:?} is not a duration: write e.g. 10s, 1500ms or 2m"))?;
    Duration::try_from(parsed).map_err(|_| format!("{raw:?} is negative"))
}

#[cfg(test)]
mod tests {
    use super::{EdgeArgs, EdgeConfig, duration};
    use clap::Parser;
    use std::time::Duration;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        edge: EdgeArgs,
    }

    fn edge(args: &[&str]) -> Result<EdgeConfig, String> {
        let cli = Cli::try_parse_from(std::iter::once("marquee").chain(args.iter().copied()))
            .map_err(|err| err.to_string())?;
        cli.edge.to_config().map_err(|err| err.to_string())
    }

    #[test]
    fn the_flags_defaults_are_the_documented_ones() {
        assert_eq!(edge(&[]), Ok(EdgeConfig::default()));
    }

    #[test]
    fn a_send_buffer_of_zero_leaves_it_to_the_kernel() {
        assert_eq!(edge(&["--client-send-buffer", "0"]).expect("0 is valid").client_send_buffer, None);
        assert_eq!(
            edge(&["--client-send-buffer", "65536"]).expect("64 KiB is valid").client_send_buffer,
            Some(65_536)
        );
        let err = edge(&["--client-send-buffer", "1000000000"]).expect_err("1 GB is over the cap");
        assert!(err.contains("--client-send-buffer"), "{err}");
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert!(duration("soon").is_err());
        assert!(duration("-5s").is_err());
    }
}
