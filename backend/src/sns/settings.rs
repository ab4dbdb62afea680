//! SNS's settings: the flags, checked into an [`SnsConfig`]. Compiled in
//! every build, so a build without the engine still reads and checks them
//! and can say what to rebuild with.

use clap::Args;

/// Flags of `marquee serve` for SNS.
#[derive(Debug, Clone, Args)]
pub struct SnsArgs {
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

/// Why SNS's settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnsSettingsError {
    #[error("{0:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")]
    TopicArn(String),
    #[error("--sns-endpoint must start with http:// or https://, got {0:?}")]
    Endpoint(String),
    #[error(
        "--sns-verify false turns off SNS signature checks: only for an emulator on this machine \
         (--sns-endpoint http://127.0.0.1:PORT), or one elsewhere with --insecure-sns-emulator; \
         --sns-endpoint is {}", .0.as_deref().map_or("not set (real AWS)".to_owned(), |e| format!("{e:?}"))
    )]
    Unverified(Option<String>),
}

impl SnsArgs {
    /// `None` without a topic: events then stay in process.
    pub fn to_config(&self) -> Result<Option<SnsConfig>, SnsSettingsError> {
        let Some(arn) = self.sns_topic_arn.as_deref().map(str::trim).filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        // arn:aws:sns:REGION:ACCOUNT:NAME
        let parts: Vec<&str> = arn.split(':').collect();
        let region = match parts.as_slice() {
            ["arn", _, "sns", region, _, name] if !region.is_empty() && !name.is_empty() => {
                (*region).to_owned()
            }
            _ => return Err(SnsSettingsError::TopicArn(arn.to_owned())),
        };
        if let Some(endpoint) = &self.sns_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(SnsSettingsError::Endpoint(endpoint.clone()));
        }
        // Unverified messages are believed: only an emulator may send them,
        // and only one on this machine unless the user says otherwise.
        let emulator_here = self.sns_endpoint.as_deref().is_some_and(crate::common::net::is_loopback_url);
        let emulator_elsewhere = self.sns_endpoint.is_some() && self.insecure_sns_emulator;
        if !self.sns_verify && !emulator_here && !emulator_elsewhere {
            return Err(SnsSettingsError::Unverified(self.sns_endpoint.clone()));
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
