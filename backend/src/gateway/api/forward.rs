//! Operator requests for a stage this process does not run (a gateway asked
//! to stop the simulation, say) go to a live process that runs it, found by
//! its signed heartbeats. The operator token was checked here and stays
//! here: the request goes on signed with the cluster secret instead, and
//! its answer comes back as it is (no redirect is followed). The body streams through as it arrives,
//! under the bound the route's limit layer put on it; it is never held whole.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::limit::{BodyLimit, exceeded, is_too_large};
use crate::cluster::cluster_key::HOP_HEADER;
use crate::config::Role;
use crate::gateway::AppState;

/// How long the other process may take to answer, the body's upload
/// included: a client trickling its body is cut off here rather than holding
/// a connection to the other process open.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Marks a forwarded request: one that arrives with it is never forwarded
/// again (a process advertising a wrong address would otherwise loop).
const FORWARDED: &str = "x-marquee-forwarded";

/// Serves the request here when this process runs `role`, else forwards it.
pub async fn to(role: Role, State(state): State<AppState>, request: Request, next: Next) -> Response {
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
    let path = path.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{address}{path}");
    let limit = parts.extensions.get::<BodyLimit>().copied();
    let body = reqwest::Body::wrap_stream(body.into_data_stream());
    let mut outgoing =
        state.http.request(parts.method.clone(), &url).timeout(TIMEOUT).header(FORWARDED, "1").body(body);
    if let Some(key) = &state.cluster_key {
        let now_ms = crate::common::time::now_ns() / 1_000_000;
        outgoing = outgoing.header(HOP_HEADER, key.sign_hop(parts.method.as_str(), path, now_ms));
    }
    // Content-Length goes along so the other process frames and bounds the
    // body as this one did (hyper sends a streamed body with it, not chunked).
    // `Authorization` does not: the operator's token stays with this process.
    for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
        if let Some(value) = parts.headers.get(&name) {
            outgoing = outgoing.header(name, value);
        }
    }
    tracing::debug!(role = role.as_str(), %url, "forwarding an operator request");
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        // The client's body went over the route's bound while streaming through.
        Err(err) if is_too_large(&err) => return exceeded(limit).into_response(),
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

#[cfg(test)]
mod tests {
    use http_body_util::Limited;

    use super::*;

    /// A body cut off at its route's bound while it streams to the other
    /// process fails the send in a way [`is_too_large`] recognises, so the
    /// client hears 413, not 502 "did not answer".
    #[tokio::test]
    async fn a_body_over_its_bound_on_the_way_out_is_too_large() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        // The other process: takes the connection and never answers.
        let other = tokio::spawn(async move { listener.accept().await.map(|(stream, _)| stream) });
        let body = Body::new(Limited::new(Body::from(vec![b'x'; 100_000]), 1_000));
        let sent = reqwest::Client::new()
            .post(format!("http://{address}/api/v1/import"))
            .timeout(Duration::from_secs(5))
            .body(reqwest::Body::wrap_stream(body.into_data_stream()))
            .send()
            .await;
        let Err(err) = sent else { panic!("a body over its bound was sent whole") };
        assert!(is_too_large(&err), "{err:?}");
        other.abort();
    }
}
