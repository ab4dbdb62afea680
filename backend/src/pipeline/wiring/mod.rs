//! The one place that picks an adapter for each engine from the config:
//! the store (embedded SQLite, or MongoDB), the event bus (in process, or
//! SNS) and the links between processes (none, or Kafka). Each adapter is a
//! leaf module behind its cargo feature; this file is where those features
//! meet the pipeline. What an adapter adds beyond its part (a dependency on
//! `/health`, a route) comes back with it. The engines' flags are the
//! adapters' own, gathered in [`engines`].

pub mod engines;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::instances::ThisInstance;
use crate::config::{Config, ConfigError, MongoConfig, Role};
use crate::events::{EventBus, InProcessBus};
use crate::links::Links;
use crate::metrics::DependencyCheck;
use crate::store::{SharedStore, SqliteStore};

/// Events a slow subscriber may fall behind before it re-reads the store.
const EVENT_QUEUE: usize = 1024;

/// Refuses, before anything starts, an engine this build does not have.
pub fn refuse_unbuilt(config: &Config) -> Result<(), ConfigError> {
    if config.cluster.engines.kafka.is_some() && !cfg!(feature = "kafka") {
        return Err(ConfigError::NotBuilt("Kafka", "kafka"));
    }
    if config.cluster.engines.sns.is_some() && !cfg!(feature = "sns") {
        return Err(ConfigError::NotBuilt("SNS", "sns"));
    }
    if config.mongodb.is_some() && !cfg!(feature = "mongo") {
        return Err(ConfigError::MongoNotBuilt);
    }
    Ok(())
}

/// Opens MongoDB when a URL is given, otherwise the embedded store in
/// `data_dir`. `tick_retention` sets MongoDB's TTL index on ticks (`None`:
/// left as it is, for the one-shot commands); the embedded store is pruned
/// by `store::retention::run`.
pub async fn open_store(
    data_dir: &Path,
    mongodb: Option<&MongoConfig>,
    tick_retention: Option<Duration>,
) -> anyhow::Result<SharedStore> {
    match mongodb {
        #[cfg(feature = "mongo")]
        Some(mongo) => {
            let store =
                crate::store::mongo::MongoStore::connect(mongo.url.expose(), &mongo.database, tick_retention)
                    .await
                    .with_context(|| format!("cannot use MongoDB database {:?}", mongo.database))?;
            Ok(Arc::new(store))
        }
        #[cfg(not(feature = "mongo"))]
        Some(_) => Err(ConfigError::MongoNotBuilt.into()),
        None => {
            // Pruned by the retention task instead (by event time, in batches).
            let _: Option<Duration> = tick_retention;
            let store = SqliteStore::open(data_dir)
                .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
            Ok(Arc::new(store))
        }
    }
}

/// The event bus, and what it adds to the process.
#[derive(Debug)]
pub struct EventWiring {
    pub bus: Arc<dyn EventBus>,
    pub checks: Vec<DependencyCheck>,
    pub routes: Vec<axum::Router>,
}

/// In process, or SNS when a topic is set. A process with a driver or a
/// gateway subscribes (they act on or show events); one that only ingests
/// or receives just publishes.
pub async fn event_bus(
    config: &Config,
    this: &ThisInstance,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) -> anyhow::Result<EventWiring> {
    let in_process = || EventWiring {
        bus: Arc::new(InProcessBus::new(EVENT_QUEUE)),
        checks: Vec::new(),
        routes: Vec::new(),
    };
    match &config.cluster.engines.sns {
        None => Ok(in_process()),
        #[cfg(feature = "sns")]
        Some(sns) => {
            let roles = &config.cluster.roles;
            let subscribes = roles.has(Role::Driver) || roles.has(Role::Gateway);
            let sns =
                crate::sns::connect(sns, subscribes.then_some(this.address.as_str()), tasks, shutdown).await;
            let (checks, routes) = (sns.dependency().into_iter().collect(), vec![sns.routes()]);
            Ok(EventWiring { bus: sns.bus, checks, routes })
        }
        #[cfg(not(feature = "sns"))]
        Some(_) => {
            let _ = (this, tasks, shutdown, Role::Driver, in_process);
            Err(ConfigError::NotBuilt("SNS", "sns").into())
        }
    }
}

/// The engine between this process's stages and the others', if any: none
/// when every stage runs here.
pub fn links(config: &Config, this: &ThisInstance) -> anyhow::Result<Option<Box<dyn Links>>> {
    match &config.cluster.engines.kafka {
        None => Ok(None),
        #[cfg(feature = "kafka")]
        Some(kafka) => {
            let kafka = crate::kafka::Kafka::new(kafka.clone(), &this.id);
            Ok(Some(Box::new(crate::kafka::KafkaLinks::new(kafka))))
        }
        #[cfg(not(feature = "kafka"))]
        Some(_) => {
            let _ = this;
            Err(ConfigError::NotBuilt("Kafka", "kafka").into())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::{Cli, Command, Secrets};

    fn config(args: &[&str]) -> Config {
        let cli = Cli::try_parse_from([&["marquee", "serve"][..], args].concat()).expect("parses");
        let Command::Serve(serve) = cli.command else { panic!("serve") };
        Config::from_parts(*serve, Secrets::default()).expect("valid")
    }

    #[test]
    fn an_engine_this_build_lacks_is_refused_naming_the_feature() {
        let cases: [(&[&str], bool); 3] = [
            (&["--kafka-brokers", "k:9092"], cfg!(feature = "kafka")),
            (&["--sns-topic-arn", "arn:aws:sns:eu-west-1:1:e"], cfg!(feature = "sns")),
            (&["--mongodb-url", "mongodb://db:27017"], cfg!(feature = "mongo")),
        ];
        for (args, built) in cases {
            match refuse_unbuilt(&config(args)) {
                Ok(()) => assert!(built, "{args:?}: not built, yet accepted"),
                Err(err) => {
                    assert!(!built, "{args:?}: built, yet refused: {err}");
                    assert!(err.to_string().contains("rebuild with `cargo build --features"), "{err}");
                }
            }
        }
        assert!(refuse_unbuilt(&config(&[])).is_ok(), "the defaults need no engine");
    }
}
