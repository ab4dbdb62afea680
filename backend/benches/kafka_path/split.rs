//! Marquee split across processes on the broker: `ingest,driver`,
//! `receiver` and `gateway` (release build), sharing one data directory.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use marquee_shared::{Health, StageHealth};

pub const TOKEN: &str = "bench-operator-token";
const CLUSTER_SECRET: &str = "bench-cluster-secret-0123456789";

/// One `marquee serve --role ...` process, stopped when dropped.
pub struct Process {
    child: Child,
    pub url: String,
}

impl Process {
    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub async fn health(&self) -> anyhow::Result<Health> {
        // 503 while a stage is down still carries the body.
        Ok(reqwest::get(format!("{}/health", self.url)).await?.json().await?)
    }

    /// The stage named `name` in this process's `/health`.
    pub async fn stage(&self, name: &str) -> anyhow::Result<StageHealth> {
        let health = self.health().await?;
        health.stages.into_iter().find(|s| s.name == name).with_context(|| format!("no stage {name}"))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The three processes.
pub struct Split {
    pub driver: Process,
    pub receiver: Process,
    pub gateway: Process,
    _data: tempfile::TempDir,
}

impl Split {
    /// Starts them with topics `{prefix}.ticks` (and bars, alerts,
    /// heartbeats), each process given `extra` arguments too.
    pub fn start(brokers: &str, prefix: &str, extra: &[&str]) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let start = |roles: &str| -> anyhow::Result<Process> {
            let mut child = Command::new(env!("CARGO_BIN_EXE_marquee"))
                .args(["serve", "--role", roles, "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(data.path())
                .args(crate::support::kafka_args(brokers, prefix))
                .args(["--tick-interval-ms", "10", "--static-dir", "does-not-exist"])
                .args(extra)
                .env("MARQUEE_OPERATOR_TOKEN", TOKEN)
                .env("MARQUEE_CLUSTER_SECRET", CLUSTER_SECRET)
                .env_remove("ALPHAVANTAGE_API_KEY")
                .env("RUST_LOG", "warn")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .context("cannot start marquee")?;
            let stdout = child.stdout.take().context("stdout")?;
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(url) = line.strip_prefix("Marquee dashboard: ") {
                        let _ = tx.send(url.trim_end_matches('/').to_owned());
                    }
                }
            });
            let url = rx
                .recv_timeout(Duration::from_secs(60))
                .with_context(|| format!("{roles} printed no URL"))?;
            Ok(Process { child, url })
        };
        let driver = start("ingest,driver")?;
        let receiver = start("receiver")?;
        let gateway = start("gateway")?;
        Ok(Self { driver, receiver, gateway, _data: data })
    }

    /// Asks the driver for `speed` times its configured rate.
    pub async fn set_speed(&self, speed: f64) -> anyhow::Result<()> {
        let response = reqwest::Client::new()
            .put(format!("{}/api/v1/simulation/speed", self.driver.url))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({ "speed": speed }))
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "speed {speed}: {}", response.text().await?);
        Ok(())
    }
}
