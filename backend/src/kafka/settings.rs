//! Kafka's settings: the flags, checked into a [`KafkaConfig`]. Compiled in
//! every build, so a build without the engine still reads and checks them
//! and can say what to rebuild with.

use clap::Args;

/// Ticks a Kafka record carries at most (about 160 B a tick: far below
/// Kafka's default 1 MB limit).
pub const RECORD_TICKS_MAX: usize = 256;

/// The flag that joins processes through Kafka.
pub const FLAG: &str = "--kafka-brokers";

/// Flags of `marquee serve` for Kafka.
#[derive(Debug, Clone, Args)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers (`host:port,...`): ticks, bars, alerts and
    /// heartbeats then go through Kafka (needs a build with `--features kafka`).
    #[arg(long, env = "MARQUEE_KAFKA_BROKERS")]
    pub kafka_brokers: Option<String>,
    /// Topic of ticks, keyed by symbol.
    #[arg(long, env = "MARQUEE_KAFKA_TICKS_TOPIC", default_value = "marquee.ticks")]
    pub kafka_ticks_topic: String,
    /// Topic of bars (closed and forming), keyed by symbol.
    #[arg(long, env = "MARQUEE_KAFKA_BARS_TOPIC", default_value = "marquee.bars")]
    pub kafka_bars_topic: String,
    /// Topic of alerts, keyed by symbol.
    #[arg(long, env = "MARQUEE_KAFKA_ALERTS_TOPIC", default_value = "marquee.alerts")]
    pub kafka_alerts_topic: String,
    /// Topic of instance heartbeats (one a second from every process).
    #[arg(long, env = "MARQUEE_KAFKA_HEARTBEATS_TOPIC", default_value = "marquee.heartbeats")]
    pub kafka_heartbeats_topic: String,
    /// Consumer group shared by all receivers (each gateway uses a group of its own).
    #[arg(long, env = "MARQUEE_KAFKA_RECEIVER_GROUP", default_value = "marquee-receivers")]
    pub kafka_receiver_group: String,
    /// Extra librdkafka settings for every client, `key=value,...` (e.g. `security.protocol=ssl`).
    #[arg(long, env = "MARQUEE_KAFKA_OPTIONS", value_delimiter = ',')]
    pub kafka_options: Vec<String>,
    /// Ticks one Kafka record on the ticks topic carries at most: the ticks
    /// ready at once are sent as one record per partition. 1 writes every
    /// tick as a message of its own (a JSON object), for consumers that
    /// take one tick per message; it costs the broker a record per tick.
    #[arg(long, env = "MARQUEE_KAFKA_RECORD_TICKS", default_value_t = RECORD_TICKS_MAX,
          value_parser = clap::builder::TypedValueParser::map(
              clap::value_parser!(u16).range(1..=RECORD_TICKS_MAX as i64), usize::from))]
    pub kafka_record_ticks: usize,
    /// Extra librdkafka settings for consumers only (e.g. `max.poll.interval.ms=60000`).
    #[arg(long, env = "MARQUEE_KAFKA_CONSUMER_OPTIONS", value_delimiter = ',')]
    pub kafka_consumer_options: Vec<String>,
}

/// Validated Kafka settings.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    pub brokers: String,
    pub ticks_topic: String,
    pub bars_topic: String,
    pub alerts_topic: String,
    pub heartbeats_topic: String,
    pub receiver_group: String,
    /// librdkafka settings given by the user, applied last.
    pub options: Vec<(String, String)>,
    /// The same, for consumers only.
    pub consumer_options: Vec<(String, String)>,
    /// Ticks a record carries at most, 1 to [`RECORD_TICKS_MAX`].
    pub record_ticks: usize,
}

/// Why Kafka's settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KafkaSettingsError {
    #[error("{0:?} is not a legal Kafka topic or group name: use 1 to 249 of a-z A-Z 0-9 . _ -")]
    Name(String),
    #[error("--kafka-options takes key=value pairs, got {0:?}")]
    Option(String),
}

impl KafkaArgs {
    /// `None` without brokers: the stages then join in process.
    pub fn to_config(&self) -> Result<Option<KafkaConfig>, KafkaSettingsError> {
        let Some(brokers) = self.kafka_brokers.as_deref().map(str::trim).filter(|b| !b.is_empty()) else {
            return Ok(None);
        };
        let names = [
            &self.kafka_ticks_topic,
            &self.kafka_bars_topic,
            &self.kafka_alerts_topic,
            &self.kafka_heartbeats_topic,
            &self.kafka_receiver_group,
        ];
        for name in names {
            let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
            if name.is_empty() || name.len() > 249 || !name.chars().all(legal) {
                return Err(KafkaSettingsError::Name(name.clone()));
            }
        }
        Ok(Some(KafkaConfig {
            brokers: brokers.to_owned(),
            ticks_topic: self.kafka_ticks_topic.clone(),
            bars_topic: self.kafka_bars_topic.clone(),
            alerts_topic: self.kafka_alerts_topic.clone(),
            heartbeats_topic: self.kafka_heartbeats_topic.clone(),
            receiver_group: self.kafka_receiver_group.clone(),
            options: pairs(&self.kafka_options)?,
            consumer_options: pairs(&self.kafka_consumer_options)?,
            record_ticks: self.kafka_record_ticks,
        }))
    }
}

fn pairs(options: &[String]) -> Result<Vec<(String, String)>, KafkaSettingsError> {
    options
        .iter()
        .map(|option| match option.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok((key.trim().to_owned(), value.trim().to_owned()))
            }
            _ => Err(KafkaSettingsError::Option(option.clone())),
        })
        .collect()
}
