//! The HTTP edge: the dashboard's files, the REST API, `GET /health`,
//! `GET /metrics` and `GET /ws`.

pub mod api;
pub mod connections;
mod health;
pub mod origin;
pub mod server;
mod static_files;
pub mod ws;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use marquee_shared::Metrics;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::timeout::RequestBodyTimeoutLayer;
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
    /// The alert sinks, when this process receives and has some.
    notifier: Option<crate::notify::NotifierHandle>,
    events: Events,
    store: SharedStore,
    stats: Arc<PipelineStats>,
    metrics: watch::Receiver<Metrics>,
    static_dir: PathBuf,
    operator_token: Option<Secret>,
    /// Which pages may drive operator routes and `/ws` (`Origin`, `Host`).
    origins: Arc<origin::OriginPolicy>,
    /// The roles of this process, the others it knows of, and a client to
    /// forward operator requests to them.
    roles: crate::config::Roles,
    instances: Arc<crate::cluster::instances::Instances>,
    http: reqwest::Client,
    /// Signs the requests this process forwards and checks those forwarded to it.
    cluster_key: Option<crate::cluster::cluster_key::ClusterKey>,
    /// Routes the engines' adapters add (SNS's subscription endpoint).
    engine_routes: Vec<Router>,
    shutdown: CancellationToken,
    /// The connection table (WebSocket places are taken at upgrade).
    connections: Arc<connections::Connections>,
    /// WebSocket sessions, for the shutdown to wait on.
    sessions: TaskTracker,
    ws: ws::Settings,
    edge: crate::config::EdgeConfig,
}

impl AppState {
    /// The state of a gateway whose connections fit `open_files` descriptors.
    pub fn new(config: &Config, pipeline: &Pipeline, shutdown: CancellationToken, open_files: u64) -> Self {
        let limits = connections::ConnectionLimits::fit(&config.edge, open_files);
        if limits.websockets < config.edge.max_connections {
            tracing::warn!(
                asked = config.edge.max_connections,
                serving = limits.websockets,
                open_files,
                "--max-connections lowered to fit the open-file limit"
            );
        }
        let queue =
            ws::outbox::QueueLimits { messages: config.client_queue, bytes: config.edge.client_queue_bytes };
        Self {
            connections: connections::Connections::new(limits, Arc::clone(&pipeline.stats)),
            sessions: TaskTracker::new(),
            ws: ws::Settings {
                queue,
                stall: config.edge.client_stall_timeout,
                max_subscriptions: config.edge.max_subscriptions,
            },
            edge: config.edge,
            hub: pipeline.hub.clone(),
            driver: pipeline.driver.clone(),
            fetch: pipeline.fetch.clone(),
            notifier: pipeline.notifier.clone(),
            events: pipeline.events.clone(),
            store: Arc::clone(&pipeline.store),
            stats: Arc::clone(&pipeline.stats),
            metrics: pipeline.metrics.clone(),
            static_dir: config.static_dir.clone(),
            operator_token: config.secrets.operator_token.clone(),
            origins: Arc::new(origin::OriginPolicy::new(config.allowed_origins.clone(), config.listen)),
            roles: config.cluster.roles.clone(),
            instances: Arc::clone(&pipeline.instances),
            cluster_key: config.cluster.key.clone(),
            // Forwarding follows no redirect: an answer that points elsewhere
            // goes back to the client as it is, and nothing is sent on.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                // Only a TLS set-up failure fails the build, and then
                // `Client::new` fails (panics) the same way.
                .unwrap_or_else(|_| reqwest::Client::new()),
            engine_routes: pipeline.routes.clone(),
            shutdown,
        }
    }

    /// What the server loop needs to admit, serve and drain connections.
    pub fn edge(&self) -> server::Edge {
        server::Edge {
            connections: Arc::clone(&self.connections),
            sessions: self.sessions.clone(),
            config: self.edge,
        }
    }
}

/// The whole HTTP surface, separate from serving so tests can drive it.
pub fn router(state: AppState) -> Router {
    let engine_routes = state.engine_routes.clone();
    let body_timeout = state.edge.body_timeout;
    let router = Router::new()
        .route("/health", get(health::get))
        .route("/health/live", get(health::live))
        .route("/metrics", get(health::metrics))
        .route("/ws", get(ws::upgrade))
        .method_not_allowed_fallback(api::method_not_allowed)
        .nest("/api/v1", api::routes(&state))
        // Other API versions and paths answer JSON, not the dashboard.
        .route("/api", axum::routing::any(api::not_found))
        .route("/api/{*rest}", axum::routing::any(api::not_found))
        .merge(static_files::router(&state.static_dir))
        .with_state(state);
    engine_routes
        .into_iter()
        .fold(router, Router::merge)
        // A 503 from /health while stages start is expected: a warning, not an error.
        // Handlers log their own internal errors once, at error level.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)))
        // A body that sends nothing for this long fails its request.
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
}
