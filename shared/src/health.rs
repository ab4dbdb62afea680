use serde::{Deserialize, Serialize};

use crate::{Latency, SimulationState};

/// Coarse state of the whole system or of one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Up,
    Degraded,
    Down,
}

/// One pipeline stage's health and its measured counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageHealth {
    pub name: String,
    pub status: Status,
    /// Why the stage is not `up`, or what it is doing; human readable.
    pub detail: String,
    /// Messages this stage has handled since start (counted, not estimated).
    pub processed: u64,
    /// Messages this stage skipped rather than delivered (counted).
    pub dropped: u64,
    /// Failures this stage counted (e.g. writes that did not happen).
    pub errors: u64,
    /// For a stage with a buffer: how full it is, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_fill: Option<f64>,
    /// For a stage that writes in batches: batches written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flushes: Option<u64>,
    /// Messages handled per second over the last measured interval.
    #[serde(default)]
    pub rate: f64,
    /// Errors per second over the last measured interval.
    #[serde(default)]
    pub error_rate: f64,
    /// How old a tick is when this stage is done with it (event time to
    /// hand-off), over the recent window; `None` for stages without ticks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
}

/// The body of `GET /health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: Status,
    pub version: String,
    pub uptime_ms: u64,
    pub clients: u64,
    pub simulation: SimulationState,
    pub stages: Vec<StageHealth>,
    /// Tick event time to the gateway's send, over the recent window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_to_end: Option<Latency>,
}

impl Health {
    /// The overall status is the worst status of any stage.
    pub fn overall(stages: &[StageHealth]) -> Status {
        stages.iter().map(|s| s.status).fold(Status::Up, |worst, s| match (worst, s) {
            (Status::Down, _) | (_, Status::Down) => Status::Down,
            (Status::Degraded, _) | (_, Status::Degraded) => Status::Degraded,
            _ => Status::Up,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(status: Status) -> StageHealth {
        StageHealth {
            name: "s".into(),
            status,
            detail: String::new(),
            processed: 0,
            dropped: 0,
            errors: 0,
            buffer_fill: None,
            flushes: None,
            rate: 0.0,
            error_rate: 0.0,
            latency: None,
        }
    }

    #[test]
    fn overall_is_the_worst_stage() {
        assert_eq!(Health::overall(&[]), Status::Up);
        assert_eq!(Health::overall(&[stage(Status::Up), stage(Status::Degraded)]), Status::Degraded);
        assert_eq!(
            Health::overall(&[stage(Status::Down), stage(Status::Degraded), stage(Status::Up)]),
            Status::Down
        );
    }
}
