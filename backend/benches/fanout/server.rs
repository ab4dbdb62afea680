//! A server process under test, on a free port, killed when dropped: a
//! `marquee serve`, or any program that prints its address first.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::Context;

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub pid: String,
    _data: tempfile::TempDir,
}

impl Server {
    /// `marquee serve` from `program`: seeded, no dashboard files, a fresh
    /// store, ticks every `interval_ms` per symbol, and `extra` flags.
    pub fn marquee(program: &Path, interval_ms: u64, extra: &[&str]) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let mut command = Command::new(program);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--static-dir", "/nonexistent", "--seed", "42"])
            .args(["--tick-interval-ms", &interval_ms.to_string()])
            .args(extra)
            .arg("--data-dir")
            .arg(data.path())
            .env_remove("ALPHAVANTAGE_API_KEY")
            .env_remove("MARQUEE_OPERATOR_TOKEN");
        Self::spawn(command, data)
    }

    /// Runs `command` and reads the address from its first line of output
    /// (`Marquee dashboard: http://ADDR/`, or `listening on ADDR`).
    pub fn spawn(mut command: Command, data: tempfile::TempDir) -> anyhow::Result<Self> {
        let mut child =
            command.env("RUST_LOG", "warn").stdout(Stdio::piped()).spawn().context("cannot start")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .trim_start_matches("Marquee dashboard: http://")
            .trim_start_matches("listening on ")
            .trim_end_matches('/')
            .parse()
            .with_context(|| format!("no address in {line:?}"))?;
        let pid = child.id().to_string();
        Ok(Self { child, addr, pid, _data: data })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}
