//! Durable storage behind one interface, so stages never know which engine
//! runs. The embedded SQLite store ([`SqliteStore`]) is the default.

#[cfg(feature = "mongo")]
pub mod mongo;
pub mod retention;
pub mod screen;
mod sqlite;

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use marquee_shared::{
    Alert, AnalyzedBar, Bar, BarInterval, Company, Event, FetchJob, IntradayInterval, SymbolSummary, Tick,
};
pub use sqlite::SqliteStore;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage engine error: {0}")]
    Engine(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 'a>>;

/// A shared handle to whichever store is configured.
pub type SharedStore = Arc<dyn Store>;

/// Which daily bars to read.
#[derive(Debug, Clone, PartialEq)]
pub struct BarQuery {
    pub symbol: String,
    /// Inclusive bounds on the bar start, ns since the epoch.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// How many bars: with `from`, the first `limit` at or after it; without,
    /// the most recent `limit` up to `to`. Returned oldest first either way.
    pub limit: usize,
}

impl BarQuery {
    /// Whether the window is anchored at its start (`from` given) rather
    /// than at its end.
    pub fn oldest_first(&self) -> bool {
        self.from.is_some()
    }
}

/// A page of the ticks stored in a window of event time, oldest first (then
/// by symbol and seq): a replay reads a session with it, page after page.
#[derive(Debug, Clone, PartialEq)]
pub struct TickPage {
    /// Inclusive bounds on the event time, ns since the epoch.
    pub from: i64,
    pub to: i64,
    /// The last tick of the previous page, (ts, symbol, seq): the page
    /// starts after it.
    pub after: Option<(i64, String, u64)>,
    pub limit: usize,
}

/// The latest tick stored for a symbol: where a restarted simulation resumes.
#[derive(Debug, Clone, PartialEq)]
pub struct LastTick {
    pub symbol: String,
    pub seq: u64,
    pub price: f64,
}

/// A latest close's change from the previous one, absolute and in percent:
/// 0 without a previous close, and 0 too when a figure is not finite (from
/// impossible closes stored before values were checked): JSON would carry a
/// NaN or an infinity as `null` where a number is promised.
fn change(last: f64, previous: Option<f64>) -> (f64, f64) {
    let Some(previous) = previous else { return (0.0, 0.0) };
    let change = last - previous;
    let pct = change / previous * 100.0;
    if change.is_finite() && pct.is_finite() { (change, pct) } else { (0.0, 0.0) }
}

/// Everything the stages store and read. Writes are idempotent: upserts key
/// on (symbol, ts), ticks on (symbol, seq), events on id.
pub trait Store: Send + Sync + Debug {
    /// What the store is, for `/health` (e.g. "MongoDB").
    fn describe(&self) -> String;
    /// Checks that the store answers (and finishes any setup that waited for it).
    fn ping(&self) -> StoreFuture<'_, ()>;

    fn upsert_company(&self, company: Company) -> StoreFuture<'_, ()>;
    /// Inserts or replaces daily bars; returns how many were written.
    fn upsert_daily_bars(&self, bars: Vec<Bar>) -> StoreFuture<'_, u64>;
    /// Replaces the whole daily history of `symbol` with `bars` (all of that
    /// symbol): no bar of the old history stays. Returns how many were written.
    fn replace_daily_bars(&self, symbol: String, bars: Vec<Bar>) -> StoreFuture<'_, u64>;
    /// Inserts or replaces intraday bars of one size; returns how many were written.
    fn upsert_intraday_bars(&self, interval: IntradayInterval, bars: Vec<Bar>) -> StoreFuture<'_, u64>;
    /// Inserts ticks, ignoring (symbol, seq) pairs already stored; returns how many were new.
    fn insert_ticks(&self, ticks: Vec<Tick>) -> StoreFuture<'_, u64>;
    /// Deletes at most `batch` ticks made before `before` (ns since the
    /// epoch), never a symbol's newest; returns how many went (fewer than
    /// `batch`: none older is left). A store that expires ticks by itself
    /// (MongoDB's TTL index) deletes nothing here, nor do test doubles.
    fn prune_ticks(&self, _before: i64, _batch: usize) -> StoreFuture<'_, u64> {
        Box::pin(async { Ok(0) })
    }
    fn append_event(&self, event: Event) -> StoreFuture<'_, ()>;

    /// Every symbol with a valid stored daily bar, in symbol order, from a
    /// summary kept by the daily-bar writes (rows stored before values were
    /// checked are left out of it).
    fn symbols(&self) -> StoreFuture<'_, Vec<SymbolSummary>>;
    fn daily_bars(&self, query: BarQuery) -> StoreFuture<'_, Vec<Bar>>;
    fn intraday_bars(&self, interval: IntradayInterval, query: BarQuery) -> StoreFuture<'_, Vec<Bar>>;
    fn company(&self, symbol: String) -> StoreFuture<'_, Option<Company>>;
    /// The newest `limit` ticks of a symbol, oldest first.
    fn recent_ticks(&self, symbol: String, limit: usize) -> StoreFuture<'_, Vec<Tick>>;
    /// The last tick of every symbol that has had any (kept when retention
    /// deletes the tick itself: where a restarted driver resumes).
    fn last_ticks(&self) -> StoreFuture<'_, Vec<LastTick>>;
    /// Ticks of a window of event time, a page at a time (see [`TickPage`]).
    fn ticks_between(&self, page: TickPage) -> StoreFuture<'_, Vec<Tick>>;
    /// The newest `limit` events, newest first.
    fn recent_events(&self, limit: usize) -> StoreFuture<'_, Vec<Event>>;

    /// Inserts or replaces bars built from live ticks (keyed by symbol, interval, start).
    fn upsert_analyzed_bars(&self, bars: Vec<AnalyzedBar>) -> StoreFuture<'_, u64>;
    /// Closed live bars of one interval, oldest first.
    fn analyzed_bars(&self, interval: BarInterval, query: BarQuery) -> StoreFuture<'_, Vec<AnalyzedBar>>;
    fn insert_alerts(&self, alerts: Vec<Alert>) -> StoreFuture<'_, ()>;
    /// The newest `limit` alerts, newest first.
    fn recent_alerts(&self, limit: usize) -> StoreFuture<'_, Vec<Alert>>;

    /// Inserts or replaces a fetch job (keyed by id).
    fn save_job(&self, job: FetchJob) -> StoreFuture<'_, ()>;
    fn job(&self, id: String) -> StoreFuture<'_, Option<FetchJob>>;
    /// Marks every unfinished job failed, its open entries with `reason`
    /// (at start: a job left queued or fetching was cut by a stop or a
    /// crash); returns how many. Test doubles keep the default, which does nothing.
    fn fail_unfinished_jobs(&self, _reason: String) -> StoreFuture<'_, u64> {
        Box::pin(async { Ok(0) })
    }
}

/// `job` finished, each entry not stored or failed yet failed with `reason`.
fn fail_unfinished(job: &mut FetchJob, reason: &str) {
    for entry in &mut job.entries {
        if !entry.state.is_done() {
            entry.state = marquee_shared::FetchState::Failed { reason: reason.to_owned() };
        }
    }
    job.finished = true;
}

#[cfg(test)]
mod tests;
