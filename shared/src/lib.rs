//! Marquee's wire contract.
//!
//! Every type that crosses between the backend and the browser lives here and
//! nowhere else, so both sides agree by construction. The crate compiles for
//! native targets and for `wasm32-unknown-unknown`: it has no runtime, no
//! clock and no I/O. Timestamps are integers (nanoseconds since the Unix epoch,
//! UTC) so that no float or time-zone conversion can creep into the contract.

mod analytics;
mod control;
mod event;
mod fetch;
pub mod format;
mod forming;
mod health;
mod market;
mod message;
mod metrics;
mod tick;
pub mod validate;

pub use analytics::{
    Alert, AlertKind, AnalyzedBar, BarSeries, IndicatedBar, IndicatorPoint, IndicatorSeries, Indicators,
    Severity,
};
pub use control::{
    ApiError, ApiErrorBody, ReplayRequest, ReplayState, SimulationState, SpeedRequest, TestAlertQueued,
};
pub use event::{Event, EventKind};
pub use fetch::{FetchEntry, FetchJob, FetchRequest, FetchState, Imported, IntradayInterval, OutputSize};
pub use forming::FormingBars;
pub use health::{Dependency, Health, Instance, StageHealth, Status};
pub use market::{Bar, BarInterval, Company, DataSource, Feed, OhlcvBar, Quote, SymbolInfo, SymbolSummary};
pub use message::{Channel, ClientMessage, ErrorCode, ServerMessage, SymbolSelection};
pub use metrics::{
    DeliveryStatus, EdgeFigures, FeedFigures, Latency, Metrics, SPARK_EVERY, SPARK_POINTS, SinkFigures,
    is_spark_point,
};
pub use tick::Tick;
pub use validate::{Invalid, Validate};

/// Nanoseconds in one millisecond, for converting wire timestamps.
pub const NANOS_PER_MILLI: i64 = 1_000_000;
