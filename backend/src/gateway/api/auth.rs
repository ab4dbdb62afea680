//! The operator token check, in one place: a layer in front of every
//! operator endpoint, so handlers never check it themselves.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::gateway::AppState;

/// Lets an operator request through only with the token. It runs before
/// anything reads the body and before forwarding, so a request without the
/// token costs its headers only: `401` at once, not a byte of the body read.
/// A forwarded request keeps its `Authorization` header and is checked again
/// by the process that serves it.
pub async fn require_operator(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match authorize(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refused) => refused.into_response(),
    }
}

/// Passes when no token is configured or the request carries it as
/// `Authorization: Bearer <token>`.
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.operator_token else { return Ok(()) };
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(given) if constant_time_eq(given.as_bytes(), expected.expose().as_bytes()) => Ok(()),
        _ => Err(ApiError::unauthorized()),
    }
}

/// Compares without returning early, so timing does not reveal the prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
