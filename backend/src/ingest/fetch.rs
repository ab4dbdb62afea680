//! Fetch jobs: `POST /api/v1/fetch` and `marquee fetch` hand symbols to the
//! fetcher, which gets each from Alpha Vantage in turn, stores it and
//! announces it. One failing symbol fails only its own entry. Jobs are
//! stored at every change, so their progress can be read from anywhere.

use std::collections::HashSet;
use std::sync::Arc;

use marquee_shared::{Company, DataSource, EventKind, FetchEntry, FetchJob, FetchRequest, FetchState};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::alphavantage::{AlphaVantageClient, AlphaVantageError};
use super::sources;
use crate::events::Events;
use crate::stats::StageStats;
use crate::store::{SharedStore, StoreError};
use crate::time::now_ns;

/// At most this many symbols in one job.
pub const MAX_SYMBOLS: usize = 50;
/// Jobs that may wait behind the running one.
const QUEUE: usize = 32;

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
        let symbol = crate::symbol::normalize(symbol)?;
        if seen.insert(symbol.clone()) {
            symbols.push(symbol);
        }
    }
    Ok(symbols)
}

/// The fetcher actor: runs queued jobs one at a time.
#[derive(Debug)]
pub struct Fetcher {
    client: Arc<AlphaVantageClient>,
    store: SharedStore,
    events: Events,
    queue: mpsc::Receiver<FetchJob>,
    stats: Arc<StageStats>,
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
        (Self { client, store, events, queue, stats }, handle)
    }

    pub async fn run(mut self, shutdown: CancellationToken) {
        self.stats.set_running("idle");
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                job = self.queue.recv() => match job {
                    Some(job) => {
                        tokio::select! {
                            () = shutdown.cancelled() => break,
                            () = self.run_job(job) => {}
                        }
                    }
                    None => break,
                },
            }
        }
        self.stats.set_stopped("shut down");
    }

    async fn run_job(&mut self, mut job: FetchJob) {
        let mut stored = Vec::new();
        let mut total = 0;
        for i in 0..job.entries.len() {
            let symbol = job.entries[i].symbol.clone();
            self.stats.set_running(format!("fetching {symbol} (job {})", job.id));
            job.entries[i].state = FetchState::Fetching;
            self.save(&job).await;
            job.entries[i].state = match self.fetch_symbol(&symbol, &job).await {
                Ok(records) => {
                    stored.push(symbol);
                    total += records;
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
            self.save(&job).await;
        }
        job.finished = true;
        self.save(&job).await;
        if !stored.is_empty() {
            self.events.emit(EventKind::BatchComplete { symbols: stored, total_records: total }).await;
        }
        self.stats.set_running("idle");
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
