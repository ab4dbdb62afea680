use serde::{Deserialize, Serialize};

/// Where the live simulation stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SimulationState {
    /// Fewer symbols are stored than the threshold: `have` of `need`.
    Waiting {
        have: u64,
        need: u64,
    },
    Running {
        symbols: u64,
        speed: f64,
    },
    Paused {
        symbols: u64,
        speed: f64,
    },
    /// Stopped by an operator; it stays stopped until started again.
    Stopped {
        symbols: u64,
    },
}

impl SimulationState {
    /// A one-line description for people, e.g. "waiting for data: 3/5 symbols".
    pub fn describe(&self) -> String {
        match self {
            SimulationState::Waiting { have, need } => format!("waiting for data: {have}/{need} symbols"),
            SimulationState::Running { symbols, speed } => format!("streaming {symbols} symbols at {speed}x"),
            SimulationState::Paused { symbols, .. } => format!("paused ({symbols} symbols)"),
            SimulationState::Stopped { .. } => "stopped by the operator".to_owned(),
        }
    }
}

/// The body of every REST error: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiErrorBody {
    /// Stable, machine-readable, e.g. `unknown_symbol`.
    pub code: String,
    pub message: String,
}

/// The body of `PUT /api/v1/simulation/speed`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpeedRequest {
    pub speed: f64,
}

/// The body of `POST /api/v1/replay`: the stored session to play again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplayRequest {
    /// The session's start: a date (`2026-12-07`), an RFC 3339 time or ns
    /// since the epoch.
    pub from: String,
    /// Its end, the same way (inclusive).
    pub to: String,
    /// How much faster than recorded (0.01 to 10000).
    #[serde(default = "one")]
    #[cfg_attr(feature = "openapi", schema(default = 1.0))]
    pub speed: f64,
}

fn one() -> f64 {
    1.0
}

/// Where a replay started by an operator stands (`GET /api/v1/replay`).
/// Times are ns since the epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReplayState {
    /// None has been played since the server started.
    Idle,
    /// Playing; the simulation waits meanwhile.
    Playing { from: i64, to: i64, speed: f64, played: u64 },
    /// The last one ended: played to the window's end, or stopped.
    Finished { from: i64, to: i64, speed: f64, played: u64, reason: String },
}

/// The answer to `POST /api/v1/alerts/test`: the sinks a test alert was
/// queued for (their delivery shows on `/metrics` and the dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestAlertQueued {
    pub sinks: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_describes_progress_towards_the_threshold() {
        let state = SimulationState::Waiting { have: 3, need: 5 };
        assert_eq!(state.describe(), "waiting for data: 3/5 symbols");
        let json = serde_json::to_value(state).expect("json");
        assert_eq!((json["state"].as_str(), json["have"].as_u64()), (Some("waiting"), Some(3)));
    }
}
