//! SNS message signatures, checked as AWS documents: the signing
//! certificate is fetched only over https from `sns.<region>.amazonaws.com`
//! (and cached, see [`super::certificates`]), must be valid now, and the
//! message's string to sign must carry a valid RSA signature under its key
//! (SHA1 for `SignatureVersion` 1, SHA256 for 2).

use std::time::{Duration, SystemTime};

use base64::Engine;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

use super::SnsMessage;
use super::certificates::Certificates;

/// How long fetching a certificate may take, and how big it may be.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CERTIFICATE: usize = 16 * 1024;

/// Why a message was not accepted as signed by SNS.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VerifyError {
    #[error("the signing certificate URL {0:?} is not an https URL on sns.{1}.amazonaws.com ending in .pem")]
    CertificateUrl(String, String),
    #[error("cannot fetch the signing certificate: {0}")]
    Fetch(String),
    #[error("the signing certificate is not a usable X.509 certificate: {0}")]
    Certificate(String),
    #[error("{0} signing certificates are being fetched at once already: try again later")]
    Busy(usize),
    #[error("unknown signature version {0:?}")]
    Version(String),
    #[error("a message of type {0:?} cannot be verified")]
    Type(String),
    #[error("the {0} field spans lines: its signature could be another message's")]
    SpansLines(&'static str),
    #[error("the signature is not base64")]
    Encoding,
    #[error("the signature does not match the message")]
    Signature,
}

/// Checks signatures, with the certificates of one region's SNS.
#[derive(Debug)]
pub struct Verifier {
    region: String,
    http: reqwest::Client,
    certificates: Certificates,
}

impl Verifier {
    pub fn new(region: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { region: region.to_owned(), http, certificates: Certificates::default() }
    }

    /// Uses `pem` as the certificate at `url` without fetching it (tests).
    pub fn trust(&self, url: &str, pem: &str) -> Result<(), VerifyError> {
        self.check_url(url)?;
        self.certificates.insert(url, pem, SystemTime::now())
    }

    /// Ok only if SNS signed exactly this message.
    pub async fn verify(&self, message: &SnsMessage) -> Result<(), VerifyError> {
        if let Some(field) = message.field_spanning_lines() {
            return Err(VerifyError::SpansLines(field));
        }
        let text = message.string_to_sign().ok_or_else(|| VerifyError::Type(message.kind.clone()))?;
        let algorithm: &'static dyn VerificationAlgorithm = match message.signature_version.as_str() {
            "1" => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            "2" => &signature::RSA_PKCS1_2048_8192_SHA256,
            other => return Err(VerifyError::Version(other.to_owned())),
        };
        let signature = base64::engine::general_purpose::STANDARD
            .decode(message.signature.as_bytes())
            .map_err(|_| VerifyError::Encoding)?;
        let key = self.key(&message.signing_cert_url).await?;
        UnparsedPublicKey::new(algorithm, key.as_slice())
            .verify(text.as_bytes(), &signature)
            .map_err(|_| VerifyError::Signature)
    }

    /// Only https, only SNS's own host for the configured region, only a .pem.
    fn check_url(&self, url: &str) -> Result<(), VerifyError> {
        let refuse = || VerifyError::CertificateUrl(url.to_owned(), self.region.clone());
        let parsed = reqwest::Url::parse(url).map_err(|_| refuse())?;
        let host = format!("sns.{}.amazonaws.com", self.region);
        let good = parsed.scheme() == "https"
            && parsed.host_str() == Some(host.as_str())
            && parsed.port().is_none()
            && parsed.username().is_empty()
            && parsed.password().is_none()
            && parsed.path().ends_with(".pem");
        if good { Ok(()) } else { Err(refuse()) }
    }

    async fn key(&self, url: &str) -> Result<std::sync::Arc<Vec<u8>>, VerifyError> {
        self.check_url(url)?;
        self.certificates.key(url, SystemTime::now(), || self.fetch(url)).await
    }

    /// The PEM text at `url`.
    async fn fetch(&self, url: &str) -> Result<String, VerifyError> {
        let response = self.http.get(url).send().await.map_err(|e| VerifyError::Fetch(e.to_string()))?;
        if !response.status().is_success() {
            return Err(VerifyError::Fetch(format!("HTTP {}", response.status())));
        }
        let body = response.bytes().await.map_err(|e| VerifyError::Fetch(e.to_string()))?;
        if body.len() > MAX_CERTIFICATE {
            return Err(VerifyError::Fetch(format!("{} bytes is too big for a certificate", body.len())));
        }
        String::from_utf8(body.to_vec()).map_err(|_| VerifyError::Certificate("not PEM text".into()))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    const CERT_URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem";

    pub fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/sns/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    pub fn message(name: &str) -> SnsMessage {
        serde_json::from_str(&fixture(name)).expect("fixture parses")
    }

    /// A verifier that knows the fixtures' certificate (a throwaway key
    /// standing in for SNS's; see tests/fixtures/sns/generate.sh).
    pub fn verifier() -> Verifier {
        let verifier = Verifier::new("us-east-1");
        verifier.trust(CERT_URL, &fixture("test-cert.pem")).expect("trust the fixture");
        verifier
    }

    #[tokio::test]
    async fn signed_messages_verify_with_sha1_and_sha256() {
        let verifier = verifier();
        for name in ["notification-v1.json", "notification-v2.json", "subscription-confirmation.json"] {
            verifier.verify(&message(name)).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[tokio::test]
    async fn forged_or_altered_messages_are_refused() {
        let verifier = verifier();
        let genuine = message("notification-v1.json");

        let altered = SnsMessage { message: genuine.message.replace("IBM", "EVIL"), ..genuine.clone() };
        assert!(matches!(verifier.verify(&altered).await, Err(VerifyError::Signature)));

        let other = message("notification-v2.json");
        let borrowed = SnsMessage { signature: other.signature, ..genuine.clone() };
        assert!(matches!(verifier.verify(&borrowed).await, Err(VerifyError::Signature)));

        let downgraded = SnsMessage { signature_version: "2".into(), ..genuine.clone() };
        assert!(matches!(verifier.verify(&downgraded).await, Err(VerifyError::Signature)));

        let unsigned = SnsMessage { signature: String::new(), ..genuine.clone() };
        assert!(verifier.verify(&unsigned).await.is_err());

        let garbage = SnsMessage { signature: "not base64!".into(), ..genuine.clone() };
        assert!(matches!(verifier.verify(&garbage).await, Err(VerifyError::Encoding)));

        let version = SnsMessage { signature_version: "3".into(), ..genuine };
        assert!(matches!(verifier.verify(&version).await, Err(VerifyError::Version(_))));
    }

    /// Found writing the fuzz property (`fuzz::sns::signatures`: what
    /// verifies is what SNS signed): the string to sign is lines, so a
    /// MessageId that took in the Subject line signed the same as the
    /// genuine message without one: the same event again under a new id,
    /// past the repeat check.
    #[tokio::test]
    async fn a_field_that_takes_in_the_next_line_is_refused() {
        let verifier = verifier();
        let genuine = message("notification-v1.json");
        let subject = genuine.subject.clone().expect("the fixture has a subject");
        let moved = SnsMessage {
            message_id: format!("{}\nSubject\n{subject}", genuine.message_id),
            subject: None,
            ..genuine
        };
        let refused = verifier.verify(&moved).await;
        assert!(matches!(refused, Err(VerifyError::SpansLines("MessageId"))), "{refused:?}");
    }

    #[tokio::test]
    async fn certificates_come_only_from_sns_itself() {
        let verifier = verifier();
        let genuine = message("notification-v1.json");
        for url in [
            "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
            "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-test.pem",
            "https://evil.example/sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem",
            "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-test.pem",
            "https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.txt",
        ] {
            let moved = SnsMessage { signing_cert_url: url.into(), ..genuine.clone() };
            let refused = verifier.verify(&moved).await;
            assert!(matches!(refused, Err(VerifyError::CertificateUrl(..))), "{url}: {refused:?}");
        }
    }
}
