//! Running the stages apart: which roles this process runs, how it is
//! reached, and the engines that join processes (their flags are the
//! adapters' own, gathered in `pipeline::wiring::engines`).

use clap::Args;

use super::ConfigError;
use crate::cluster::cluster_key::ClusterKey;
use crate::pipeline::wiring::engines::{EngineArgs, Engines};

pub use crate::common::stage::{Role, Roles};

/// Flags of `marquee serve` for split deployments.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// The stages this process runs (comma separated); default: all of them,
    /// joined in process. Any other set needs an engine between processes
    /// (`--kafka-brokers`).
    #[arg(long = "role", env = "MARQUEE_ROLE", value_enum, value_delimiter = ',')]
    pub roles: Vec<Role>,
    /// The URL other processes and SNS reach this one at; default: `http://` and the listen address.
    #[arg(long, env = "MARQUEE_ADVERTISE_URL")]
    pub advertise_url: Option<String>,
    #[command(flatten)]
    pub engines: EngineArgs,
}

/// Roles, engines and how this process is reached.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub roles: Roles,
    /// Set by the user; otherwise `http://` and the bound address.
    pub advertise_url: Option<String>,
    pub engines: Engines,
    /// From `MARQUEE_CLUSTER_SECRET` (required with `--role`): signs this
    /// process's heartbeats and forwarded requests, checks the others'.
    pub key: Option<ClusterKey>,
}

impl ClusterArgs {
    pub fn to_config(&self) -> Result<ClusterConfig, ConfigError> {
        let roles: Roles = self.roles.iter().copied().collect();
        let engines = self.engines.to_config()?;
        if !roles.is_all() && !engines.join_processes() {
            return Err(ConfigError::SplitNeedsLinks(roles.names().join(","), Engines::JOIN_FLAG));
        }
        let advertise_url = match &self.advertise_url {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Some(url.trim_end_matches('/').to_owned())
            }
            Some(url) => return Err(ConfigError::AdvertiseUrl(url.clone())),
            None => None,
        };
        Ok(ClusterConfig { roles, advertise_url, engines, key: None })
    }
}
