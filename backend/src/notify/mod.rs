//! Alert delivery: alerts go where people already look (Slack, any webhook,
//! email) as well as to the dashboard. Each sink has rules (a minimum
//! severity, symbols, kinds, a cooldown per symbol and kind) and a bounded
//! queue drained by a task of its own, which retries with capped backoff
//! (honouring `Retry-After`) and records what it gives up on as an
//! `alert_undelivered` event. Offering alerts never waits: the receiver
//! goes on at its pace whatever the sinks do, and what does not fit is
//! counted as dropped.
//!
//! `settings.rs` reads the sinks from `--alerts-config`; `sink.rs` delivers;
//! `message.rs`, `webhook.rs`, `rules.rs` and `retry.rs` are pure.

pub mod email;
mod http;
pub mod message;
pub mod retry;
pub mod rules;
pub mod settings;
pub mod sink;
pub mod stats;
pub mod webhook;

use std::sync::Arc;

use marquee_shared::{Alert, AlertKind, Severity, SinkFigures};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use settings::{NotifyArgs, NotifyConfig, SinkConfig};
use sink::{Delivery, Worker};
use stats::SinkStats;

use crate::common::time::now_ns;
use crate::events::Events;

/// Batches of alerts waiting for the dispatcher at most.
const BATCHES: usize = 256;

/// One sink as the dispatcher and the sampler see it.
#[derive(Debug)]
struct Entry {
    rules: rules::Rules,
    queue: mpsc::Sender<Delivery>,
    stats: Arc<SinkStats>,
}

/// Offers alerts to the sinks and reads their figures. Cheap to clone.
#[derive(Debug, Clone)]
pub struct NotifierHandle {
    batches: mpsc::Sender<Vec<Alert>>,
    sinks: Arc<Vec<Entry>>,
}

/// Starts a task per sink and the dispatcher; `None` without sinks.
pub fn spawn(
    config: &NotifyConfig,
    events: Option<Events>,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<NotifierHandle>> {
    if config.sinks.is_empty() {
        return Ok(None);
    }
    let client = reqwest::Client::builder()
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut sinks = Vec::with_capacity(config.sinks.len());
    for sink in &config.sinks {
        let stats = Arc::new(SinkStats::new(&sink.name, sink.transport.kind()));
        let (queue, pending) = mpsc::channel(config.queue);
        let worker = Worker {
            transport: sink.transport.clone(),
            client: client.clone(),
            policy: config.policy,
            dashboard: config.dashboard.clone(),
            stats: Arc::clone(&stats),
            events: events.clone(),
            timeout: config.timeout,
        };
        tasks.spawn(worker.run(pending, shutdown.clone()));
        sinks.push(Entry { rules: sink.rules.clone(), queue, stats });
        tracing::info!(sink = %sink.name, kind = sink.transport.kind(), "alert sink ready");
    }
    let sinks = Arc::new(sinks);
    let (batches, incoming) = mpsc::channel(BATCHES);
    tasks.spawn(dispatch(incoming, Arc::clone(&sinks), shutdown.clone()));
    Ok(Some(NotifierHandle { batches, sinks }))
}

impl NotifierHandle {
    /// Hands alerts to the sinks without waiting; when even the dispatcher's
    /// queue is full they count as dropped at every sink.
    pub fn offer(&self, alerts: &[Alert]) {
        if alerts.is_empty() {
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(lost)) = self.batches.try_send(alerts.to_vec()) {
            for sink in self.sinks.iter() {
                sink.stats.dropped(lost.len() as u64);
            }
        }
    }

    /// Queues a test alert at every sink, past its rules and cooldown;
    /// the names of the sinks that took it.
    pub fn send_test(&self) -> Vec<String> {
        let alert = Alert {
            symbol: "TEST".into(),
            kind: AlertKind::PriceJump,
            severity: Severity::Critical,
            value: 5.0,
            threshold: 4.0,
            ts: now_ns(),
        };
        self.sinks
            .iter()
            .filter(|sink| match sink.queue.try_send(Delivery { alert: alert.clone(), test: true }) {
                Ok(()) => true,
                Err(_) => {
                    sink.stats.dropped(1);
                    false
                }
            })
            .map(|sink| sink.stats.name.clone())
            .collect()
    }

    pub fn figures(&self) -> Vec<SinkFigures> {
        self.sinks
            .iter()
            .map(|sink| {
                let queued = sink.queue.max_capacity() - sink.queue.capacity();
                sink.stats.figures(queued as u64)
            })
            .collect()
    }
}

/// Each alert to each sink whose rules and cooldown let it through.
async fn dispatch(
    mut incoming: mpsc::Receiver<Vec<Alert>>,
    sinks: Arc<Vec<Entry>>,
    shutdown: CancellationToken,
) {
    let mut cooldowns: Vec<rules::Cooldown> = sinks.iter().map(|_| rules::Cooldown::default()).collect();
    loop {
        let batch = tokio::select! {
            () = shutdown.cancelled() => return,
            batch = incoming.recv() => match batch {
                Some(batch) => batch,
                None => return,
            },
        };
        let now = now_ns();
        for alert in batch {
            for (sink, cooldown) in sinks.iter().zip(cooldowns.iter_mut()) {
                if !sink.rules.admits(&alert) || !cooldown.ready(&alert, sink.rules.cooldown, now) {
                    continue;
                }
                // Cools down only once queued: a dropped alert does not hold back the next.
                match sink.queue.try_send(Delivery { alert: alert.clone(), test: false }) {
                    Ok(()) => cooldown.record(&alert, sink.rules.cooldown, now),
                    Err(mpsc::error::TrySendError::Full(_)) => sink.stats.dropped(1),
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            }
        }
    }
}
