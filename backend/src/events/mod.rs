//! Pipeline events: built and stored by [`Events`], carried between stages
//! by an [`EventBus`]. In-process by default; the bus is an interface so a
//! networked one (SNS) can take its place without touching the stages.

mod in_process;

use std::fmt::Debug;
use std::sync::Arc;

pub use in_process::InProcessBus;
use marquee_shared::{Event, EventKind};
use tokio::sync::broadcast;

use crate::common::time::now_ns;
use crate::store::SharedStore;

/// Why an event could not be published.
#[derive(Debug, thiserror::Error)]
#[error("cannot publish event: {0}")]
pub struct PublishError(pub String);

/// Carries events to every subscriber.
pub trait EventBus: Send + Sync + Debug {
    fn publish(&self, event: Event) -> Result<(), PublishError>;
    /// Every event published from now on. A slow subscriber gets `Lagged`
    /// and should re-read what it needs from the store.
    fn subscribe(&self) -> broadcast::Receiver<Event>;
}

/// Builds events (id, source, time), stores them, then publishes them.
#[derive(Debug, Clone)]
pub struct Events {
    bus: Arc<dyn EventBus>,
    store: SharedStore,
    source: &'static str,
}

impl Events {
    pub fn new(bus: Arc<dyn EventBus>, store: SharedStore, source: &'static str) -> Self {
        Self { bus, store, source }
    }

    /// The same bus and store, publishing as another stage.
    pub fn as_source(&self, source: &'static str) -> Self {
        Self { source, ..self.clone() }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.bus.subscribe()
    }

    /// Records and publishes `kind`. Failures are logged, not returned: an
    /// event that cannot be stored is still worth delivering, and the other
    /// way round.
    pub async fn emit(&self, kind: EventKind) -> Event {
        let event = Event {
            id: uuid::Uuid::new_v4().to_string(),
            source: self.source.to_owned(),
            ts: now_ns(),
            kind,
        };
        tracing::info!(kind = event.kind.name(), source = self.source, "event");
        if let Err(err) = self.store.append_event(event.clone()).await {
            tracing::error!(%err, kind = event.kind.name(), "cannot store event");
        }
        if let Err(err) = self.bus.publish(event.clone()) {
            tracing::error!(%err, kind = event.kind.name(), "cannot publish event");
        }
        event
    }
}
