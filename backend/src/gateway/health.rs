//! `GET /health`: overall status, each stage with its measured counters.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use marquee_shared::{Health, Status};

use super::AppState;

pub async fn get(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let stats = &state.stats;
    let stages: Vec<_> = stats.stages().iter().map(|s| s.health()).collect();
    let status = Health::overall(&stages);
    let health = Health {
        status,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        uptime_ms: u64::try_from(stats.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        clients: stats.clients.get(),
        simulation: state.driver.state(),
        stages,
    };
    // Load balancers read the status code; people read the body.
    let code = if status == Status::Down { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    (code, Json(health))
}
