use serde::{Deserialize, Serialize};

use crate::{Latency, SimulationState};

/// Coarse state of the whole system or of one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Up,
    Degraded,
    Down,
}

/// One pipeline stage's health and its measured counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// For a stage that produces to Kafka: messages waiting to be delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<u64>,
    /// For a stage that consumes from Kafka: messages not read yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<u64>,
    /// For a stage that produces to Kafka pipelined: ticks sent and not
    /// yet confirmed, and their payload bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight_bytes: Option<u64>,
    /// For a stage that consumes from Kafka: batches read, and the messages
    /// in them (their ratio is the mean batch size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batches: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batched: Option<u64>,
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

/// An external service the pipeline needs (the store, a broker), as last checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dependency {
    pub name: String,
    pub status: Status,
    /// What was checked and what happened, for people.
    pub detail: String,
}

/// One running `marquee` process, as its heartbeats tell. In one process
/// there is one; split across processes, every one sends a heartbeat a
/// second and the gateways list them all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Instance {
    /// Unique per process start.
    pub id: String,
    /// The roles it runs: `ingest`, `driver`, `receiver`, `gateway`.
    pub roles: Vec<String>,
    /// Where it is reached (its advertised URL).
    pub address: String,
    /// `down` once its heartbeats stop; otherwise the worst of its stages.
    pub status: Status,
    /// When its last heartbeat was sent, ns since the epoch.
    pub seen: i64,
    pub uptime_ms: u64,
    /// Its stages, with the figures it measured.
    pub stages: Vec<StageHealth>,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
}

/// The body of `GET /health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    /// Every running instance (this one included).
    #[serde(default)]
    pub instances: Vec<Instance>,
}

impl StageHealth {
    /// A stage with nothing counted or measured yet.
    pub fn new(name: impl Into<String>, status: Status) -> Self {
        Self {
            name: name.into(),
            status,
            detail: String::new(),
            processed: 0,
            dropped: 0,
            errors: 0,
            buffer_fill: None,
            flushes: None,
            queue: None,
            lag: None,
            in_flight: None,
            in_flight_bytes: None,
            batches: None,
            batched: None,
            rate: 0.0,
            error_rate: 0.0,
            latency: None,
        }
    }
}

impl Health {
    /// The overall status is the worst status of any stage. A dependency
    /// that is down degrades it (what is held keeps streaming) but does not
    /// take it down.
    pub fn overall(stages: &[StageHealth]) -> Status {
        stages.iter().map(|s| s.status).fold(Status::Up, worst)
    }

    /// [`Health::overall`] with the dependencies counted too.
    pub fn overall_with(stages: &[StageHealth], dependencies: &[Dependency]) -> Status {
        let from_dependencies = dependencies.iter().fold(Status::Up, |w, d| {
            worst(w, if d.status == Status::Up { Status::Up } else { Status::Degraded })
        });
        worst(Self::overall(stages), from_dependencies)
    }
}

fn worst(a: Status, b: Status) -> Status {
    match (a, b) {
        (Status::Down, _) | (_, Status::Down) => Status::Down,
        (Status::Degraded, _) | (_, Status::Degraded) => Status::Degraded,
        _ => Status::Up,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(status: Status) -> StageHealth {
        StageHealth::new("s", status)
    }

    #[test]
    fn overall_is_the_worst_stage() {
        assert_eq!(Health::overall(&[]), Status::Up);
        assert_eq!(Health::overall(&[stage(Status::Up), stage(Status::Degraded)]), Status::Degraded);
        assert_eq!(
            Health::overall(&[stage(Status::Down), stage(Status::Degraded), stage(Status::Up)]),
            Status::Down
        );
        let store_down = Dependency { name: "store".into(), status: Status::Down, detail: String::new() };
        assert_eq!(
            Health::overall_with(&[stage(Status::Up)], std::slice::from_ref(&store_down)),
            Status::Degraded
        );
        assert_eq!(Health::overall_with(&[stage(Status::Down)], &[store_down]), Status::Down);
    }
}
