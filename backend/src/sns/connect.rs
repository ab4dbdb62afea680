//! Events through SNS, as the pipeline wiring asks for them: the bus every
//! process publishes on, and the subscription endpoint of a process that
//! acts on or shows events, with its route and its dependency check.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use marquee_shared::Dependency;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::settings::SnsConfig;
use super::{ENDPOINT_PATH, Endpoint, SnsBus};
use crate::events::EventBus;
use crate::metrics::{Checked, DependencyCheck};

/// Events a slow local subscriber may fall behind before it re-reads the store.
const LOCAL_QUEUE: usize = 1024;
/// A genuinely signed message replayed later than this is refused.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// What SNS adds to a process.
#[derive(Debug)]
pub struct SnsWiring {
    pub bus: Arc<dyn EventBus>,
    /// Present when this process subscribes.
    pub endpoint: Option<Arc<Endpoint>>,
}

impl SnsWiring {
    /// The endpoint's route, for the gateway to serve.
    pub fn routes(&self) -> axum::Router {
        super::route::routes(self.endpoint.clone())
    }

    /// The subscription as a dependency on `/health`.
    pub fn dependency(&self) -> Option<DependencyCheck> {
        self.endpoint.clone().map(|endpoint| DependencyCheck::new(Subscription(endpoint)))
    }
}

/// Starts publishing to the topic and, when `subscribe_at` (this process's
/// advertised address) is given, the endpoint SNS posts events to there.
pub async fn connect(
    sns: &SnsConfig,
    subscribe_at: Option<&str>,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) -> SnsWiring {
    let client = super::bus::client(sns).await;
    let local = tokio::sync::broadcast::channel(LOCAL_QUEUE).0;
    let (bus, publisher) =
        SnsBus::new(client.clone(), sns.topic_arn.clone(), local.clone(), shutdown.clone());
    tasks.spawn(publisher);
    let endpoint = subscribe_at.map(|address| {
        let verifier = sns.verify.then(|| super::verify::Verifier::new(&sns.region));
        let url = format!("{address}{ENDPOINT_PATH}");
        let mut endpoint = Endpoint::new(sns.topic_arn.clone(), verifier, client, local, url);
        if sns.verify {
            endpoint = endpoint.refusing_older_than(MAX_AGE);
            if sns.require_sha256 {
                endpoint = endpoint.requiring_sha256();
            }
        }
        let endpoint = Arc::new(endpoint);
        let running = Arc::clone(&endpoint);
        let shutdown = shutdown.clone();
        tasks.spawn(async move { running.run(shutdown).await });
        endpoint
    });
    tracing::info!(topic = sns.topic_arn, verify = sns.verify, "events go through SNS");
    SnsWiring { bus: Arc::new(bus), endpoint }
}

/// The subscription, checked from what it has seen (no call to SNS).
#[derive(Debug)]
struct Subscription(Arc<Endpoint>);

impl Checked for Subscription {
    fn check(&self, _timeout: Duration) -> BoxFuture<'_, Dependency> {
        Box::pin(std::future::ready(self.0.dependency()))
    }
}
