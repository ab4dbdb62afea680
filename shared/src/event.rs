use serde::{Deserialize, Serialize};

use crate::Alert;

/// Something that happened in the pipeline. Stored, served by
/// `GET /api/v1/events` and carried by the event bus between stages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// Unique id (a UUID).
    pub id: String,
    /// The stage (and instance) that published it, e.g. `ingest`.
    pub source: String,
    /// When it happened, ns since the epoch, UTC.
    pub ts: i64,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The event types of DESIGN.md, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    SymbolDataLoaded {
        symbol: String,
        records: u64,
        latest_ts: i64,
        latest_close: f64,
    },
    BatchComplete {
        symbols: Vec<String>,
        total_records: u64,
    },
    ThresholdReached {
        symbols: Vec<String>,
    },
    SimulationStarted {
        symbols: Vec<String>,
    },
    SimulationStopped {
        reason: String,
    },
    IngestError {
        symbol: String,
        reason: String,
    },
    /// A live feed moved to another venue (`from` was down) or back.
    FeedSwitched {
        symbols: Vec<String>,
        from: String,
        to: String,
        reason: String,
    },
    /// An operator started playing a stored session again (times in ns).
    ReplayStarted {
        from: i64,
        to: i64,
        speed: f64,
    },
    /// The replay ended: the window played through, or stopped.
    ReplayFinished {
        played: u64,
        reason: String,
    },
    /// An alert a sink could not take after the last try: the dead letter.
    AlertUndelivered {
        sink: String,
        alert: Alert,
        attempts: u32,
        reason: String,
    },
}

impl EventKind {
    /// The `type` tag, e.g. for SNS message attributes.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::SymbolDataLoaded { .. } => "symbol_data_loaded",
            EventKind::BatchComplete { .. } => "batch_complete",
            EventKind::ThresholdReached { .. } => "threshold_reached",
            EventKind::SimulationStarted { .. } => "simulation_started",
            EventKind::SimulationStopped { .. } => "simulation_stopped",
            EventKind::IngestError { .. } => "ingest_error",
            EventKind::FeedSwitched { .. } => "feed_switched",
            EventKind::ReplayStarted { .. } => "replay_started",
            EventKind::ReplayFinished { .. } => "replay_finished",
            EventKind::AlertUndelivered { .. } => "alert_undelivered",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_flat_json_tagged_by_type() {
        let event = Event {
            id: "e1".into(),
            source: "ingest".into(),
            ts: 5,
            kind: EventKind::SymbolDataLoaded {
                symbol: "IBM".into(),
                records: 100,
                latest_ts: 4,
                latest_close: 1.5,
            },
        };
        let json = serde_json::to_value(&event).expect("json");
        assert_eq!(json["type"], "symbol_data_loaded");
        assert_eq!(json["symbol"], "IBM");
        assert_eq!(json["id"], "e1");
        assert_eq!(event.kind.name(), "symbol_data_loaded");
        let back: Event = serde_json::from_value(json).expect("back");
        assert_eq!(back, event);
    }
}
