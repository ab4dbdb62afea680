//! One sink: its transport, and the task that delivers its queue one alert
//! at a time, retrying as its policy says and recording an alert it gives
//! up on as an `alert_undelivered` event (the dead letter).

use std::sync::Arc;

use marquee_shared::{Alert, EventKind};
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::email::Email;
use super::retry::{Failure, RetryPolicy};
use super::stats::SinkStats;
use super::webhook::{SigningKey, message_id};
use super::{http, message};
use crate::config::Secret;
use crate::events::Events;

/// How a sink sends.
#[derive(Debug, Clone)]
pub enum Transport {
    /// A Slack-compatible incoming webhook (the URL is the secret).
    Slack {
        url: Secret,
    },
    /// Any HTTP endpoint, signed per Standard Webhooks.
    Webhook {
        url: Secret,
        key: SigningKey,
    },
    Email(Box<Email>),
}

impl Transport {
    pub fn kind(&self) -> &'static str {
        match self {
            Transport::Slack { .. } => "slack",
            Transport::Webhook { .. } => "webhook",
            Transport::Email(_) => "email",
        }
    }
}

/// An alert to deliver; a test alert says so.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub alert: Alert,
    pub test: bool,
}

/// What a sink's task needs.
#[derive(Debug)]
pub struct Worker {
    pub transport: Transport,
    pub client: reqwest::Client,
    pub policy: RetryPolicy,
    /// The link in every message.
    pub dashboard: String,
    pub stats: Arc<SinkStats>,
    pub events: Option<Events>,
    /// One attempt's time limit, whatever the transport.
    pub timeout: std::time::Duration,
}

/// How long a stopping sink spends recording what it could not deliver.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(3);

impl Worker {
    /// Delivers the queue until it closes or `shutdown`; what is left then
    /// is recorded undelivered.
    pub async fn run(self, mut queue: mpsc::Receiver<Delivery>, shutdown: CancellationToken) {
        loop {
            let delivery = tokio::select! {
                () = shutdown.cancelled() => break,
                next = queue.recv() => match next {
                    Some(delivery) => delivery,
                    None => return,
                },
            };
            if !self.deliver(&delivery, &shutdown).await {
                self.give_up(&delivery, 0, "shut down before it was delivered").await;
                break;
            }
        }
        // What is left is recorded undelivered, within one deadline; past
        // it, only counted (a store that is away does not hold the exit).
        queue.close();
        let deadline = tokio::time::Instant::now() + DRAIN;
        let mut unrecorded = 0_u64;
        while let Ok(delivery) = queue.try_recv() {
            if tokio::time::Instant::now() < deadline {
                self.give_up(&delivery, 0, "shut down before it was delivered").await;
            } else {
                self.stats.abandoned();
                unrecorded += 1;
            }
        }
        if unrecorded > 0 {
            tracing::warn!(sink = %self.stats.name, unrecorded, "alerts not delivered at shutdown, counted but not recorded");
        }
    }

    /// Tries until delivered or given up; false when stopped by `shutdown`.
    async fn deliver(&self, delivery: &Delivery, shutdown: &CancellationToken) -> bool {
        // One id for every try: the receiver can tell a repeat.
        let id = message_id();
        let mut attempt = 1;
        loop {
            let sent = tokio::select! {
                () = shutdown.cancelled() => return false,
                sent = tokio::time::timeout(self.timeout, self.send(delivery, &id)) => {
                    sent.unwrap_or_else(|_| Err(Failure::new("timed out", super::retry::Retry::Backoff)))
                }
            };
            let failure = match sent {
                Ok(()) => {
                    self.stats.delivered();
                    return true;
                }
                Err(failure) => failure,
            };
            let Some(wait) = self.policy.next(attempt, &failure, rand::rng().random::<f64>()) else {
                self.stats.attempt_failed(&failure.reason, true);
                self.give_up(delivery, attempt, &failure.reason).await;
                return true;
            };
            self.stats.attempt_failed(&failure.reason, false);
            tracing::info!(sink = %self.stats.name, attempt, reason = %failure.reason, ?wait, "alert delivery failed; trying again");
            tokio::select! {
                () = shutdown.cancelled() => return false,
                () = tokio::time::sleep(wait) => {}
            }
            attempt += 1;
        }
    }

    async fn send(&self, delivery: &Delivery, id: &str) -> Result<(), Failure> {
        let (alert, test, dashboard) = (&delivery.alert, delivery.test, self.dashboard.as_str());
        match &self.transport {
            Transport::Slack { url } => {
                let body = message::slack(alert, dashboard, test).to_string().into_bytes();
                http::post(&self.client, url.expose(), HeaderMap::new(), body).await
            }
            Transport::Webhook { url, key } => {
                let body = message::webhook(alert, dashboard, test).to_string().into_bytes();
                let timestamp = crate::common::time::now_ns() / 1_000_000_000;
                let mut headers = HeaderMap::new();
                headers.insert("webhook-id", header(id));
                headers.insert("webhook-timestamp", header(&timestamp.to_string()));
                headers.insert("webhook-signature", header(&key.sign(id, timestamp, &body)));
                http::post(&self.client, url.expose(), headers, body).await
            }
            Transport::Email(email) => {
                let (subject, body) = message::email(alert, dashboard, test);
                email.send(subject, body).await
            }
        }
    }

    /// The dead letter: logged, counted, and stored as an event.
    async fn give_up(&self, delivery: &Delivery, attempts: u32, reason: &str) {
        if attempts == 0 {
            self.stats.abandoned();
        }
        let alert = &delivery.alert;
        tracing::warn!(sink = %self.stats.name, symbol = %alert.symbol, kind = alert.kind.as_str(), attempts, %reason, "alert not delivered");
        if let Some(events) = &self.events {
            let kind = EventKind::AlertUndelivered {
                sink: self.stats.name.clone(),
                alert: alert.clone(),
                attempts,
                reason: reason.to_owned(),
            };
            // Bounded: a store that hangs does not hold the sink (or shutdown) long.
            if tokio::time::timeout(std::time::Duration::from_secs(1), events.emit(kind)).await.is_err() {
                tracing::warn!(sink = %self.stats.name, "the undelivered alert's event was not stored in time");
            }
        }
    }
}

/// Header values made here are ASCII (ids, digits, base64).
fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}
