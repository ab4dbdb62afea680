//! The Standard Webhooks signature (standardwebhooks.com): each request
//! carries `webhook-id` (the same for every try of one message, so the
//! receiver can drop repeats), `webhook-timestamp` (unix seconds, at the
//! try) and `webhook-signature`: `v1,` and the base64 HMAC-SHA256, keyed
//! with the secret, of `{id}.{timestamp}.{body}`. Pure.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A signing key, from a `whsec_...` secret.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// `whsec_` and base64 (at least 24 bytes), as the convention has it.
    pub fn parse(secret: &str) -> Result<Self, String> {
        let encoded = secret.trim().strip_prefix(SECRET_PREFIX).ok_or_else(|| {
            format!("a webhook secret starts with {SECRET_PREFIX} (make one: echo {SECRET_PREFIX}$(openssl rand -base64 32))")
        })?;
        let key =
            STANDARD.decode(encoded).map_err(|_| format!("the part after {SECRET_PREFIX} is not base64"))?;
        if key.len() < 24 {
            return Err(format!("a webhook secret needs at least 24 bytes, this one has {}", key.len()));
        }
        Ok(Self(key))
    }

    /// The `webhook-signature` header's value for one try.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// A new message id (`msg_` and 32 hex digits).
pub fn message_id() -> String {
    format!("msg_{}", uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_convention_s_own_example() {
        // The example of the Standard Webhooks specification.
        let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("a secret");
        let signature = key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_secret_must_be_a_whsec_of_base64() {
        assert!(
            SigningKey::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect_err("no prefix").contains("whsec_")
        );
        assert!(SigningKey::parse("whsec_not base64!").expect_err("bad").contains("not base64"));
        assert!(SigningKey::parse("whsec_c2hvcnQ=").expect_err("short").contains("24 bytes"));
        assert_eq!(
            format!("{:?}", SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
            "Ok(SigningKey(..))"
        );
        assert!(message_id().starts_with("msg_") && message_id().len() == 36);
    }
}
