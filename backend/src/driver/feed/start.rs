//! Starting the configured feeds: each resumes its symbols after the newest
//! seq made anywhere (stored, or in flight on Kafka), measures change
//! against the stored close where there is one, and runs on the stage's
//! tracker until shutdown.

use std::sync::Arc;
use std::time::Duration;

use marquee_shared::Tick;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Feed, FeedSettings, FeedStats};
use crate::config::LiveSource;
use crate::driver::RecentTicks;
use crate::driver::resume::newest_per_symbol;
use crate::events::Events;
use crate::sources::feed::Resume;
use crate::sources::venues;
use crate::store::SharedStore;

/// How long a feed waits before reading the store again when it cannot.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// Everything a feed starts from.
#[derive(Debug, Clone)]
pub struct FeedStart {
    pub store: SharedStore,
    pub recent: Option<Arc<dyn RecentTicks>>,
    pub out: mpsc::Sender<Vec<Tick>>,
    /// Where a feed tells that it switched venue.
    pub events: Option<Events>,
}

/// Spawns a feed per source; their counters, for the sampler.
pub fn spawn(
    sources: &[LiveSource],
    start: &FeedStart,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) -> Vec<Arc<FeedStats>> {
    let mut checks = Vec::with_capacity(sources.len());
    for source in sources {
        let stats = FeedStats::new(source.venue);
        checks.push(Arc::clone(&stats));
        let (source, start, shutdown) = (source.clone(), start.clone(), shutdown.clone());
        tasks.spawn(async move {
            let Some(resume) = resume(&source, &start, &shutdown).await else { return };
            let venue_symbols = source.symbols.iter().map(|(venue, _)| venue.clone()).collect();
            let protocol = venues::protocol(source.venue, venue_symbols, source.keys.clone());
            let settings = FeedSettings::new(source.url.clone());
            let mut feed = Feed::new(protocol, settings, &source.symbols, resume, start.out, stats);
            if let Some(backup) = &source.failover {
                let venue_symbols = backup.symbols.iter().map(|(venue, _)| venue.clone()).collect();
                let protocol = venues::protocol(backup.venue, venue_symbols, backup.keys.clone());
                feed =
                    feed.with_failover(protocol, backup.url.clone(), &backup.symbols, start.events.clone());
            }
            tracing::info!(venue = %source.venue, symbols = source.symbols.len(), "feed starts");
            feed.run(shutdown).await;
        });
    }
    checks
}

/// Where each symbol resumes; `None` at shutdown. A store that cannot be
/// read is read again: starting without it could make a seq twice.
async fn resume(source: &LiveSource, start: &FeedStart, shutdown: &CancellationToken) -> Option<Vec<Resume>> {
    loop {
        match read(source, start).await {
            Ok(resume) => return Some(resume),
            Err(err) => {
                tracing::warn!(venue = %source.venue, %err, "cannot read where the feed resumes; trying again")
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return None,
            () = tokio::time::sleep(STORE_RETRY) => {}
        }
    }
}

async fn read(source: &LiveSource, start: &FeedStart) -> Result<Vec<Resume>, String> {
    let mut known = start.store.last_ticks().await.map_err(|e| e.to_string())?;
    if let Some(recent) = &start.recent {
        known.extend(recent.last_ticks().await?);
    }
    let newest = newest_per_symbol(known);
    let summaries = start.store.symbols().await.map_err(|e| e.to_string())?;
    Ok(source
        .symbols
        .iter()
        .map(|(_, shown)| Resume {
            symbol: shown.clone(),
            last_seq: newest.get(shown).map_or(0, |tick| tick.seq),
            reference: summaries.iter().find(|s| &s.symbol == shown).map(|s| s.last),
        })
        .collect())
}
