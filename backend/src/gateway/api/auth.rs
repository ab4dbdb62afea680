//! The operator token check, in one place: a layer in front of every
//! operator endpoint, so handlers never check it themselves.

use axum::extract::{OriginalUri, Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::cluster::cluster_key::HOP_HEADER;
use crate::gateway::AppState;

/// Lets an operator request through only with the token. It runs before
/// anything reads the body and before forwarding, so a request without the
/// token costs its headers only: `401` at once, not a byte of the body read.
/// A request forwarded by another process of the deployment carries that
/// process's signature instead (the token never leaves the gateway that
/// checked it), and passes on it.
pub async fn require_operator(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match authorize(&state, &request) {
        Ok(()) => next.run(request).await,
        Err(refused) => refused.into_response(),
    }
}

/// Passes when no token is configured, the request carries it as
/// `Authorization: Bearer <token>` (the scheme in any case, RFC 9110), or it
/// was forwarded with a valid signature under the cluster secret.
fn authorize(state: &AppState, request: &Request) -> Result<(), ApiError> {
    let Some(expected) = &state.operator_token else { return Ok(()) };
    let headers = request.headers();
    if let Some(hop) = headers.get(HOP_HEADER) {
        return forwarded(state, request, hop.to_str().unwrap_or_default());
    }
    let given = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
    match given {
        Some(given) if same_token(given, expected.expose()) => Ok(()),
        _ => Err(ApiError::unauthorized()),
    }
}

/// A forwarded request: its signature must cover this method, path and
/// query, and be fresh.
fn forwarded(state: &AppState, request: &Request, hop: &str) -> Result<(), ApiError> {
    let refuse = |why: String| {
        tracing::warn!(%why, "a forwarded operator request was refused");
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!("forwarded request refused: {why}"),
        ))
    };
    let Some(key) = &state.cluster_key else {
        return refuse("this process has no MARQUEE_CLUSTER_SECRET to check its signature with".to_owned());
    };
    let uri = request.extensions().get::<OriginalUri>().map_or(request.uri(), |original| &original.0);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let now_ms = crate::common::time::now_ns() / 1_000_000;
    key.verify_hop(request.method().as_str(), path, hop, now_ms).or_else(|err| refuse(err.to_string()))
}

/// The credentials of a `Bearer` authorization.
fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, credentials) = authorization.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(credentials.trim())
}

/// Compares the SHA-256 digests of both, without returning early: neither
/// the token's length nor any prefix of it shows in the time taken.
fn same_token(given: &str, expected: &str) -> bool {
    let (given, expected) = (Sha256::digest(given.as_bytes()), Sha256::digest(expected.as_bytes()));
    given.iter().zip(expected.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::{bearer, same_token};

    #[test]
    fn token_comparison() {
        assert!(same_token("secret", "secret"));
        assert!(!same_token("secret", "secreT"));
        assert!(!same_token("secret", "secret2"));
        assert!(!same_token("", "secret"));
    }

    #[test]
    fn the_bearer_scheme_in_any_case() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
