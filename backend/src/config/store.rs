//! Where Marquee stores: the embedded store's directory, or a MongoDB server.

use std::path::PathBuf;

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
        if !cfg!(feature = "mongo") {
            return Err(ConfigError::MongoNotBuilt);
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
