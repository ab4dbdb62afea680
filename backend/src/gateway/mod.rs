//! The HTTP edge: the dashboard's files, the REST API, `GET /health`,
//! `GET /metrics` and `GET /ws`.

pub mod api;
mod health;
#[cfg(feature = "sns")]
mod sns;
mod static_files;
pub mod ws;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use marquee_shared::Metrics;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::config::{Config, Secret};
use crate::driver::DriverHandle;
use crate::events::Events;
use crate::hub::HubHandle;
use crate::ingest::fetch::FetchHandle;
use crate::metrics::PipelineStats;
use crate::pipeline::Pipeline;
use crate::store::SharedStore;

/// What every handler may use. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    hub: HubHandle,
    driver: DriverHandle,
    fetch: Option<FetchHandle>,
    events: Events,
    store: SharedStore,
    stats: Arc<PipelineStats>,
    metrics: watch::Receiver<Metrics>,
    static_dir: PathBuf,
    operator_token: Option<Secret>,
    /// The roles of this process, the others it knows of, and a client to
    /// forward operator requests to them.
    roles: crate::config::Roles,
    instances: Arc<crate::instances::Instances>,
    http: reqwest::Client,
    #[cfg(feature = "sns")]
    sns: Option<Arc<crate::sns::Endpoint>>,
    shutdown: CancellationToken,
}

impl AppState {
    pub fn new(config: &Config, pipeline: &Pipeline, shutdown: CancellationToken) -> Self {
        Self {
            hub: pipeline.hub.clone(),
            driver: pipeline.driver.clone(),
            fetch: pipeline.fetch.clone(),
            events: pipeline.events.clone(),
            store: Arc::clone(&pipeline.store),
            stats: Arc::clone(&pipeline.stats),
            metrics: pipeline.metrics.clone(),
            static_dir: config.static_dir.clone(),
            operator_token: config.secrets.operator_token.clone(),
            roles: config.cluster.roles.clone(),
            instances: Arc::clone(&pipeline.instances),
            http: reqwest::Client::new(),
            #[cfg(feature = "sns")]
            sns: pipeline.sns.clone(),
            shutdown,
        }
    }
}

/// The whole HTTP surface, separate from serving so tests can drive it.
pub fn router(state: AppState) -> Router {
    let router = Router::new();
    #[cfg(feature = "sns")]
    let router = router.route(crate::sns::ENDPOINT_PATH, axum::routing::post(sns::receive));
    router
        .route("/health", get(health::get))
        .route("/metrics", get(health::metrics))
        .route("/ws", get(ws::upgrade))
        .nest("/api/v1", api::routes(&state))
        .merge(static_files::router(&state.static_dir))
        // A 503 from /health while stages start is expected: a warning, not an error.
        // Handlers log their own internal errors once, at error level.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)))
        .with_state(state)
}
