//! The event bus of this process: in process, or SNS when a topic is set.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, Role};
use crate::events::{EventBus, InProcessBus};
use crate::instances::ThisInstance;

/// Events a slow subscriber may fall behind before it re-reads the store.
const EVENT_QUEUE: usize = 1024;

/// This process's SNS subscription endpoint, when events go through SNS.
#[cfg(feature = "sns")]
pub type SnsEndpoint = Option<Arc<crate::sns::Endpoint>>;
#[cfg(not(feature = "sns"))]
pub type SnsEndpoint = ();

/// The bus, and the endpoint SNS posts to if it is SNS. A process with a
/// driver or a gateway subscribes (they act on or show events); one that
/// only ingests or receives just publishes.
pub async fn event_bus(
    config: &Config,
    this: &ThisInstance,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) -> anyhow::Result<(Arc<dyn EventBus>, SnsEndpoint)> {
    let Some(sns) = &config.cluster.sns else {
        let _ = (this, tasks, shutdown);
        return Ok((Arc::new(InProcessBus::new(EVENT_QUEUE)), SnsEndpoint::default()));
    };
    #[cfg(feature = "sns")]
    {
        let client = crate::sns::bus::client(sns).await;
        let local = tokio::sync::broadcast::channel(EVENT_QUEUE).0;
        let (bus, publisher) =
            crate::sns::SnsBus::new(client.clone(), sns.topic_arn.clone(), local.clone(), shutdown.clone());
        tasks.spawn(publisher);
        let roles = &config.cluster.roles;
        let endpoint = if roles.has(Role::Driver) || roles.has(Role::Gateway) {
            let verifier = sns.verify.then(|| crate::sns::verify::Verifier::new(&sns.region));
            let url = format!("{}{}", this.address, crate::sns::ENDPOINT_PATH);
            let mut endpoint = crate::sns::Endpoint::new(sns.topic_arn.clone(), verifier, client, local, url);
            if sns.verify {
                // A genuinely signed message replayed an hour later is refused.
                endpoint = endpoint.refusing_older_than(std::time::Duration::from_secs(3600));
                if sns.require_sha256 {
                    endpoint = endpoint.requiring_sha256();
                }
            }
            let endpoint = Arc::new(endpoint);
            let running = Arc::clone(&endpoint);
            let shutdown = shutdown.clone();
            tasks.spawn(async move { running.run(shutdown).await });
            Some(endpoint)
        } else {
            None
        };
        tracing::info!(topic = sns.topic_arn, verify = sns.verify, "events go through SNS");
        Ok((Arc::new(bus), endpoint))
    }
    #[cfg(not(feature = "sns"))]
    {
        let _ = (sns, Role::Driver);
        anyhow::bail!("this marquee was built without SNS support")
    }
}
