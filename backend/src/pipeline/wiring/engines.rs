//! The engines' settings in one group: each adapter's flags (its own
//! `settings` module) flattened into `marquee serve`, and checked together.
//! A new engine adds its flags here and its arm in `wiring`; nothing in
//! `config/` names an engine.

use clap::Args;

use crate::config::ConfigError;
use crate::kafka::settings::{KafkaArgs, KafkaConfig};
use crate::sns::settings::{SnsArgs, SnsConfig};

/// The engines' flags.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub sns: SnsArgs,
}

/// The engines that were asked for; `None`: in process.
#[derive(Debug, Clone, Default)]
pub struct Engines {
    /// Ticks, bars, alerts and heartbeats between processes.
    pub kafka: Option<KafkaConfig>,
    /// Events between processes.
    pub sns: Option<SnsConfig>,
}

impl Engines {
    /// The flag that joins the stages of several processes.
    pub const JOIN_FLAG: &str = crate::kafka::settings::FLAG;

    /// Whether stages in other processes are reachable: a process that runs
    /// only some stages needs it.
    pub fn join_processes(&self) -> bool {
        self.kafka.is_some()
    }
}

impl EngineArgs {
    pub fn to_config(&self) -> Result<Engines, ConfigError> {
        Ok(Engines {
            kafka: self.kafka.to_config().map_err(refused)?,
            sns: self.sns.to_config().map_err(refused)?,
        })
    }
}

fn refused(error: impl std::error::Error + Send + Sync + 'static) -> ConfigError {
    ConfigError::Engine(Box::new(error))
}
