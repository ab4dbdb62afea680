//! The simulation's state, and its operator endpoints (guarded by the
//! operator token, when one is configured, in `auth`'s layer).

use axum::extract::State;
use marquee_shared::{SimulationState, SpeedRequest};

use super::ApiError;
use super::extract::{Json, Path};
use crate::driver::Command;
use crate::gateway::AppState;

/// Where the live simulation stands.
#[utoipa::path(get, path = "/api/v1/simulation", operation_id = "simulation_state", tag = "simulation", responses((status = 200, body = SimulationState)))]
pub async fn state(State(state): State<AppState>) -> Json<SimulationState> {
    Json(state.driver.state())
}

/// Start, stop, pause or resume the simulation.
#[utoipa::path(post, path = "/api/v1/simulation/{action}", operation_id = "simulation_act", tag = "simulation", security(("operator" = [])),
    params(("action" = String, Path, description = "`start`, `stop`, `pause` or `resume`")),
    responses((status = 200, body = SimulationState),
        (status = 404, description = "`not_found`: no such action", body = marquee_shared::ApiError),
        (status = 409, description = "`refused`: e.g. nothing stored to simulate yet", body = marquee_shared::ApiError)))]
pub async fn act(
    State(state): State<AppState>,
    Path(action): Path<String>,
) -> Result<Json<SimulationState>, ApiError> {
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

/// How many times the configured pace the simulation ticks (0.1 to 100).
#[utoipa::path(put, path = "/api/v1/simulation/speed", operation_id = "simulation_speed", tag = "simulation", security(("operator" = [])),
    request_body = SpeedRequest,
    responses((status = 200, body = SimulationState),
        (status = 422, description = "`bad_speed`", body = marquee_shared::ApiError)))]
pub async fn speed(
    State(state): State<AppState>,
    Json(request): Json<SpeedRequest>,
) -> Result<Json<SimulationState>, ApiError> {
    Ok(Json(state.driver.command(Command::Speed(request.speed)).await?))
}
