//! The HTTP subscription endpoint: subscribes this process to the topic,
//! and turns what SNS posts into events for local subscribers, acting on
//! nothing whose signature fails when verification is on.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use marquee_shared::{Dependency, Event, Status};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::SnsMessage;
use super::verify::{Verifier, VerifyError};

/// Message ids remembered to drop SNS's repeated deliveries.
const REMEMBERED: usize = 512;
/// Waits between attempts to subscribe, doubling up to the last.
const SUBSCRIBE_RETRY: Duration = Duration::from_secs(1);
const SUBSCRIBE_RETRY_MAX: Duration = Duration::from_secs(30);

/// Why a posted message was refused.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    #[error("not an SNS message: {0}")]
    Json(String),
    #[error("the message is for topic {0}, not ours")]
    WrongTopic(String),
    #[error("signature check failed: {0}")]
    Unverified(#[from] VerifyError),
    #[error("the notification does not hold a Marquee event: {0}")]
    NotAnEvent(String),
    #[error("unknown SNS message type {0:?}")]
    Type(String),
    #[error("cannot confirm the subscription: {0}")]
    Confirm(String),
}

/// What a posted message did.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    Event(Event),
    /// Delivered before (SNS delivers at least once): not passed on again.
    Repeated,
    Confirmed,
    Unsubscribed,
}

/// This process's subscription to the events topic.
#[derive(Debug)]
pub struct Endpoint {
    topic_arn: String,
    /// `None` when verification is off (emulators).
    verifier: Option<Verifier>,
    client: aws_sdk_sns::Client,
    local: broadcast::Sender<Event>,
    /// Where SNS posts to: this process's advertised URL and the endpoint path.
    url: String,
    subscription: Mutex<Option<String>>,
    seen: Mutex<VecDeque<String>>,
    /// Events passed on, and messages refused, since start.
    received: AtomicU64,
    refused: AtomicU64,
}

impl Endpoint {
    pub fn new(
        topic_arn: String,
        verifier: Option<Verifier>,
        client: aws_sdk_sns::Client,
        local: broadcast::Sender<Event>,
        url: String,
    ) -> Self {
        if verifier.is_none() {
            tracing::warn!(
                "SNS signatures are not verified (--sns-verify false): use this only with an emulator"
            );
        }
        Self {
            topic_arn,
            verifier,
            client,
            local,
            url,
            subscription: Mutex::new(None),
            seen: Mutex::new(VecDeque::with_capacity(REMEMBERED)),
            received: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// The subscription as a dependency: up once SNS has a subscription for
    /// this endpoint, with what has arrived through it.
    pub fn dependency(&self) -> Dependency {
        let subscription = self.subscription.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let (received, refused) =
            (self.received.load(Ordering::Relaxed), self.refused.load(Ordering::Relaxed));
        let (status, detail) = match subscription {
            Some(arn) => (
                Status::Up,
                format!(
                    "SNS: {} subscribed ({arn}); {received} events received, {refused} messages refused",
                    self.url
                ),
            ),
            None => (
                Status::Down,
                format!(
                    "SNS: {} is not subscribed to {} (yet); {received} events received, {refused} messages refused",
                    self.url, self.topic_arn
                ),
            ),
        };
        Dependency { name: "sns".to_owned(), status, detail }
    }

    /// Handles one posted body.
    pub async fn receive(&self, body: &[u8]) -> Result<Received, Rejected> {
        let outcome = self.handle(body).await;
        match &outcome {
            Ok(Received::Event(_)) => self.received.fetch_add(1, Ordering::Relaxed),
            Ok(_) => 0,
            Err(_) => self.refused.fetch_add(1, Ordering::Relaxed),
        };
        outcome
    }

    async fn handle(&self, body: &[u8]) -> Result<Received, Rejected> {
        let message: SnsMessage = serde_json::from_slice(body).map_err(|e| Rejected::Json(e.to_string()))?;
        if message.topic_arn != self.topic_arn {
            return Err(Rejected::WrongTopic(message.topic_arn));
        }
        if let Some(verifier) = &self.verifier {
            verifier.verify(&message).await?;
        }
        match message.kind.as_str() {
            "Notification" => {
                if self.repeated(&message.message_id) {
                    return Ok(Received::Repeated);
                }
                let event: Event = serde_json::from_str(&message.message)
                    .map_err(|e| Rejected::NotAnEvent(e.to_string()))?;
                if self.local.send(event.clone()).is_err() {
                    tracing::debug!("event received with no subscriber");
                }
                Ok(Received::Event(event))
            }
            "SubscriptionConfirmation" => {
                let token = message.token.ok_or_else(|| Rejected::Confirm("no Token".into()))?;
                let confirmed = self
                    .client
                    .confirm_subscription()
                    .topic_arn(&self.topic_arn)
                    .token(token)
                    .send()
                    .await
                    .map_err(|e| Rejected::Confirm(super::describe(e)))?;
                tracing::info!(subscription = ?confirmed.subscription_arn(), "SNS subscription confirmed");
                *self.subscription.lock().unwrap_or_else(|p| p.into_inner()) =
                    confirmed.subscription_arn().map(str::to_owned);
                Ok(Received::Confirmed)
            }
            "UnsubscribeConfirmation" => {
                tracing::warn!(
                    topic = self.topic_arn,
                    "this endpoint was unsubscribed from the events topic"
                );
                *self.subscription.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Ok(Received::Unsubscribed)
            }
            other => Err(Rejected::Type(other.to_owned())),
        }
    }

    fn repeated(&self, id: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.iter().any(|s| s == id) {
            return true;
        }
        if seen.len() == REMEMBERED {
            seen.pop_front();
        }
        seen.push_back(id.to_owned());
        false
    }

    /// Subscribes (retrying until SNS answers), then, at shutdown,
    /// unsubscribes so SNS stops posting to a process that is gone.
    pub async fn run(&self, shutdown: CancellationToken) {
        let protocol = if self.url.starts_with("https://") { "https" } else { "http" };
        let mut wait = SUBSCRIBE_RETRY;
        loop {
            let answer = self
                .client
                .subscribe()
                .topic_arn(&self.topic_arn)
                .protocol(protocol)
                .endpoint(&self.url)
                .return_subscription_arn(true)
                .send()
                .await;
            match answer {
                Ok(subscribed) => {
                    tracing::info!(endpoint = self.url, subscription = ?subscribed.subscription_arn(), "subscribed to SNS events");
                    let mut held = self.subscription.lock().unwrap_or_else(|p| p.into_inner());
                    if held.is_none() {
                        *held = subscribed.subscription_arn().map(str::to_owned);
                    }
                    break;
                }
                Err(err) => {
                    let err = super::describe(err);
                    tracing::warn!(%err, retry_s = wait.as_secs(), "cannot subscribe to SNS events");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => wait = (wait * 2).min(SUBSCRIBE_RETRY_MAX),
            }
        }
        shutdown.cancelled().await;
        let held = self.subscription.lock().unwrap_or_else(|p| p.into_inner()).take();
        // Only a real ARN: SNS answers "pending confirmation" until confirmed.
        if let Some(arn) = held.filter(|arn| arn.starts_with("arn:")) {
            match self.client.unsubscribe().subscription_arn(&arn).send().await {
                Ok(_) => tracing::info!(subscription = arn, "unsubscribed from SNS events"),
                Err(err) => {
                    let err = super::describe(err);
                    tracing::warn!(%err, "cannot unsubscribe from SNS events");
                }
            }
        }
    }
}
