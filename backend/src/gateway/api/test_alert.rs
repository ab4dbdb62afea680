//! `POST /api/v1/alerts/test` (operator): a test alert to every sink, past
//! its rules and cooldown, so an operator can see Slack, the webhook and
//! the mail arrive. Served by the receiver's process (where sinks run).

use axum::extract::State;
use axum::http::StatusCode;
use marquee_shared::TestAlertQueued;

use super::ApiError;
use super::extract::Json;
use crate::gateway::AppState;

/// A test alert to every alert sink, past its rules and cooldown.
#[utoipa::path(post, path = "/api/v1/alerts/test", operation_id = "send_test_alert", tag = "alerts", security(("operator" = [])),
    responses((status = 202, description = "Queued at these sinks", body = TestAlertQueued),
        (status = 409, description = "`no_sinks`: no --alerts-config", body = marquee_shared::ApiError)))]
pub async fn send(State(state): State<AppState>) -> Result<(StatusCode, Json<TestAlertQueued>), ApiError> {
    let Some(notifier) = &state.notifier else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_sinks",
            "no alert sinks are configured: start marquee with --alerts-config (README, \"Alert delivery\")",
        ));
    };
    Ok((StatusCode::ACCEPTED, Json(TestAlertQueued { sinks: notifier.send_test() })))
}
