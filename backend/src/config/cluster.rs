//! Running the stages apart: which roles this process runs, and the engines
//! that join processes (Kafka for ticks, bars, alerts and heartbeats; SNS
//! for events).

use clap::Args;

use super::ConfigError;
use crate::cluster::cluster_key::ClusterKey;

pub use crate::common::stage::{Role, Roles};

/// Flags of `marquee serve` for split deployments.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// The stages this process runs (comma separated); default: all of them,
    /// joined in process. Any other set needs `--kafka-brokers`.
    #[arg(long = "role", env = "MARQUEE_ROLE", value_enum, value_delimiter = ',')]
    pub roles: Vec<Role>,
    /// The URL other processes and SNS reach this one at; default: `http://` and the listen address.
    #[arg(long, env = "MARQUEE_ADVERTISE_URL")]
    pub advertise_url: Option<String>,
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
    /// SNS topic ARN for events; unset keeps events in process.
    #[arg(long, env = "MARQUEE_SNS_TOPIC_ARN")]
    pub sns_topic_arn: Option<String>,
    /// SNS endpoint override, for emulators (e.g. `http://127.0.0.1:4566`).
    #[arg(long, env = "MARQUEE_SNS_ENDPOINT")]
    pub sns_endpoint: Option<String>,
    /// Verify SNS message signatures against AWS's signing certificates.
    /// Turn off only for emulators, which do not sign like AWS: `false` needs
    /// an `--sns-endpoint` on this machine (127.0.0.0/8, ::1, localhost), or
    /// `--insecure-sns-emulator` for one elsewhere.
    #[arg(long, env = "MARQUEE_SNS_VERIFY", default_value_t = true, action = clap::ArgAction::Set)]
    pub sns_verify: bool,
    /// The topic's `SignatureVersion`: 2 (SHA256) refuses SHA1-signed
    /// messages from the start. With 1, SHA1 is taken until a verified
    /// SHA256-signed message arrives, and refused from then on (downgrade
    /// protection); a topic switched back to 1 then needs a restart.
    #[arg(
        long,
        env = "MARQUEE_SNS_SIGNATURE_VERSION",
        default_value_t = 1,
        value_parser = clap::value_parser!(u8).range(1..=2)
    )]
    pub sns_signature_version: u8,
    /// Allow `--sns-verify false` with an `--sns-endpoint` on another machine
    /// (an emulator in a private container network, as in docker-compose.yml):
    /// whatever reaches `/sns/events` is then believed. Without it such a
    /// start is refused.
    #[arg(long, env = "MARQUEE_INSECURE_SNS_EMULATOR")]
    pub insecure_sns_emulator: bool,
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

/// Ticks a Kafka record carries at most (about 160 B a tick: far below
/// Kafka's default 1 MB limit).
pub const RECORD_TICKS_MAX: usize = 256;

/// Validated SNS settings.
#[derive(Debug, Clone)]
pub struct SnsConfig {
    pub topic_arn: String,
    /// The region, taken from the topic ARN.
    pub region: String,
    pub endpoint: Option<String>,
    pub verify: bool,
    /// Refuse SHA1-signed messages from the start (`--sns-signature-version 2`).
    pub require_sha256: bool,
}

/// Roles, engines and how this process is reached.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub roles: Roles,
    /// Set by the user; otherwise `http://` and the bound address.
    pub advertise_url: Option<String>,
    pub kafka: Option<KafkaConfig>,
    pub sns: Option<SnsConfig>,
    /// From `MARQUEE_CLUSTER_SECRET` (required with `--role`): signs this
    /// process's heartbeats and forwarded requests, checks the others'.
    pub key: Option<ClusterKey>,
}

impl ClusterArgs {
    pub fn to_config(&self) -> Result<ClusterConfig, ConfigError> {
        let roles: Roles = self.roles.iter().copied().collect();
        let kafka = self.kafka()?;
        if !roles.is_all() && kafka.is_none() {
            return Err(ConfigError::SplitNeedsKafka(roles.names().join(",")));
        }
        let advertise_url = match &self.advertise_url {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Some(url.trim_end_matches('/').to_owned())
            }
            Some(url) => return Err(ConfigError::AdvertiseUrl(url.clone())),
            None => None,
        };
        Ok(ClusterConfig { roles, advertise_url, kafka, sns: self.sns()?, key: None })
    }

    fn kafka(&self) -> Result<Option<KafkaConfig>, ConfigError> {
        let Some(brokers) = self.kafka_brokers.as_deref().map(str::trim).filter(|b| !b.is_empty()) else {
            return Ok(None);
        };
        let topics = [
            &self.kafka_ticks_topic,
            &self.kafka_bars_topic,
            &self.kafka_alerts_topic,
            &self.kafka_heartbeats_topic,
            &self.kafka_receiver_group,
        ];
        for name in topics {
            let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
            if name.is_empty() || name.len() > 249 || !name.chars().all(legal) {
                return Err(ConfigError::KafkaName(name.clone()));
            }
        }
        let pairs = |options: &[String]| {
            options
                .iter()
                .map(|option| match option.split_once('=') {
                    Some((key, value)) if !key.trim().is_empty() => {
                        Ok((key.trim().to_owned(), value.trim().to_owned()))
                    }
                    _ => Err(ConfigError::KafkaOption(option.clone())),
                })
                .collect::<Result<Vec<_>, _>>()
        };
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

    fn sns(&self) -> Result<Option<SnsConfig>, ConfigError> {
        let Some(arn) = self.sns_topic_arn.as_deref().map(str::trim).filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        // arn:aws:sns:REGION:ACCOUNT:NAME
        let parts: Vec<&str> = arn.split(':').collect();
        let region = match parts.as_slice() {
            ["arn", _, "sns", region, _, name] if !region.is_empty() && !name.is_empty() => {
                (*region).to_owned()
            }
            _ => return Err(ConfigError::SnsTopicArn(arn.to_owned())),
        };
        if let Some(endpoint) = &self.sns_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(ConfigError::SnsEndpoint(endpoint.clone()));
        }
        // Unverified messages are believed: only an emulator may send them,
        // and only one on this machine unless the user says otherwise.
        let emulator_here = self.sns_endpoint.as_deref().is_some_and(crate::common::net::is_loopback_url);
        let emulator_elsewhere = self.sns_endpoint.is_some() && self.insecure_sns_emulator;
        if !self.sns_verify && !emulator_here && !emulator_elsewhere {
            return Err(ConfigError::SnsUnverified(self.sns_endpoint.clone()));
        }
        Ok(Some(SnsConfig {
            topic_arn: arn.to_owned(),
            region,
            endpoint: self.sns_endpoint.clone(),
            verify: self.sns_verify,
            require_sha256: self.sns_signature_version == 2,
        }))
    }
}
