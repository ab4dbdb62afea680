//! Kafka as a checked dependency: do the brokers answer, and do the topics
//! this process uses exist?

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use marquee_shared::{Dependency, Status};
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::Kafka;
use super::client::Quiet;
use crate::metrics::Checked;

/// Asks the brokers for the metadata of this process's topics.
#[derive(Clone)]
pub struct KafkaCheck {
    client: Arc<BaseConsumer<Quiet>>,
    brokers: String,
    topics: Vec<String>,
}

impl std::fmt::Debug for KafkaCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaCheck").field("brokers", &self.brokers).field("topics", &self.topics).finish()
    }
}

impl Checked for KafkaCheck {
    fn check(&self, timeout: Duration) -> BoxFuture<'_, Dependency> {
        Box::pin(self.probe(timeout))
    }
}

impl KafkaCheck {
    pub fn new(kafka: &Kafka, topics: Vec<String>) -> Result<Self, rdkafka::error::KafkaError> {
        Ok(Self { client: Arc::new(kafka.metadata_client()?), brokers: kafka.config.brokers.clone(), topics })
    }

    /// Checks now, waiting at most `timeout` for each answer (on a blocking
    /// thread: librdkafka's metadata call blocks).
    pub async fn probe(&self, timeout: Duration) -> Dependency {
        let this = self.clone();
        let outcome = tokio::task::spawn_blocking(move || this.check_blocking(timeout)).await;
        let (status, detail) = match outcome {
            Ok(Ok(())) => (Status::Up, format!("Kafka at {}: answering, topics present", self.brokers)),
            Ok(Err(problem)) => (Status::Down, format!("Kafka at {}: {problem}", self.brokers)),
            Err(join) => (Status::Down, format!("Kafka at {}: check failed: {join}", self.brokers)),
        };
        Dependency { name: "kafka".to_owned(), status, detail }
    }

    fn check_blocking(&self, timeout: Duration) -> Result<(), String> {
        for topic in &self.topics {
            let metadata = self
                .client
                .fetch_metadata(Some(topic), timeout)
                .map_err(|err| format!("no answer within {} ms ({err})", timeout.as_millis()))?;
            let found = metadata.topics().iter().find(|t| t.name() == topic);
            match found {
                Some(t) if t.error().is_none() && !t.partitions().is_empty() => {}
                Some(t) => {
                    let why = t.error().map_or_else(|| "no partitions".to_owned(), |e| format!("{e:?}"));
                    return Err(format!("topic {topic} is not usable: {why}"));
                }
                None => return Err(format!("topic {topic} does not exist")),
            }
        }
        Ok(())
    }
}
