//! The REST API under `/api/v1`.

mod auth;
mod error;
mod fetch;
mod forward;
mod import;
mod market;
mod params;
mod simulation;

use axum::Router;
use axum::routing::{get, post, put};
pub use error::ApiError;

use super::AppState;

pub fn routes(state: &AppState) -> Router<AppState> {
    let ingest = Router::new()
        .route("/fetch", post(fetch::submit))
        .route("/fetch/{job}", get(fetch::job))
        .route("/import", post(import::import).layer(axum::extract::DefaultBodyLimit::max(32 * 1024 * 1024)))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), forward::to_ingest));
    let driver = Router::new()
        .route("/simulation/speed", put(simulation::speed))
        .route("/simulation/{action}", post(simulation::act))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), forward::to_driver));
    Router::new()
        .route("/symbols", get(market::symbols))
        .route("/quotes/{symbol}", get(market::quote))
        .route("/bars/{symbol}", get(market::bars))
        .route("/companies/{symbol}", get(market::company))
        .route("/ticks/{symbol}", get(market::ticks))
        .route("/events", get(market::events))
        .route("/indicators/{symbol}", get(market::indicators))
        .route("/alerts", get(market::alerts))
        .route("/simulation", get(simulation::state))
        .merge(ingest)
        .merge(driver)
        .fallback(|| async {
            ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
}
