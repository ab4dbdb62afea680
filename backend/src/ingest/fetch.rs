//! Fetch jobs: `POST /api/v1/fetch` and `marquee fetch` hand symbols to the
//! fetcher, which gets them from Alpha Vantage a few at a time (over every
//! job), stores each and announces it. One failing or slow symbol holds up
//! only its own entry. Jobs are stored at every change, so their progress
//! can be read from anywhere, and always end finished: at shutdown what was
//! not fetched is failed as interrupted.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::StreamExt;
use marquee_shared::{Company, DataSource, EventKind, FetchEntry, FetchJob, FetchRequest, FetchState};
use tokio::sync::{Mutex, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::alphavantage::{AlphaVantageClient, AlphaVantageError};
use super::sources;
use crate::common::time::now_ns;
use crate::events::Events;
use crate::metrics::StageStats;
use crate::store::{SharedStore, StoreError};

/// At most this many symbols in one job.
pub const MAX_SYMBOLS: usize = 50;
/// Jobs that may wait to be started.
const QUEUE: usize = 32;
/// Why a symbol of a job running at shutdown was not fetched.
const INTERRUPTED: &str = "interrupted: the server stopped before this symbol was fetched; fetch it again";

/// Why a fetch request was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("{0}")]
    Invalid(String),
    #[error("too many fetch jobs are waiting; try again when one has finished")]
    Busy,
    #[error("fetching is not available: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Accepts fetch jobs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FetchHandle {
    queue: mpsc::Sender<FetchJob>,
    store: SharedStore,
}

impl FetchHandle {
    /// Validates `request`, stores the job as queued and queues it.
    pub async fn submit(&self, request: FetchRequest) -> Result<FetchJob, SubmitError> {
        let symbols = validate(&request.symbols).map_err(SubmitError::Invalid)?;
        let job = FetchJob {
            id: uuid::Uuid::new_v4().to_string(),
            created: now_ns(),
            outputsize: request.outputsize,
            intraday: request.intraday,
            replace: request.replace,
            entries: symbols
                .into_iter()
                .map(|symbol| FetchEntry { symbol, state: FetchState::Queued })
                .collect(),
            finished: false,
        };
        self.store.save_job(job.clone()).await?;
        match self.queue.try_send(job.clone()) {
            Ok(()) => Ok(job),
            Err(mpsc::error::TrySendError::Full(_)) => Err(SubmitError::Busy),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                Err(SubmitError::Unavailable("the fetcher has stopped".into()))
            }
        }
    }

    pub async fn job(&self, id: String) -> Result<Option<FetchJob>, StoreError> {
        self.store.job(id).await
    }
}

/// 1 to [`MAX_SYMBOLS`] valid symbols, upper-cased, duplicates dropped.
pub fn validate(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.is_empty() || raw.len() > MAX_SYMBOLS {
        return Err(format!("give between 1 and {MAX_SYMBOLS} symbols, got {}", raw.len()));
    }
    let mut seen = HashSet::new();
    let mut symbols = Vec::with_capacity(raw.len());
    for symbol in raw {
        let symbol = crate::common::symbol::normalize(symbol)?;
        if seen.insert(symbol.clone()) {
            symbols.push(symbol);
        }
    }
    Ok(symbols)
}

/// Symbols fetched at once, over every job. Alpha Vantage's rate limit is
/// kept by the client's limiter whatever this is; it bounds how many slow
/// symbols can be waited on together, so one that hangs never holds the others.
pub const SYMBOLS_AT_ONCE: usize = 4;

/// The fetcher actor: starts each queued job at once; their symbols share
/// [`SYMBOLS_AT_ONCE`] slots.
#[derive(Debug)]
pub struct Fetcher {
    worker: Worker,
    queue: mpsc::Receiver<FetchJob>,
}

/// What fetching a symbol needs. Cheap to clone: one per running job.
#[derive(Debug, Clone)]
struct Worker {
    client: Arc<AlphaVantageClient>,
    store: SharedStore,
    events: Events,
    stats: Arc<StageStats>,
    slots: Arc<Semaphore>,
}

impl Fetcher {
    pub fn new(
        client: Arc<AlphaVantageClient>,
        store: SharedStore,
        events: Events,
        stats: Arc<StageStats>,
    ) -> (Self, FetchHandle) {
        let (queue_tx, queue) = mpsc::channel(QUEUE);
        let handle = FetchHandle { queue: queue_tx, store: Arc::clone(&store) };
        let slots = Arc::new(Semaphore::new(SYMBOLS_AT_ONCE));
        (Self { worker: Worker { client, store, events, stats, slots }, queue }, handle)
    }

    /// Runs until `shutdown`; a job still running then is saved with its
    /// unfinished symbols failed as interrupted.
    pub async fn run(mut self, shutdown: CancellationToken) {
        self.worker.stats.set_running("idle");
        let mut jobs = JoinSet::new();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(_) = jobs.join_next(), if !jobs.is_empty() => {
                    if jobs.is_empty() {
                        self.worker.stats.set_running("idle");
                    }
                }
                job = self.queue.recv() => match job {
                    Some(job) => {
                        self.worker.stats.set_running("fetching");
                        jobs.spawn(self.worker.clone().run_job(job, shutdown.clone()));
                    }
                    None => break,
                },
            }
        }
        // Each job sees the same token and saves itself; wait for them.
        while jobs.join_next().await.is_some() {}
        self.worker.stats.set_stopped("shut down");
    }
}

impl Worker {
    async fn run_job(self, job: FetchJob, shutdown: CancellationToken) {
        let job = Arc::new(Mutex::new(job));
        let count = job.lock().await.entries.len();
        let fetches = futures_util::stream::iter(0..count)
            .map(|i| {
                let (worker, job) = (&self, Arc::clone(&job));
                async move { worker.fetch_entry(&job, i).await }
            })
            .buffer_unordered(SYMBOLS_AT_ONCE)
            .collect::<Vec<Option<(String, u64)>>>();
        let outcome = tokio::select! {
            () = shutdown.cancelled() => None,
            stored = fetches => Some(stored),
        };
        let mut job = job.lock().await;
        let Some(stored) = outcome else {
            for entry in &mut job.entries {
                if matches!(entry.state, FetchState::Queued | FetchState::Fetching) {
                    entry.state = FetchState::Failed { reason: INTERRUPTED.into() };
                }
            }
            job.finished = true;
            self.save(&job).await;
            return;
        };
        let (stored, total): (Vec<String>, u64) =
            stored.into_iter().flatten().fold((Vec::new(), 0), |(mut symbols, total), (symbol, records)| {
                symbols.push(symbol);
                (symbols, total + records)
            });
        job.finished = true;
        self.save(&job).await;
        if !stored.is_empty() {
            self.events.emit(EventKind::BatchComplete { symbols: stored, total_records: total }).await;
        }
    }

    /// Fetches entry `i` of `job` in one of the shared slots, saving the job
    /// as it starts and ends. Returns the symbol and its records once stored.
    async fn fetch_entry(&self, job: &Mutex<FetchJob>, i: usize) -> Option<(String, u64)> {
        let Ok(_slot) = self.slots.acquire().await else { return None };
        let (symbol, snapshot) = {
            let mut job = job.lock().await;
            job.entries[i].state = FetchState::Fetching;
            (job.entries[i].symbol.clone(), job.clone())
        };
        self.save(&snapshot).await;
        let result = self.fetch_symbol(&symbol, &snapshot).await;
        let mut stored = None;
        let state = match result {
            Ok(records) => {
                stored = Some((symbol.clone(), records));
                self.stats.add_processed(records);
                FetchState::Stored { records }
            }
            Err(reason) => {
                tracing::warn!(%symbol, %reason, "fetch failed");
                self.stats.add_errors(1);
                self.events.emit(EventKind::IngestError { symbol, reason: reason.clone() }).await;
                FetchState::Failed { reason }
            }
        };
        let snapshot = {
            let mut job = job.lock().await;
            job.entries[i].state = state;
            job.clone()
        };
        self.save(&snapshot).await;
        stored
    }

    /// Daily history (required), intraday bars (when asked for) and the
    /// company overview (once, best effort). Returns the bars stored.
    async fn fetch_symbol(&self, symbol: &str, job: &FetchJob) -> Result<u64, String> {
        let (size, intraday) = (job.outputsize, job.intraday);
        let series = self.client.daily(symbol, size).await.map_err(|e| e.to_string())?;
        let Some(latest) = series.bars.last().cloned() else {
            return Err(AlphaVantageError::UnknownSymbol(symbol.to_owned()).to_string());
        };
        let daily_records =
            sources::store_daily(&self.store, symbol, series.bars, DataSource::AlphaVantage, job.replace)
                .await
                .map_err(|e| e.to_string())?
                .records;
        let mut records = daily_records;
        if let Some(interval) = intraday {
            let series = self.client.intraday(symbol, interval, size).await.map_err(|e| e.to_string())?;
            records +=
                self.store.upsert_intraday_bars(interval, series.bars).await.map_err(|e| e.to_string())?;
        }
        if self.store.company(symbol.to_owned()).await.map_err(|e| e.to_string())?.is_none() {
            match self.client.overview(symbol).await {
                Ok(o) => {
                    let company = Company {
                        symbol: symbol.to_owned(),
                        name: o.name,
                        sector: o.sector,
                        industry: o.industry,
                        exchange: o.exchange,
                        currency: o.currency,
                        description: o.description,
                        market_cap: o.market_cap,
                        source: DataSource::AlphaVantage,
                    };
                    self.store.upsert_company(company).await.map_err(|e| e.to_string())?;
                }
                // The prices are what matter; a missing overview is noted, not fatal.
                Err(err) => tracing::warn!(%symbol, %err, "no company overview"),
            }
        }
        self.events
            .emit(EventKind::SymbolDataLoaded {
                symbol: symbol.to_owned(),
                records: daily_records,
                latest_ts: latest.ts,
                latest_close: latest.close,
            })
            .await;
        Ok(records)
    }

    async fn save(&self, job: &FetchJob) {
        if let Err(err) = self.store.save_job(job.clone()).await {
            tracing::error!(%err, job = %job.id, "cannot store fetch job progress");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::validate;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn requests_need_one_to_fifty_valid_symbols() {
        assert_eq!(validate(&strings(&["ibm", "MSFT", "IBM"])), Ok(strings(&["IBM", "MSFT"])));
        assert!(validate(&[]).is_err());
        assert!(validate(&vec!["A".to_owned(); 51]).is_err());
        assert!(validate(&strings(&["IBM", "no way"])).is_err());
    }
}
