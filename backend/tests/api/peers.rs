//! Real servers for the alert sinks to deliver to, in Python
//! (`backend/tests/peers/`): a webhook receiver that checks signatures with
//! the standardwebhooks package, and aiosmtpd with STARTTLS. Each records
//! what it received as JSON lines; dropping a peer stops it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

pub struct Peer {
    pub port: u16,
    child: Child,
    dir: TempDir,
}

impl Peer {
    /// Starts `script`; `args` are its flags besides the port and output
    /// file, given the peer's own directory.
    fn start(script: &str, args: impl FnOnce(&std::path::Path) -> Vec<String>) -> Self {
        let python = std::env::var("MARQUEE_TEST_PEERS_PYTHON").expect(
            "MARQUEE_TEST_PEERS_PYTHON: a Python with standardwebhooks, aiosmtpd and trustme (scripts/test sets it up)",
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let port = crate::support::free_port();
        let script = format!("{}/tests/peers/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new(python)
            .arg(&script)
            .args(["--port", &port.to_string(), "--out"])
            .arg(dir.path().join("received.jsonl"))
            .args(args(dir.path()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout).read_line(&mut line).expect("read");
        assert_eq!(line.trim(), "READY", "{script} did not start");
        Self { port, child, dir }
    }

    /// A webhook receiver; `secret` to verify signatures, `statuses` to
    /// answer in turn (the last repeats), `retry_after` with a non-200.
    pub fn webhook(secret: Option<&str>, statuses: &str, retry_after: Option<u64>) -> Self {
        let mut args = vec!["--statuses".to_owned(), statuses.to_owned()];
        if let Some(secret) = secret {
            args.extend(["--secret".to_owned(), secret.to_owned()]);
        }
        if let Some(wait) = retry_after {
            args.extend(["--retry-after".to_owned(), wait.to_string()]);
        }
        Self::start("webhook_sink.py", |_| args)
    }

    /// An SMTP server requiring STARTTLS, then AUTH as `alerts` / `password`.
    pub fn smtp(password: &str) -> Self {
        Self::start("smtp_sink.py", |dir| {
            let ca = dir.join("ca.pem").display().to_string();
            vec!["--ca-out".to_owned(), ca, "--password".to_owned(), password.to_owned()]
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// The SMTP peer's CA (PEM).
    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// What it received so far, in order.
    pub fn received(&self) -> Vec<serde_json::Value> {
        match std::fs::read_to_string(self.dir.path().join("received.jsonl")) {
            Ok(text) => text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
