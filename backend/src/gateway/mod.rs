//! The HTTP edge: the dashboard's files, `GET /health` and `GET /ws`.

mod health;
mod static_files;
pub mod ws;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::hub::HubHandle;
use crate::pipeline::{Pipeline, PipelineStats};

/// What every handler may use. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    hub: HubHandle,
    stats: Arc<PipelineStats>,
    static_dir: PathBuf,
    shutdown: CancellationToken,
}

impl AppState {
    pub fn new(config: &Config, pipeline: &Pipeline, shutdown: CancellationToken) -> Self {
        Self {
            hub: pipeline.hub.clone(),
            stats: Arc::clone(&pipeline.stats),
            static_dir: config.static_dir.clone(),
            shutdown,
        }
    }
}

/// The whole HTTP surface, separate from serving so tests can drive it.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::get))
        .route("/ws", get(ws::upgrade))
        .merge(static_files::router(&state.static_dir))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
