use marquee_shared::Event;
use tokio::sync::broadcast;

use super::{EventBus, PublishError};

/// Events published to, and received from, this process only.
#[derive(Debug)]
pub struct InProcessBus {
    sender: broadcast::Sender<Event>,
}

impl InProcessBus {
    /// A bus on which a subscriber may fall `capacity` events behind.
    pub fn new(capacity: usize) -> Self {
        Self { sender: broadcast::channel(capacity).0 }
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, event: Event) -> Result<(), PublishError> {
        // An error only means nobody subscribes right now: not a failure.
        if self.sender.send(event).is_err() {
            tracing::debug!("event published with no subscriber");
        }
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use marquee_shared::EventKind;

    use super::*;

    #[tokio::test]
    async fn subscribers_receive_what_is_published_after_they_subscribe() {
        let bus = InProcessBus::new(8);
        let event = |id: &str| Event {
            id: id.into(),
            source: "t".into(),
            ts: 0,
            kind: EventKind::SimulationStopped { reason: String::new() },
        };
        bus.publish(event("before")).expect("publish without subscribers");
        let mut rx = bus.subscribe();
        bus.publish(event("after")).expect("publish");
        assert_eq!(rx.recv().await.expect("event").id, "after");
    }
}
