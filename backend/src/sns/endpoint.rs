//! The HTTP subscription endpoint: subscribes this process to the topic,
//! and turns what SNS posts into events for local subscribers, acting on
//! nothing whose signature fails when verification is on.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use marquee_shared::{Dependency, Event, Status};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::SnsMessage;
use super::seen::{Seen, SeenIds};
use super::verify::{Verifier, VerifyError};

/// Message ids remembered at most (to drop SNS's repeated deliveries and
/// replays): beyond it new messages are refused until older ids expire.
const MAX_REMEMBERED: usize = 100_000;
/// How long ids are remembered when message ages are not checked (no
/// window then bounds a replay; this is the default age limit).
const UNCHECKED_AGE_WINDOW: Duration = Duration::from_secs(3600);
/// How often SNS is asked whether it has confirmed the subscription.
const CONFIRM_CHECK: Duration = Duration::from_secs(2);
/// A signed message from further in the future than this is refused.
const MAX_AHEAD: Duration = Duration::from_secs(300);
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
    #[error("the message was sent at {0}, too long ago (or ahead) to be taken: a replay?")]
    Stale(String),
    #[error(
        "too many messages in the window: {0} message ids are remembered (to refuse replays) until \
         they are too old to be taken again; try again later"
    )]
    TooMany(usize),
    #[error(
        "the message is signed with SHA1 (SignatureVersion 1) but this topic signs with SHA256 \
         (SignatureVersion 2): a downgrade?"
    )]
    Downgrade,
    #[error("cannot confirm the subscription: {0}")]
    Confirm(String),
}

/// Refuses a message sent more than `max_age` before `now`, or well after it.
pub(super) fn check_age(sent: &str, max_age: Duration, now: jiff::Timestamp) -> Result<(), Rejected> {
    let stale = || Rejected::Stale(sent.to_owned());
    let at: jiff::Timestamp = sent.parse().map_err(|_| stale())?;
    let age = now.duration_since(at);
    let too_old = jiff::SignedDuration::try_from(max_age).is_ok_and(|max| age > max);
    let too_new = jiff::SignedDuration::try_from(MAX_AHEAD).is_ok_and(|ahead| -age > ahead);
    if too_old || too_new { Err(stale()) } else { Ok(()) }
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
    /// True once SNS has confirmed the subscription (or delivered through it).
    confirmed: AtomicBool,
    /// Signed messages older than this are refused (replays); `None`: any age.
    max_age: Option<Duration>,
    /// Ids delivered, for as long as a repeat could pass the age check.
    seen: Mutex<SeenIds>,
    /// True once the topic is known to sign with SHA256 (SignatureVersion
    /// 2): by configuration, or from a verified message so signed. SHA1 is
    /// then refused, so a forger cannot fall back to the weaker hash.
    sha256_only: AtomicBool,
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
            confirmed: AtomicBool::new(false),
            max_age: None,
            seen: Mutex::new(SeenIds::new(UNCHECKED_AGE_WINDOW + MAX_AHEAD, MAX_REMEMBERED)),
            sha256_only: AtomicBool::new(false),
            received: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// Refuses signed messages sent longer ago than `max_age` (replays).
    pub fn refusing_older_than(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        // A message is taken from MAX_AHEAD before its timestamp to max_age
        // after it: its id must outlive that whole span.
        self.seen = Mutex::new(SeenIds::new(max_age + MAX_AHEAD, MAX_REMEMBERED));
        self
    }

    /// Refuses SHA1-signed messages from the start (the topic's
    /// `SignatureVersion` is 2), not only once a SHA256 one has arrived.
    pub fn requiring_sha256(self) -> Self {
        self.sha256_only.store(true, Ordering::Relaxed);
        self
    }

    /// The subscription as a dependency: up once SNS has confirmed it, with
    /// what has arrived through it.
    pub fn dependency(&self) -> Dependency {
        let subscription = self.subscription.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let (received, refused) =
            (self.received.load(Ordering::Relaxed), self.refused.load(Ordering::Relaxed));
        let confirmed = self.confirmed.load(Ordering::Relaxed);
        let (status, detail) = match subscription {
            Some(arn) if !confirmed => (
                Status::Down,
                format!(
                    "SNS: {} subscribed ({arn}), waiting for SNS to confirm; {received} events received, {refused} messages refused",
                    self.url
                ),
            ),
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
            // The cheap checks first: a stale or repeated message costs no
            // certificate fetch. Its claims are verified by the signature next.
            if let Some(max_age) = self.max_age {
                check_age(&message.timestamp, max_age, jiff::Timestamp::now())?;
            }
            if message.signature_version == "1" && self.sha256_only.load(Ordering::Relaxed) {
                return Err(Rejected::Downgrade);
            }
            if message.kind == "Notification" && self.seen(&message.message_id, false)? {
                return Ok(Received::Repeated);
            }
            verifier.verify(&message).await?;
            // SNS signs every message of a topic the same way: one signed
            // with SHA256 shows the topic's setting.
            if message.signature_version == "2" && !self.sha256_only.swap(true, Ordering::Relaxed) {
                tracing::info!(
                    topic = self.topic_arn,
                    "the topic signs with SHA256 (SignatureVersion 2): SHA1-signed messages are refused from now on"
                );
            }
        }
        match message.kind.as_str() {
            "Notification" => {
                if self.seen(&message.message_id, true)? {
                    return Ok(Received::Repeated);
                }
                // A delivery is proof the subscription works.
                self.confirmed.store(true, Ordering::Relaxed);
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
                // The ARN from our own Subscribe call stays: the one confirmed
                // here could belong to another endpoint (a replayed message).
                let mut held = self.subscription.lock().unwrap_or_else(|p| p.into_inner());
                if held.is_none() {
                    *held = confirmed.subscription_arn().map(str::to_owned);
                }
                self.confirmed.store(true, Ordering::Relaxed);
                Ok(Received::Confirmed)
            }
            "UnsubscribeConfirmation" => {
                tracing::warn!(
                    topic = self.topic_arn,
                    "this endpoint was unsubscribed from the events topic"
                );
                // The ARN is kept: a replayed confirmation must not make this
                // process forget to unsubscribe at shutdown.
                self.confirmed.store(false, Ordering::Relaxed);
                Ok(Received::Unsubscribed)
            }
            other => Err(Rejected::Type(other.to_owned())),
        }
    }

    /// Asks SNS until it says the subscription is confirmed (it posts a
    /// `SubscriptionConfirmation`, handled in [`Endpoint::receive`]; an
    /// emulator may confirm at once).
    async fn wait_for_confirmation(&self, arn: &str, shutdown: &CancellationToken) {
        while !self.confirmed.load(Ordering::Relaxed) {
            let attributes = self.client.get_subscription_attributes().subscription_arn(arn).send().await;
            match attributes {
                Ok(answer) => {
                    let pending = answer.attributes().and_then(|a| a.get("PendingConfirmation"));
                    if pending.is_some_and(|p| p == "false") {
                        tracing::info!(subscription = arn, "SNS subscription confirmed");
                        self.confirmed.store(true, Ordering::Relaxed);
                        return;
                    }
                }
                Err(err) => {
                    tracing::debug!(err = super::describe(err), "cannot read the subscription's state")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(CONFIRM_CHECK) => {}
            }
        }
    }

    /// Whether `id` was delivered before; a new one is noted only if `note`
    /// (an unverified message must not take a genuine one's place), and
    /// refused when the memory is full.
    fn seen(&self, id: &str, note: bool) -> Result<bool, Rejected> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match if note { seen.note(id, now) } else { seen.check(id, now) } {
            Seen::New => Ok(false),
            Seen::Repeated => Ok(true),
            Seen::Full => Err(Rejected::TooMany(MAX_REMEMBERED)),
        }
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
                    let arn = subscribed.subscription_arn().map(str::to_owned);
                    *self.subscription.lock().unwrap_or_else(|p| p.into_inner()) = arn.clone();
                    if let Some(arn) = arn {
                        self.wait_for_confirmation(&arn, &shutdown).await;
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
