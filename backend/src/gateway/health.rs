//! `GET /health` (overall status, each stage with its measured figures),
//! `GET /health/live` (the process answers) and `GET /metrics` (the same
//! figures for Prometheus).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use marquee_shared::{Health, Status};

use super::AppState;
use crate::metrics::prometheus;

/// The pipeline's health: each stage with its measured figures, each dependency, every instance.
#[utoipa::path(get, path = "/health", operation_id = "health", tag = "operations",
    responses((status = 200, description = "Up or degraded", body = Health),
        (status = 503, description = "Down (the body says why)", body = Health)))]
pub async fn get(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let health = state.stats.health(state.driver.state(), &state.metrics.borrow());
    // Load balancers read the status code; people read the body.
    let code = if health.status == Status::Down { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    (code, Json(health))
}

/// `GET /health/live`: 200 while the process serves HTTP at all, whatever
/// the pipeline's state (a liveness probe: a down engine is no reason to
/// restart the process; `/health` is the readiness one).
#[utoipa::path(get, path = "/health/live", operation_id = "health_live", tag = "operations",
    responses((status = 200, description = "The process serves", body = String, content_type = "text/plain")))]
pub async fn live() -> &'static str {
    "alive\n"
}

/// The measured figures in the Prometheus text format (version 0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = prometheus::render(&state.stats, &state.metrics.borrow());
    ([(header::CONTENT_TYPE, prometheus::CONTENT_TYPE)], body)
}
