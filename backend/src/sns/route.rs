//! `POST /sns/events`: where SNS delivers events to this process, a route
//! this adapter adds to the gateway's.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{ENDPOINT_PATH, Endpoint, Rejected, verify::VerifyError};
use crate::gateway::api::ApiError;

/// The subscription endpoint's route, served beside the gateway's. A
/// process that does not subscribe (it runs neither a driver nor a gateway)
/// says so there, rather than answering as if the path were a file.
pub fn routes(endpoint: Option<Arc<Endpoint>>) -> Router {
    match endpoint {
        Some(endpoint) => {
            Router::new().route(ENDPOINT_PATH, axum::routing::post(receive)).with_state(endpoint)
        }
        None => Router::new().route(ENDPOINT_PATH, axum::routing::any(not_subscribed)),
    }
}

async fn not_subscribed() -> ApiError {
    let message =
        "events do not reach this process through SNS: only processes with a driver or a gateway subscribe";
    ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
}

/// Answers 200 for what was handled (SNS then stops retrying), 403 for a
/// message that is not signed by SNS or not for our topic, 400 for one that
/// is not an SNS message or holds no event, 502 when confirming failed, 503
/// when it may be taken later (a certificate cannot be had now, too many
/// messages to remember).
async fn receive(State(endpoint): State<Arc<Endpoint>>, body: Bytes) -> Response {
    match endpoint.receive(&body).await {
        Ok(received) => {
            tracing::debug!(?received, "SNS message handled");
            StatusCode::OK.into_response()
        }
        Err(rejected) => {
            let (status, code) = match &rejected {
                Rejected::Unverified(VerifyError::Fetch(_) | VerifyError::Busy(_)) => {
                    (StatusCode::SERVICE_UNAVAILABLE, "certificate_unavailable")
                }
                Rejected::Unverified(_) => (StatusCode::FORBIDDEN, "bad_signature"),
                Rejected::WrongTopic(_) => (StatusCode::FORBIDDEN, "wrong_topic"),
                Rejected::Stale(_) => (StatusCode::FORBIDDEN, "stale_message"),
                Rejected::Downgrade => (StatusCode::FORBIDDEN, "signature_downgrade"),
                // SNS retries a 5xx later, when older ids have expired.
                Rejected::TooMany(_) => (StatusCode::SERVICE_UNAVAILABLE, "too_many_messages"),
                Rejected::Json(_) | Rejected::NotAnEvent(_) | Rejected::Type(_) => {
                    (StatusCode::BAD_REQUEST, "bad_message")
                }
                Rejected::Confirm(_) => (StatusCode::BAD_GATEWAY, "confirm_failed"),
            };
            tracing::warn!(%rejected, "SNS message refused");
            ApiError::new(status, code, rejected.to_string()).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_process_that_does_not_subscribe_says_so() {
        let request = Request::post(ENDPOINT_PATH).body(Body::from("{}")).expect("request");
        let response = routes(None).oneshot(request).await.expect("answer");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = http_body_util::BodyExt::collect(response.into_body()).await.expect("body").to_bytes();
        let error: marquee_shared::ApiError = serde_json::from_slice(&body).expect("an API error");
        assert!(
            error.error.message.contains("only processes with a driver or a gateway subscribe"),
            "{error:?}"
        );
    }
}
