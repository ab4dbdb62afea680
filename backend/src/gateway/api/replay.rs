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

/// Where the operator's replay stands.
#[utoipa::path(get, path = "/api/v1/replay", operation_id = "replay_state", tag = "simulation", responses((status = 200, body = ReplayState)))]
pub async fn state(State(state): State<AppState>) -> Json<ReplayState> {
    Json(state.driver.replay())
}

/// Play a stored session again at `speed` times its pace; the simulation waits meanwhile.
#[utoipa::path(post, path = "/api/v1/replay", operation_id = "replay_start", tag = "simulation", security(("operator" = [])),
    request_body = ReplayRequest,
    responses((status = 202, description = "Playing", body = ReplayState),
        (status = 404, description = "`no_ticks`: none stored in the window", body = marquee_shared::ApiError),
        (status = 409, description = "`refused`: a replay is playing", body = marquee_shared::ApiError)))]
pub async fn start(
    State(state): State<AppState>,
    Json(request): Json<ReplayRequest>,
) -> Result<(StatusCode, Json<ReplayState>), ApiError> {
    let spec = ReplaySpec::parse(&request.from, &request.to, request.speed)
        .map_err(|why| ApiError::bad_request("bad_replay", why))?;
    state.driver.command(Command::Replay(spec)).await?;
    Ok((StatusCode::ACCEPTED, Json(state.driver.replay())))
}

/// Stop the replay playing.
#[utoipa::path(delete, path = "/api/v1/replay", operation_id = "replay_stop", tag = "simulation", security(("operator" = [])),
    responses((status = 200, description = "Finished", body = ReplayState),
        (status = 409, description = "`refused`: none is playing", body = marquee_shared::ApiError)))]
pub async fn stop(State(state): State<AppState>) -> Result<Json<ReplayState>, ApiError> {
    state.driver.command(Command::StopReplay).await?;
    Ok(Json(state.driver.replay()))
}
