//! Publishing events to the SNS topic, and handing the ones this process
//! receives to its subscribers.

use std::time::Duration;

use aws_sdk_sns::types::MessageAttributeValue;
use marquee_shared::Event;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::settings::SnsConfig;
use crate::events::{EventBus, PublishError};

/// Events waiting to be published before `publish` refuses more.
const OUTBOX: usize = 1024;
/// Attempts to publish one event, the first wait between them, doubling.
const ATTEMPTS: u32 = 6;
const FIRST_RETRY: Duration = Duration::from_millis(250);
/// How long shutdown waits for the events still queued.
const DRAIN_LIMIT: Duration = Duration::from_secs(3);

/// An SNS client for the configured region, at the emulator's endpoint if
/// one is set; credentials from the usual AWS sources (environment, profile).
pub async fn client(config: &SnsConfig) -> aws_sdk_sns::Client {
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(super::https_client())
        .region(aws_config::Region::new(config.region.clone()))
        .load()
        .await;
    let mut builder = aws_sdk_sns::config::Builder::from(&shared);
    if let Some(endpoint) = &config.endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_sns::Client::from_conf(builder.build())
}

/// Events out through SNS, events in from this process's endpoint.
#[derive(Debug)]
pub struct SnsBus {
    outbox: mpsc::Sender<Event>,
    local: broadcast::Sender<Event>,
}

impl SnsBus {
    /// The bus, and the task that publishes what is put in it.
    pub fn new(
        client: aws_sdk_sns::Client,
        topic_arn: String,
        local: broadcast::Sender<Event>,
        shutdown: CancellationToken,
    ) -> (Self, impl Future<Output = ()> + Send) {
        let (outbox, pending) = mpsc::channel(OUTBOX);
        (Self { outbox, local }, publish_all(client, topic_arn, pending, shutdown))
    }
}

impl EventBus for SnsBus {
    fn publish(&self, event: Event) -> Result<(), PublishError> {
        self.outbox
            .try_send(event)
            .map_err(|err| PublishError(format!("the SNS outbox cannot take it: {err}")))
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }
}

/// Publishes events in order, each retried with backoff; after shutdown,
/// what is still queued gets one attempt each, for [`DRAIN_LIMIT`] at most
/// (the events are in the store either way).
async fn publish_all(
    client: aws_sdk_sns::Client,
    topic_arn: String,
    mut pending: mpsc::Receiver<Event>,
    shutdown: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            () = shutdown.cancelled() => break,
            event = pending.recv() => match event { Some(e) => e, None => return },
        };
        let mut wait = FIRST_RETRY;
        for attempt in 1..=ATTEMPTS {
            match publish(&client, &topic_arn, &event).await {
                Ok(()) => break,
                Err(err) if attempt < ATTEMPTS && !shutdown.is_cancelled() => {
                    tracing::warn!(%err, attempt, kind = event.kind.name(), "cannot publish to SNS; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => {}
                        () = tokio::time::sleep(wait) => wait *= 2,
                    }
                }
                Err(err) => {
                    tracing::error!(%err, kind = event.kind.name(), id = event.id, "event not published to SNS (it is stored)");
                    break;
                }
            }
        }
    }
    pending.close();
    let drain = async {
        while let Some(event) = pending.recv().await {
            if let Err(err) = publish(&client, &topic_arn, &event).await {
                tracing::error!(%err, kind = event.kind.name(), "event not published to SNS at shutdown (it is stored)");
            }
        }
    };
    if tokio::time::timeout(DRAIN_LIMIT, drain).await.is_err() {
        tracing::error!("events still queued for SNS at shutdown were not published (they are stored)");
    }
}

async fn publish(client: &aws_sdk_sns::Client, topic_arn: &str, event: &Event) -> Result<(), String> {
    let body = serde_json::to_string(event).map_err(|e| e.to_string())?;
    let kind = MessageAttributeValue::builder()
        .data_type("String")
        .string_value(event.kind.name())
        .build()
        .map_err(|e| e.to_string())?;
    client
        .publish()
        .topic_arn(topic_arn)
        .subject(event.kind.name())
        .message(body)
        .message_attributes("event_type", kind)
        .send()
        .await
        .map_err(super::describe)?;
    Ok(())
}
