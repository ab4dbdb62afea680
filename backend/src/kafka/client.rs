//! Client settings and the statistics librdkafka reports.

use std::sync::Arc;

use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;
use rdkafka::statistics::Statistics;

use super::settings::KafkaConfig;
use crate::metrics::StageStats;

/// Builds the clients of one process.
#[derive(Debug, Clone)]
pub struct Kafka {
    pub config: KafkaConfig,
    /// Names this process's clients in the broker's logs.
    client_id: String,
}

impl Kafka {
    pub fn new(config: KafkaConfig, instance: &str) -> Self {
        Self { config, client_id: format!("marquee-{instance}") }
    }

    fn base(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.config.brokers)
            .set("client.id", &self.client_id)
            .set("statistics.interval.ms", "1000");
        config
    }

    fn with_options(&self, mut config: ClientConfig) -> ClientConfig {
        for (key, value) in &self.config.options {
            config.set(key, value);
        }
        config
    }

    /// An idempotent producer (`acks=all`, ordered per partition through
    /// retries) that records its queue depth on `stats` and gives a message
    /// up after `give_up` (`None`: never, for ticks: while the broker is away
    /// the queue fills and the driver waits; nothing is dropped).
    pub fn producer(
        &self,
        stats: Arc<StageStats>,
        give_up: Option<std::time::Duration>,
    ) -> Result<FutureProducer<Figures>, KafkaError> {
        let config = self.producer_config(give_up);
        self.with_options(config).create_with_context(Figures { stats, measure: Measure::Queue })
    }

    fn producer_config(&self, give_up: Option<std::time::Duration>) -> ClientConfig {
        let mut config = self.base();
        let timeout_ms = give_up.map_or(0, |d| d.as_millis().max(1));
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // Up to 5 ms to fill a batch. At 2 ms, with the idempotent
            // producer's five requests in flight to a broker slower than
            // that, librdkafka's broker thread woke to find nothing it
            // could send: 90 % of a core at 10,000 ticks/s, 56 % at 10 ms
            // (BENCHMARKS.md, the Kafka path).
            .set("linger.ms", "5")
            .set("message.timeout.ms", timeout_ms.to_string());
        config
    }

    /// The driver's tick producer: never times a tick out, and holds at most
    /// what [`produce_ticks`](super::produce_ticks) keeps in flight.
    pub fn tick_producer(&self, stats: Arc<StageStats>) -> Result<FutureProducer<Figures>, KafkaError> {
        let mut config = self.producer_config(None);
        config
            // Records carry several ticks, so this bounds records; the
            // ticks in flight are bounded by the producer itself.
            .set("queue.buffering.max.messages", super::IN_FLIGHT_TICKS.to_string())
            .set("queue.buffering.max.kbytes", (super::IN_FLIGHT_BYTES / 1024).to_string());
        self.with_options(config).create_with_context(Figures { stats, measure: Measure::Queue })
    }

    /// A consumer in `group` that commits only when told, starting from
    /// `reset` (`earliest` or `latest`) where the group has no offset yet,
    /// and records its lag on `stats`.
    pub fn consumer(
        &self,
        group: &str,
        reset: &str,
        stats: Arc<StageStats>,
    ) -> Result<StreamConsumer<Figures>, KafkaError> {
        let mut config = self.base();
        config
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", reset)
            .set("enable.partition.eof", "false")
            // A ticker is read as it is written: ask the broker not to hold a
            // fetch for long waiting for more (librdkafka's default is 500 ms).
            .set("fetch.wait.max.ms", "20")
            // A receiver that dies hands its partitions on within seconds,
            // not the default 45 s: the ticker must keep moving.
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "1000");
        let mut config = self.with_options(config);
        for (key, value) in &self.config.consumer_options {
            config.set(key, value);
        }
        config.create_with_context(Figures { stats, measure: Measure::Lag })
    }

    /// A client for metadata requests only (the health check, reading the
    /// tail): its connection failures are what the check reports, so it
    /// logs them at debug level only.
    pub(super) fn metadata_client(&self) -> Result<rdkafka::consumer::BaseConsumer<Quiet>, KafkaError> {
        let mut config = self.base();
        config
            .set("statistics.interval.ms", "0")
            .set("group.id", format!("marquee-metadata-{}", uuid::Uuid::new_v4().simple()))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false");
        self.with_options(config).create_with_context(Quiet)
    }
}

/// Which figure a client's statistics feed.
#[derive(Debug, Clone, Copy)]
enum Measure {
    Queue,
    Lag,
}

/// Receives librdkafka's statistics (once a second) and errors.
#[derive(Debug)]
pub struct Figures {
    stats: Arc<StageStats>,
    measure: Measure,
}

impl ClientContext for Figures {
    fn stats(&self, statistics: Statistics) {
        match self.measure {
            Measure::Queue => self.stats.set_queue(statistics.msg_cnt),
            Measure::Lag => self.stats.set_lag(consumer_lag(&statistics)),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(%error, reason, stage = self.stats.health().name, "kafka");
    }

    /// librdkafka's own log, one level down: it reports every failed
    /// reconnect as an error, while a broker that is away is a dependency
    /// down (shown in /health), retried by itself.
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical => {
                tracing::error!(facility, "librdkafka: {message}");
            }
            RDKafkaLogLevel::Error | RDKafkaLogLevel::Warning => {
                tracing::warn!(facility, "librdkafka: {message}")
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(facility, "librdkafka: {message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(facility, "librdkafka: {message}"),
        }
    }
}

impl ConsumerContext for Figures {}

/// A context that keeps librdkafka's complaints to debug level.
#[derive(Debug, Clone, Copy)]
pub struct Quiet;

impl ClientContext for Quiet {
    fn log(&self, _level: RDKafkaLogLevel, facility: &str, message: &str) {
        tracing::debug!(facility, "librdkafka: {message}");
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::debug!(%error, reason, "kafka");
    }
}

impl ConsumerContext for Quiet {}

/// Messages not yet read, over every partition this consumer holds
/// (librdkafka reports -1 where it does not know yet).
fn consumer_lag(statistics: &Statistics) -> u64 {
    statistics
        .topics
        .values()
        .flat_map(|topic| topic.partitions.values())
        .filter(|p| p.partition >= 0 && p.consumer_lag >= 0)
        .map(|p| p.consumer_lag as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka(options: &[(&str, &str)]) -> Kafka {
        let config = KafkaConfig {
            // Never reached: creating a client connects to nothing yet.
            brokers: "127.0.0.1:1".into(),
            ticks_topic: "t".into(),
            bars_topic: "b".into(),
            alerts_topic: "a".into(),
            heartbeats_topic: "h".into(),
            receiver_group: "r".into(),
            options: options.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            consumer_options: vec![],
            record_ticks: crate::kafka::settings::RECORD_TICKS_MAX,
        };
        Kafka::new(config, "test")
    }

    fn producer(options: &[(&str, &str)]) -> Result<FutureProducer<Figures>, KafkaError> {
        kafka(options)
            .producer(Arc::new(StageStats::unlisted("test")), Some(std::time::Duration::from_secs(1)))
    }

    /// librdkafka is built with OpenSSL and Cyrus SASL: a secured broker's
    /// settings are taken (a build without them refuses `ssl` outright), and
    /// reach its TLS set-up, which reads the CA file they name.
    #[test]
    fn tls_and_sasl_settings_reach_librdkafka() {
        let _tls = producer(&[("security.protocol", "ssl")]).expect("TLS is built in");
        let _scram = producer(&[
            ("security.protocol", "sasl_ssl"),
            ("sasl.mechanisms", "SCRAM-SHA-512"),
            ("sasl.username", "marquee"),
            ("sasl.password", "secret"),
        ])
        .expect("SASL/SCRAM over TLS is built in");
        // Kerberos is Cyrus SASL's: `true` stands in for kinit (no keytab here).
        let _kerberos = producer(&[
            ("security.protocol", "sasl_plaintext"),
            ("sasl.mechanisms", "GSSAPI"),
            ("sasl.kerberos.kinit.cmd", "true"),
            ("sasl.kerberos.min.time.before.relogin", "0"),
        ])
        .expect("Kerberos (Cyrus SASL) is built in");
        let missing_ca = "/nonexistent/marquee-ca.pem";
        let refused = producer(&[("security.protocol", "ssl"), ("ssl.ca.location", missing_ca)]);
        let err = refused.err().expect("a CA file that does not exist is refused");
        assert!(err.to_string().contains("ssl.ca.location"), "{err}");
    }
}
