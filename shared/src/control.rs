use serde::{Deserialize, Serialize};

/// Where the live simulation stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// Stable, machine-readable, e.g. `unknown_symbol`.
    pub code: String,
    pub message: String,
}

/// The body of `PUT /api/v1/simulation/speed`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpeedRequest {
    pub speed: f64,
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
