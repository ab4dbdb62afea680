//! What the integration tests and the benches share: ports, polling, the
//! Kafka flags of a split process, the broker stand-in and an SNS client.
//! Each test binary declares this module (`mod support;`, or by path from
//! `api/` and the benches) and uses what it needs.
#![allow(dead_code, reason = "each test binary uses a part of the shared helpers")]

use std::future::Future;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A TCP port nothing listens on now (the OS's pick, released at once).
pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a probe");
    probe.local_addr().expect("the probe's address").port()
}

/// Polls `check` every 250 ms until it gives a value; panics with its last
/// complaint after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if tokio::time::Instant::now() >= deadline => {
                panic!("{what}: not within {} s; last: {last}", timeout.as_secs())
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// The Kafka flags of a `marquee serve` on `brokers` whose topics and
/// receiver group are named after `prefix` (`PREFIX.ticks`, ...).
pub fn kafka_args(brokers: &str, prefix: &str) -> Vec<String> {
    let mut args = vec!["--kafka-brokers".to_owned(), brokers.to_owned()];
    for topic in ["ticks", "bars", "alerts", "heartbeats"] {
        args.extend([format!("--kafka-{topic}-topic"), format!("{prefix}.{topic}")]);
    }
    args.extend(["--kafka-receiver-group".to_owned(), format!("{prefix}-receivers")]);
    // A receiver that is killed gives its partitions up within seconds.
    args.extend(["--kafka-consumer-options".to_owned(), "max.poll.interval.ms=6000".to_owned()]);
    args
}

/// Tansu (the Kafka-protocol stand-in) listening on `address`, its SQLite
/// storage in `dir`, quiet; spawn it.
pub fn tansu(program: impl AsRef<std::ffi::OsStr>, address: &str, dir: &Path) -> Command {
    let url = format!("tcp://{address}");
    let mut command = Command::new(program);
    command
        .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
        .args(["--storage-engine", "sqlite://tansu.db"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// An SNS client for the emulator at `endpoint` (test credentials).
#[cfg(feature = "sns")]
pub fn sns_client(endpoint: &str) -> aws_sdk_sns::Client {
    use aws_sdk_sns::config::{BehaviorVersion, Credentials, Region};
    aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::Config::builder()
            .http_client(marquee::sns::https_client())
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(endpoint)
            .build(),
    )
}
