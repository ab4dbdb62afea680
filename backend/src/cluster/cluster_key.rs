//! Proof between the processes of one deployment: an HMAC-SHA256 under the
//! shared cluster secret (`MARQUEE_CLUSTER_SECRET`). Heartbeats carry one,
//! so only a process that knows the secret can name itself as a place to
//! forward operator requests to; a forwarded request carries one in place of
//! the operator's token, so the token never leaves the gateway it was given
//! to. Each use signs under its own label, so a signature made for one can
//! never pass as the other.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::Secret;

/// The shortest secret accepted: 128 bits of hex or base64 are 22+ chars.
pub const MIN_SECRET_LEN: usize = 16;
/// How far the signer's clock may be from the checker's for a forwarded
/// request: its signature is checked as its headers arrive.
pub const HOP_WINDOW_MS: i64 = 30_000;
/// The header a forwarded request carries: `<unix ms>.<hex HMAC>`.
pub const HOP_HEADER: &str = "x-marquee-hop";
/// The Kafka header a heartbeat's signature travels in (hex HMAC).
pub const HEARTBEAT_HEADER: &str = "marquee-signature";

/// The cluster secret, ready to sign and check. Its `Debug` shows nothing.
#[derive(Clone)]
pub struct ClusterKey(Hmac<Sha256>);

impl std::fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterKey([redacted])")
    }
}

/// Why a forwarded request's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HopError {
    #[error("the {HOP_HEADER} header is not `<unix ms>.<signature>`")]
    Malformed,
    #[error(
        "the {HOP_HEADER} header was signed {0} ms from this process's clock (at most {HOP_WINDOW_MS} allowed)"
    )]
    OutsideWindow(i64),
    #[error("the {HOP_HEADER} signature does not match: the processes do not share MARQUEE_CLUSTER_SECRET")]
    Signature,
}

impl ClusterKey {
    /// `None` for a secret shorter than [`MIN_SECRET_LEN`].
    pub fn new(secret: &Secret) -> Option<Self> {
        let bytes = secret.expose().as_bytes();
        if bytes.len() < MIN_SECRET_LEN {
            return None;
        }
        // HMAC takes a key of any length: this cannot fail.
        Hmac::<Sha256>::new_from_slice(bytes).ok().map(Self)
    }

    /// The MAC of `parts` under `label`, each part length-prefixed so that
    /// no two different lists of parts sign the same bytes.
    fn mac(&self, label: &str, parts: &[&[u8]]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        for part in std::iter::once(label.as_bytes()).chain(parts.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    fn verify(&self, label: &str, parts: &[&[u8]], signature_hex: &[u8]) -> bool {
        match decode_hex(signature_hex) {
            // `verify_slice` compares in constant time.
            Some(signature) => self.mac(label, parts).verify_slice(&signature).is_ok(),
            None => false,
        }
    }

    /// The signature of a heartbeat's bytes (as sent on Kafka).
    pub fn sign_heartbeat(&self, payload: &[u8]) -> String {
        encode_hex(&self.mac("heartbeat", &[payload]).finalize().into_bytes())
    }

    /// Whether `signature` (hex) is this secret's signature of `payload`.
    pub fn verify_heartbeat(&self, payload: &[u8], signature: &[u8]) -> bool {
        self.verify("heartbeat", &[payload], signature)
    }

    /// The [`HOP_HEADER`] value for forwarding `method path_and_query` at `now_ms`.
    pub fn sign_hop(&self, method: &str, path_and_query: &str, now_ms: i64) -> String {
        let at = now_ms.to_string();
        let parts: [&[u8]; 3] = [at.as_bytes(), method.as_bytes(), path_and_query.as_bytes()];
        format!("{at}.{}", encode_hex(&self.mac("forward", &parts).finalize().into_bytes()))
    }

    /// Checks a [`HOP_HEADER`] value for `method path_and_query` at `now_ms`.
    pub fn verify_hop(
        &self,
        method: &str,
        path_and_query: &str,
        header: &str,
        now_ms: i64,
    ) -> Result<(), HopError> {
        let (at, signature) = header.split_once('.').ok_or(HopError::Malformed)?;
        let signed_at: i64 = at.parse().map_err(|_| HopError::Malformed)?;
        let off = signed_at.saturating_sub(now_ms);
        if off.saturating_abs() > HOP_WINDOW_MS {
            return Err(HopError::OutsideWindow(off));
        }
        let parts: [&[u8]; 3] = [at.as_bytes(), method.as_bytes(), path_and_query.as_bytes()];
        if self.verify("forward", &parts, signature.as_bytes()) { Ok(()) } else { Err(HopError::Signature) }
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    hex.chunks(2).map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> ClusterKey {
        ClusterKey::new(&Secret::new(secret)).expect("long enough")
    }

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn a_short_secret_is_refused() {
        assert!(ClusterKey::new(&Secret::new("too-short")).is_none());
        assert!(format!("{:?}", key("0123456789abcdef")).contains("redacted"));
    }

    #[test]
    fn heartbeats_verify_only_unchanged_and_under_the_same_secret() {
        let (ours, theirs) = (key("the cluster's own secret"), key("an attacker's guess at it"));
        let payload = br#"{"instance":{"id":"d1"}}"#;
        let signature = ours.sign_heartbeat(payload);
        assert!(ours.verify_heartbeat(payload, signature.as_bytes()));
        assert!(!theirs.verify_heartbeat(payload, signature.as_bytes()));
        assert!(!ours.verify_heartbeat(br#"{"instance":{"id":"d2"}}"#, signature.as_bytes()));
        assert!(!ours.verify_heartbeat(payload, theirs.sign_heartbeat(payload).as_bytes()));
        for bad in ["", "zz", &signature[..10], &signature.to_uppercase()[1..]] {
            assert!(!ours.verify_heartbeat(payload, bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn a_hop_signature_binds_method_path_and_time() {
        let key = key("the cluster's own secret");
        let header = key.sign_hop("POST", "/api/v1/simulation/stop", NOW);
        assert_eq!(key.verify_hop("POST", "/api/v1/simulation/stop", &header, NOW + 1_000), Ok(()));
        assert_eq!(key.verify_hop("POST", "/api/v1/fetch", &header, NOW), Err(HopError::Signature));
        assert_eq!(
            key.verify_hop("DELETE", "/api/v1/simulation/stop", &header, NOW),
            Err(HopError::Signature)
        );
        assert_eq!(
            key.verify_hop("POST", "/api/v1/simulation/stop", &header, NOW + 31_000),
            Err(HopError::OutsideWindow(-31_000)),
            "a replay half a minute later"
        );
        // Re-dating a captured header breaks its signature.
        let redated = header.replacen(&NOW.to_string(), &(NOW + 60_000).to_string(), 1);
        assert_eq!(
            key.verify_hop("POST", "/api/v1/simulation/stop", &redated, NOW + 60_000),
            Err(HopError::Signature)
        );
        assert_eq!(key.verify_hop("POST", "/", "garbage", NOW), Err(HopError::Malformed));
    }

    #[test]
    fn a_heartbeat_signature_is_no_hop_signature() {
        let key = key("the cluster's own secret");
        let at = NOW.to_string();
        // The same bytes signed as a heartbeat do not pass as a forward.
        let forged = format!("{at}.{}", key.sign_heartbeat(b"POST"));
        assert_eq!(key.verify_hop("POST", "/", &forged, NOW), Err(HopError::Signature));
    }
}
