//! Operator endpoints for the simulation, guarded by the operator token when
//! one is configured.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use marquee_shared::{SimulationState, SpeedRequest};

use super::ApiError;
use super::auth::authorize;
use crate::driver::Command;
use crate::gateway::AppState;

pub async fn state(State(state): State<AppState>) -> Json<SimulationState> {
    Json(state.driver.state())
}

pub async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(action): Path<String>,
) -> Result<Json<SimulationState>, ApiError> {
    authorize(&state, &headers)?;
    let command = match action.as_str() {
        "start" => Command::Start,
        "stop" => Command::Stop,
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        other => {
            return Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "not_found",
                format!("no simulation action {other:?}: use start, stop, pause or resume"),
            ));
        }
    };
    Ok(Json(state.driver.command(command).await?))
}

pub async fn speed(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<SpeedRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<SimulationState>, ApiError> {
    authorize(&state, &headers)?;
    let Json(request) =
        body.map_err(|rejection| ApiError::new(rejection.status(), "bad_body", rejection.body_text()))?;
    Ok(Json(state.driver.command(Command::Speed(request.speed)).await?))
}
