//! The operator's replay control: `POST /api/v1/replay` plays a stored
//! session again, `DELETE` stops it, `GET` says where it stands (guarded
//! like every operator endpoint; served by the driver's process).

use axum::extract::State;
use axum::http::StatusCode;
use marquee_shared::{ReplayRequest, ReplayState};

use super::ApiError;
use super::extract::Json;
use crate::config::ReplaySpec;
use crate::driver::Command;
use crate::gateway::AppState;

pub async fn state(State(state): State<AppState>) -> Json<ReplayState> {
    Json(state.driver.replay())
}

pub async fn start(
    State(state): State<AppState>,
    Json(request): Json<ReplayRequest>,
) -> Result<(StatusCode, Json<ReplayState>), ApiError> {
    let spec = ReplaySpec::parse(&request.from, &request.to, request.speed)
        .map_err(|why| ApiError::bad_request("bad_replay", why))?;
    state.driver.command(Command::Replay(spec)).await?;
    Ok((StatusCode::ACCEPTED, Json(state.driver.replay())))
}

pub async fn stop(State(state): State<AppState>) -> Result<Json<ReplayState>, ApiError> {
    state.driver.command(Command::StopReplay).await?;
    Ok(Json(state.driver.replay()))
}
