//! Where Marquee stores: the embedded store's directory, or a MongoDB server.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{ConfigError, Secret};

/// Where the embedded store lives (shared by every subcommand).
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded store (created if missing).
    #[arg(long, env = "MARQUEE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Store in MongoDB instead of the embedded store, e.g. `mongodb://127.0.0.1:27017`
    /// (needs a build with `--features mongo`).
    #[arg(long, env = "MARQUEE_MONGODB_URL")]
    pub mongodb_url: Option<String>,
    /// The database to use on the MongoDB server.
    #[arg(long, env = "MARQUEE_MONGODB_DATABASE", default_value = "marquee")]
    pub mongodb_database: String,
}

impl StoreArgs {
    /// Where to store, checked: `None` for the embedded store.
    pub fn mongodb(&self) -> Result<Option<MongoConfig>, ConfigError> {
        let Some(url) = &self.mongodb_url else { return Ok(None) };
        if !(url.starts_with("mongodb://") || url.starts_with("mongodb+srv://")) {
            return Err(ConfigError::MongoUrl);
        }
        let database = &self.mongodb_database;
        if database.is_empty() || database.len() > 63 || database.contains(['/', '\\', '.', ' ', '"', '$']) {
            return Err(ConfigError::MongoDatabase(database.clone()));
        }
        Ok(Some(MongoConfig { url: Secret::new(url.clone()), database: database.clone() }))
    }
}

/// A MongoDB store; the URL may hold credentials, so it is kept as a secret.
#[derive(Debug, Clone)]
pub struct MongoConfig {
    pub url: Secret,
    pub database: String,
}

/// How long the store keeps ticks (`marquee serve`).
#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// Ticks older than this are deleted (in batches, a sweep a minute; with
    /// MongoDB by a TTL index), e.g. `7d`, `36h` or `90m`; a symbol's newest
    /// tick is kept.
    #[arg(long, env = "MARQUEE_TICK_RETENTION", default_value = "7d", value_parser = retention)]
    pub tick_retention: Duration,
}

/// A retention such as `7d`, `36h`, `90m` or `1d 12h` (a day is 24 hours),
/// from one minute to ten years.
pub(super) fn retention(raw: &str) -> Result<Duration, String> {
    let span: jiff::Span =
        raw.trim().parse().map_err(|_| format!("{raw:?} is not a duration: write e.g. 7d, 36h or 90m"))?;
    let signed = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|_| format!("{raw:?} is not a duration: use days, hours or minutes"))?;
    let duration = Duration::try_from(signed).map_err(|_| format!("{raw:?} is negative"))?;
    if !(Duration::from_secs(60)..=Duration::from_secs(10 * 366 * 86_400)).contains(&duration) {
        return Err(format!("{raw:?} is out of range: keep ticks from 1m to 3660d"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::{RetentionArgs, retention};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        retention: RetentionArgs,
    }

    #[test]
    fn ticks_are_kept_a_week_unless_told_otherwise() {
        let parse =
            |args: &[&str]| Cli::try_parse_from(std::iter::once("marquee").chain(args.iter().copied()));
        assert_eq!(parse(&[]).expect("default").retention.tick_retention, Duration::from_secs(7 * 86_400));
        let two_days = parse(&["--tick-retention", "48h"]).expect("48h");
        assert_eq!(two_days.retention.tick_retention, Duration::from_secs(2 * 86_400));
        let err = parse(&["--tick-retention", "forever"]).err().expect("refused").to_string();
        assert!(err.contains("--tick-retention") && err.contains("7d, 36h or 90m"), "{err}");
    }

    #[test]
    fn retentions_read_in_days_hours_or_minutes() {
        assert_eq!(retention("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(retention("36h"), Ok(Duration::from_secs(36 * 3_600)));
        assert_eq!(retention("1d 12h"), Ok(Duration::from_secs(36 * 3_600)));
        assert_eq!(retention("90m"), Ok(Duration::from_secs(5_400)));
        for bad in ["soon", "-1d", "10s", "20000d", "1mo"] {
            assert!(retention(bad).is_err(), "{bad} accepted");
        }
    }
}
