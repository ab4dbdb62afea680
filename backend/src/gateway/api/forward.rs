//! Operator requests for a stage this process does not run (a gateway asked
//! to stop the simulation, say) go to a live process that runs it, found by
//! its heartbeats, unchanged (the operator token included, checked there);
//! its answer comes back as it is.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::config::Role;
use crate::gateway::AppState;

/// The largest body forwarded (a CSV import).
const MAX_BODY: usize = 32 * 1024 * 1024;
/// How long the other process may take to answer.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Marks a forwarded request: one that arrives with it is never forwarded
/// again (a process advertising a wrong address would otherwise loop).
const FORWARDED: &str = "x-marquee-forwarded";

pub async fn to_driver(State(state): State<AppState>, request: Request, next: Next) -> Response {
    forward(state, Role::Driver, request, next).await
}

pub async fn to_ingest(State(state): State<AppState>, request: Request, next: Next) -> Response {
    forward(state, Role::Ingest, request, next).await
}

async fn forward(state: AppState, role: Role, request: Request, next: Next) -> Response {
    if state.roles.has(role) {
        return next.run(request).await;
    }
    if request.headers().contains_key(FORWARDED) {
        let message = format!(
            "this process does not run the {} role, yet a request for it was forwarded here: check --advertise-url",
            role.as_str()
        );
        return ApiError::new(StatusCode::LOOP_DETECTED, "forward_loop", message).into_response();
    }
    let Some(address) = state.instances.address_of(role, Instant::now()) else {
        let message = format!("no {} process is running (none has sent a heartbeat for 5 s)", role.as_str());
        return ApiError::unavailable(message).into_response();
    };
    let (parts, body) = request.into_parts();
    let path = parts.extensions.get::<OriginalUri>().map_or(&parts.uri, |original| &original.0);
    let url = format!("{address}{}", path.path_and_query().map_or("/", |p| p.as_str()));
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body is too large")
            .into_response();
    };
    let mut outgoing =
        state.http.request(parts.method, &url).timeout(TIMEOUT).header(FORWARDED, "1").body(body);
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE] {
        if let Some(value) = parts.headers.get(&name) {
            outgoing = outgoing.header(name, value);
        }
    }
    tracing::debug!(role = role.as_str(), %url, "forwarding an operator request");
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(err) => {
            let message = format!("the {} process at {address} did not answer: {err}", role.as_str());
            return ApiError::new(StatusCode::BAD_GATEWAY, "forward_failed", message).into_response();
        }
    };
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    match answer.bytes().await {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            let json = HeaderValue::from_static("application/json");
            response.headers_mut().insert(header::CONTENT_TYPE, content_type.unwrap_or(json));
            response
        }
        Err(err) => {
            let message = format!("the {} process's answer was cut short: {err}", role.as_str());
            ApiError::new(StatusCode::BAD_GATEWAY, "forward_failed", message).into_response()
        }
    }
}
