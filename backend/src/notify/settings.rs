//! Alert delivery's settings: `--alerts-config FILE`, a TOML file of sinks
//! and their rules. Secrets never go in the file: it names the environment
//! variables that hold them (a Slack webhook URL, a webhook's URL and
//! signing secret, an SMTP password), read once at start.
//!
//! ```toml
//! dashboard_url = "https://marquee.example.com/"   # the link in every message
//!
//! [[sink]]
//! name = "desk"
//! type = "slack"                     # its URL from MARQUEE_SLACK_WEBHOOK_URL (url_env)
//! min_severity = "critical"          # info, warning (the default) or critical
//! symbols = ["AAPL", "MSFT"]         # default: every symbol
//! kinds = ["price_jump"]             # default: every kind
//! cooldown = "5m"                    # per symbol and kind (default 5m)
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use lettre::message::Mailbox;
use marquee_shared::{AlertKind, Severity};
use serde::Deserialize;

use super::email::{Email, SmtpSettings};
use super::retry::RetryPolicy;
use super::rules::Rules;
use super::sink::Transport;
use super::webhook::SigningKey;
use crate::config::Secret;

/// Flags of `marquee serve` for alert delivery.
#[derive(Debug, Clone, Default, Args)]
pub struct NotifyArgs {
    /// Deliver alerts to Slack, webhooks or email: a TOML file of sinks and
    /// their rules (README, "Alert delivery"); secrets stay in the environment.
    #[arg(long, env = "MARQUEE_ALERTS_CONFIG")]
    pub alerts_config: Option<PathBuf>,
}

/// The sinks, ready, and how they deliver.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub sinks: Vec<SinkConfig>,
    /// The link in every message.
    pub dashboard: String,
    pub policy: RetryPolicy,
    /// Alerts waiting per sink at most.
    pub queue: usize,
    /// One attempt's time limit.
    pub timeout: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            sinks: Vec::new(),
            dashboard: String::new(),
            policy: RetryPolicy::default(),
            queue: 1_000,
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SinkConfig {
    pub name: String,
    pub rules: Rules,
    pub transport: Transport,
}

/// Why the alerts config was refused.
#[derive(Debug, thiserror::Error)]
#[error("--alerts-config {path}: {why}")]
pub struct NotifySettingsError {
    pub path: String,
    pub why: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    dashboard_url: Option<String>,
    #[serde(default)]
    delivery: Delivery,
    #[serde(default)]
    sink: Vec<SinkFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Delivery {
    /// Attempts in all (default 5).
    attempts: Option<u32>,
    backoff_first: Option<String>,
    backoff_max: Option<String>,
    queue: Option<usize>,
    timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SinkFile {
    name: String,
    #[serde(rename = "type")]
    kind: Kind,
    min_severity: Option<Severity>,
    symbols: Option<Vec<String>>,
    kinds: Option<Vec<AlertKind>>,
    cooldown: Option<String>,
    /// Slack and webhook: the variable holding the URL.
    url_env: Option<String>,
    /// Webhook: the variable holding the `whsec_...` signing secret.
    secret_env: Option<String>,
    /// Email.
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    /// `starttls` (the default) or `none` (a relay on this machine only).
    tls: Option<String>,
    ca_file: Option<PathBuf>,
    username: Option<String>,
    password_env: Option<String>,
    from: Option<String>,
    to: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Slack,
    Webhook,
    Email,
}

impl NotifyArgs {
    /// Reads and checks the file; secrets from `env`. Without a file there
    /// are no sinks. `listen` makes the default dashboard link.
    pub fn to_config(
        &self,
        listen: std::net::SocketAddr,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<NotifyConfig, NotifySettingsError> {
        let Some(path) = &self.alerts_config else { return Ok(NotifyConfig::default()) };
        let refuse = |why: String| NotifySettingsError { path: path.display().to_string(), why };
        let text = std::fs::read_to_string(path).map_err(|e| refuse(format!("cannot read it: {e}")))?;
        parse(&text, path, listen, env).map_err(refuse)
    }
}

fn parse(
    text: &str,
    path: &Path,
    listen: std::net::SocketAddr,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<NotifyConfig, String> {
    // The message without the offending line: a secret written where it does not belong stays out of it.
    let file: File = toml::from_str(text).map_err(|e| {
        let before = e.span().and_then(|span| text.get(..span.start)).unwrap_or_default();
        let line = before.lines().count().max(1);
        format!("line {line}: {}", e.message())
    })?;
    let defaults = NotifyConfig::default();
    let policy = RetryPolicy {
        attempts: file.delivery.attempts.unwrap_or(defaults.policy.attempts).clamp(1, 20),
        first: duration(file.delivery.backoff_first.as_deref(), defaults.policy.first)?,
        max: duration(file.delivery.backoff_max.as_deref(), defaults.policy.max)?,
    };
    let queue = file.delivery.queue.unwrap_or(defaults.queue);
    if !(1..=100_000).contains(&queue) {
        return Err(format!("delivery.queue must be from 1 to 100000, got {queue}"));
    }
    let dashboard = file.dashboard_url.unwrap_or_else(|| format!("http://{listen}/"));
    let base = path.parent().unwrap_or(Path::new("."));
    let timeout = duration(file.delivery.timeout.as_deref(), defaults.timeout)?;
    let mut sinks: Vec<SinkConfig> = Vec::new();
    for sink in file.sink {
        let name = sink.name.trim().to_owned();
        if name.is_empty() || sinks.iter().any(|s| s.name == name) {
            return Err(format!("every sink needs a name of its own, got {:?}", sink.name));
        }
        let built = build(&sink, base, env, timeout).map_err(|why| format!("sink {name:?}: {why}"))?;
        sinks.push(SinkConfig { name, rules: built.0, transport: built.1 });
    }
    Ok(NotifyConfig { sinks, dashboard, policy, queue, timeout })
}

fn build(
    sink: &SinkFile,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    timeout: Duration,
) -> Result<(Rules, Transport), String> {
    let rules = Rules {
        min_severity: sink.min_severity.unwrap_or(Severity::Warning),
        symbols: sink.symbols.as_ref().map(|s| s.iter().map(|s| s.trim().to_uppercase()).collect()),
        kinds: sink.kinds.as_ref().map(|k| k.iter().copied().collect()),
        cooldown: duration(sink.cooldown.as_deref(), Rules::default().cooldown)?,
    };
    let secret = |var: &str| -> Result<Secret, String> {
        if var.is_empty() || !var.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
            // Not repeated: a value here is likely the secret itself.
            return Err(
                "url_env, secret_env and password_env name an environment variable (A-Z, 0-9, _), not its value"
                    .into(),
            );
        }
        env(var)
            .filter(|v| !v.trim().is_empty())
            .map(Secret::new)
            .ok_or_else(|| format!("set {var} in the environment"))
    };
    let transport = match sink.kind {
        Kind::Slack => Transport::Slack {
            url: url(&secret(sink.url_env.as_deref().unwrap_or("MARQUEE_SLACK_WEBHOOK_URL"))?)?,
        },
        Kind::Webhook => {
            let url = url(&secret(sink.url_env.as_deref().unwrap_or("MARQUEE_WEBHOOK_URL"))?)?;
            let var = sink.secret_env.as_deref().unwrap_or("MARQUEE_WEBHOOK_SECRET");
            let key = SigningKey::parse(secret(var)?.expose()).map_err(|why| format!("{var}: {why}"))?;
            Transport::Webhook { url, key }
        }
        Kind::Email => Transport::Email(Box::new(Email::new(smtp(sink, base, &secret, timeout)?)?)),
    };
    Ok((rules, transport))
}

fn smtp(
    sink: &SinkFile,
    base: &Path,
    secret: &dyn Fn(&str) -> Result<Secret, String>,
    timeout: Duration,
) -> Result<SmtpSettings, String> {
    let host = sink.smtp_host.clone().ok_or("an email sink needs smtp_host")?;
    let starttls = match sink.tls.as_deref().unwrap_or("starttls") {
        "starttls" => true,
        "none" => false,
        other => return Err(format!("tls must be starttls or none, got {other:?}")),
    };
    if !starttls && !matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1") {
        return Err("tls = \"none\" sends the password in the clear: only for a relay on this machine".into());
    }
    let ca_pem = match &sink.ca_file {
        Some(file) => {
            let path = base.join(file);
            Some(std::fs::read(&path).map_err(|e| format!("ca_file {}: {e}", path.display()))?)
        }
        None => None,
    };
    let mailbox =
        |raw: &str| raw.parse::<Mailbox>().map_err(|e| format!("{raw:?} is not an email address: {e}"));
    let to = sink
        .to
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|raw| mailbox(raw))
        .collect::<Result<Vec<_>, _>>()?;
    if to.is_empty() {
        return Err("an email sink needs at least one address in to".into());
    }
    let password = match (&sink.username, &sink.password_env) {
        (Some(_), var) => Some(secret(var.as_deref().unwrap_or("MARQUEE_SMTP_PASSWORD"))?),
        (None, _) => None,
    };
    Ok(SmtpSettings {
        host,
        port: sink.smtp_port.unwrap_or(587),
        starttls,
        ca_pem,
        username: sink.username.clone(),
        password,
        from: mailbox(sink.from.as_deref().ok_or("an email sink needs from")?)?,
        to,
        timeout,
    })
}

/// An http(s) URL (kept secret: it often carries a token).
fn url(secret: &Secret) -> Result<Secret, String> {
    match reqwest::Url::parse(secret.expose()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(secret.clone()),
        _ => Err("the URL in the environment is not an http(s) URL".into()),
    }
}

/// "30s", "5m", "1h 30m" (jiff's friendly format); `default` when absent.
fn duration(raw: Option<&str>, default: Duration) -> Result<Duration, String> {
    let Some(raw) = raw else { return Ok(default) };
    let parsed: jiff::SignedDuration =
        raw.trim().parse().map_err(|_| format!("{raw:?} is not a duration like 30s or 5m"))?;
    Duration::try_from(parsed).map_err(|_| format!("{raw:?} is negative"))
}

#[cfg(test)]
mod tests;
