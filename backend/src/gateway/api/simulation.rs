//! The simulation's state, and its operator endpoints (guarded by the
//! operator token, when one is configured, in `auth`'s layer).

use axum::extract::State;
use marquee_shared::{SimulationState, SpeedRequest};

use super::ApiError;
use super::extract::{Json, Path};
use crate::driver::Command;
use crate::gateway::AppState;

pub async fn state(State(state): State<AppState>) -> Json<SimulationState> {
    Json(state.driver.state())
}

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

pub async fn speed(
    State(state): State<AppState>,
    Json(request): Json<SpeedRequest>,
) -> Result<Json<SimulationState>, ApiError> {
    Ok(Json(state.driver.command(Command::Speed(request.speed)).await?))
}
