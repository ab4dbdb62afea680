//! The MongoDB store (feature `mongo`, `--mongodb-url`): the same [`Store`]
//! as the embedded one, for deployments that split the stages across
//! machines. One collection per kind of record, with the indexes its
//! queries and idempotent writes need (unique on the natural keys). Writes
//! are batched (`insert_many`, unordered); the driver retries transient
//! failures itself (retryable reads and writes), and a server that cannot
//! be reached is reported as [`StoreError::Unavailable`]. Ticks expire by
//! a TTL index on their event time (`--tick-retention`); each symbol's
//! newest tick and daily summary are kept apart (`derived.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::TryStreamExt;
use marquee_shared::{
    Alert, AnalyzedBar, Bar, BarInterval, Company, Event, FetchJob, IntradayInterval, SymbolSummary, Tick,
};
use mongodb::bson::{Bson, DateTime, Document, doc};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{BarQuery, LastTick, Store, StoreFuture, StoreResult, TickPage, fail_unfinished, screen};
use errors::{duplicates_only, error, is_duplicate_key};

/// A stored intraday bar: the bar and its size.
#[derive(Debug, Serialize, Deserialize)]
struct IntradayDoc {
    #[serde(flatten)]
    bar: Bar,
    interval: String,
}

/// A stored tick: the tick and its event time as a BSON date, which the
/// TTL index expires.
#[derive(Debug, Serialize)]
struct TickDoc {
    #[serde(flatten)]
    tick: Tick,
    at: DateTime,
}

#[derive(Debug, Clone)]
pub struct MongoStore {
    db: Database,
    /// Set once the indexes exist; until then every ping tries to make them.
    indexed: Arc<AtomicBool>,
    /// The ticks' TTL; `None` leaves the index as it is.
    tick_retention: Option<Duration>,
}

/// How long an operation waits for a server before it fails as unavailable
/// (unless the URL says otherwise): short, so a dead server shows at once.
const SERVER_WAIT: Duration = Duration::from_secs(3);

impl MongoStore {
    /// Uses database `name` on the server at `url` (`mongodb://...`). A bad
    /// URL is an error; a server that does not answer yet is not: the store
    /// reports itself unavailable (see [`Store::ping`]) until it answers,
    /// and then creates its indexes.
    pub async fn connect(url: &str, name: &str, tick_retention: Option<Duration>) -> StoreResult<Self> {
        let mut options = ClientOptions::parse(url).await.map_err(error)?;
        options.server_selection_timeout.get_or_insert(SERVER_WAIT);
        options.connect_timeout.get_or_insert(SERVER_WAIT);
        options.app_name.get_or_insert_with(|| "marquee".to_owned());
        let client = Client::with_options(options).map_err(error)?;
        let store =
            Self { db: client.database(name), indexed: Arc::new(AtomicBool::new(false)), tick_retention };
        if let Err(err) = store.check().await {
            tracing::warn!(%err, "MongoDB does not answer yet; the store is unavailable until it does");
        }
        Ok(store)
    }

    /// Pings the server, creating the indexes the first time it answers.
    async fn check(&self) -> StoreResult<()> {
        self.db.run_command(doc! { "ping": 1 }).await.map_err(error)?;
        if !self.indexed.load(Ordering::Acquire) {
            self.create_indexes().await?;
            self.indexed.store(true, Ordering::Release);
            tracing::info!(database = self.db.name(), "MongoDB store ready");
        }
        Ok(())
    }

    fn collection<T: Send + Sync>(&self, name: &str) -> Collection<T> {
        self.db.collection(name)
    }

    /// Replaces the documents `key` selects with `docs` (an upsert in two
    /// steps: the natural keys are unique, so a retry converges).
    async fn replace_all<T: Serialize + Send + Sync>(
        &self,
        name: &str,
        key: Document,
        docs: Vec<T>,
    ) -> StoreResult<u64> {
        if docs.is_empty() {
            return Ok(0);
        }
        let count = docs.len() as u64;
        let collection = self.collection::<T>(name);
        collection.delete_many(key).await.map_err(error)?;
        collection.insert_many(docs).ordered(false).await.map_err(error)?;
        Ok(count)
    }

    /// Inserts `docs`, skipping those whose unique key is already stored;
    /// returns how many were new.
    async fn insert_new<T: Serialize + Send + Sync>(&self, name: &str, docs: Vec<T>) -> StoreResult<u64> {
        if docs.is_empty() {
            return Ok(0);
        }
        let count = docs.len() as u64;
        match self.collection::<T>(name).insert_many(docs).ordered(false).await {
            Ok(result) => Ok(result.inserted_ids.len() as u64),
            Err(err) => match duplicates_only(&err) {
                Some(duplicates) => Ok(count - duplicates),
                None => Err(error(err)),
            },
        }
    }

    /// Replaces the one document matching `filter` with `value`, or inserts it.
    async fn replace_or_insert<T: Serialize + Send + Sync>(
        &self,
        name: &str,
        filter: Document,
        value: &T,
    ) -> StoreResult<()> {
        self.collection::<T>(name).replace_one(filter, value).upsert(true).await.map_err(error)?;
        Ok(())
    }

    /// Up to `limit` matching `filter` in `sort` order (`usize::MAX`: all).
    async fn find<T: DeserializeOwned + Send + Sync>(
        &self,
        name: &str,
        filter: Document,
        sort: Document,
        limit: usize,
    ) -> StoreResult<Vec<T>> {
        let collection = self.collection::<T>(name);
        let mut find = collection.find(filter).sort(sort);
        if limit < usize::MAX {
            find = find.limit(i64::try_from(limit).unwrap_or(i64::MAX));
        }
        let cursor = find.await.map_err(error)?;
        cursor.try_collect().await.map_err(error)
    }

    /// The newest `limit` matching `filter` by `field`, returned oldest first.
    async fn newest<T: DeserializeOwned + Send + Sync>(
        &self,
        name: &str,
        filter: Document,
        field: &str,
        limit: usize,
    ) -> StoreResult<Vec<T>> {
        let mut found = self.find(name, filter, doc! { field: -1 }, limit).await?;
        found.reverse();
        Ok(found)
    }

    /// The bars of `query`'s window (see [`BarQuery::limit`]), oldest first.
    async fn window<T: DeserializeOwned + Send + Sync>(
        &self,
        name: &str,
        filter: Document,
        field: &str,
        query: &BarQuery,
    ) -> StoreResult<Vec<T>> {
        if query.oldest_first() {
            self.find(name, filter, doc! { field: 1 }, query.limit).await
        } else {
            self.newest(name, filter, field, query.limit).await
        }
    }

    async fn symbols_in(&self, name: &str) -> StoreResult<Vec<String>> {
        let values = self.collection::<Document>(name).distinct("symbol", doc! {}).await.map_err(error)?;
        let mut symbols: Vec<String> =
            values.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
        symbols.sort();
        Ok(symbols)
    }
}

fn range(field: &str, q: &BarQuery) -> Document {
    doc! { "symbol": &q.symbol, field: { "$gte": q.from.unwrap_or(i64::MIN), "$lte": q.to.unwrap_or(i64::MAX) } }
}

impl Store for MongoStore {
    fn describe(&self) -> String {
        format!("MongoDB (database {})", self.db.name())
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(self.check())
    }

    fn upsert_company(&self, company: Company) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.replace_or_insert("companies", doc! { "symbol": &company.symbol }, &company).await
        })
    }

    fn upsert_daily_bars(&self, bars: Vec<Bar>) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let mut written = 0;
            for (symbol, group) in by_symbol(bars, |b| &b.symbol) {
                let days: Vec<Bson> = group.iter().map(|b| Bson::Int64(b.ts)).collect();
                written += self
                    .replace_all("daily_bars", doc! { "symbol": &symbol, "ts": { "$in": days } }, group)
                    .await?;
                self.refresh_summary(&symbol).await?;
            }
            Ok(written)
        })
    }

    /// Deletes, then writes: MongoDB gives no transaction here (a standalone
    /// server has none), so a failure between the two leaves the symbol
    /// without daily bars until the import is made again, never mixed.
    fn replace_daily_bars(&self, symbol: String, bars: Vec<Bar>) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            self.collection::<Bar>("daily_bars")
                .delete_many(doc! { "symbol": &symbol })
                .await
                .map_err(error)?;
            let written = self.replace_all("daily_bars", doc! { "symbol": &symbol }, bars).await?;
            self.refresh_summary(&symbol).await?;
            Ok(written)
        })
    }

    fn upsert_intraday_bars(&self, interval: IntradayInterval, bars: Vec<Bar>) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let mut written = 0;
            for (symbol, group) in by_symbol(bars, |b| &b.symbol) {
                let times: Vec<Bson> = group.iter().map(|b| Bson::Int64(b.ts)).collect();
                let key = doc! { "symbol": symbol, "interval": interval.as_str(), "ts": { "$in": times } };
                let docs =
                    group.into_iter().map(|bar| IntradayDoc { bar, interval: interval.as_str().to_owned() });
                written += self.replace_all("intraday_bars", key, docs.collect()).await?;
            }
            Ok(written)
        })
    }

    fn insert_ticks(&self, ticks: Vec<Tick>) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let docs = ticks
                .iter()
                .map(|tick| TickDoc {
                    tick: tick.clone(),
                    at: DateTime::from_millis(tick.ts.div_euclid(1_000_000)),
                })
                .collect();
            let new = self.insert_new("ticks", docs).await?;
            self.advance_last_ticks(&ticks).await?;
            Ok(new)
        })
    }

    fn append_event(&self, event: Event) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.insert_new("events", vec![event]).await.map(drop) })
    }

    fn symbols(&self) -> StoreFuture<'_, Vec<SymbolSummary>> {
        Box::pin(self.read_summaries())
    }

    fn daily_bars(&self, query: BarQuery) -> StoreFuture<'_, Vec<Bar>> {
        Box::pin(async move { self.window("daily_bars", range("ts", &query), "ts", &query).await })
    }

    fn intraday_bars(&self, interval: IntradayInterval, query: BarQuery) -> StoreFuture<'_, Vec<Bar>> {
        Box::pin(async move {
            let mut filter = range("ts", &query);
            filter.insert("interval", interval.as_str());
            let docs: Vec<IntradayDoc> = self.window("intraday_bars", filter, "ts", &query).await?;
            Ok(docs.into_iter().map(|d| d.bar).collect())
        })
    }

    fn company(&self, symbol: String) -> StoreFuture<'_, Option<Company>> {
        Box::pin(async move {
            self.collection::<Company>("companies").find_one(doc! { "symbol": symbol }).await.map_err(error)
        })
    }

    fn recent_ticks(&self, symbol: String, limit: usize) -> StoreFuture<'_, Vec<Tick>> {
        Box::pin(async move { self.newest("ticks", doc! { "symbol": symbol }, "seq", limit).await })
    }

    fn last_ticks(&self) -> StoreFuture<'_, Vec<LastTick>> {
        Box::pin(self.read_last_ticks())
    }

    fn ticks_between(&self, page: TickPage) -> StoreFuture<'_, Vec<Tick>> {
        Box::pin(self.read_ticks_between(page))
    }

    fn recent_events(&self, limit: usize) -> StoreFuture<'_, Vec<Event>> {
        Box::pin(async move { self.find("events", doc! {}, doc! { "ts": -1, "id": 1 }, limit).await })
    }

    fn upsert_analyzed_bars(&self, bars: Vec<AnalyzedBar>) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let mut written = 0;
            for bar in bars {
                let b = &bar.bar;
                // A bar built from fewer trades (by a receiver that took over
                // mid-bar) never replaces one built from more: the filter then
                // matches nothing, and the upsert's insert hits the unique key.
                let trades = i64::try_from(b.trades).unwrap_or(i64::MAX);
                let key = doc! {
                    "symbol": &b.symbol, "interval": b.interval.as_str(), "start": b.start,
                    "trades": { "$lte": trades },
                };
                let replaced =
                    self.collection::<AnalyzedBar>("live_bars").replace_one(key, &bar).upsert(true).await;
                match replaced {
                    Ok(_) => written += 1,
                    Err(err) if is_duplicate_key(&err) => {}
                    Err(err) => return Err(error(err)),
                }
            }
            Ok(written)
        })
    }

    fn analyzed_bars(&self, interval: BarInterval, query: BarQuery) -> StoreFuture<'_, Vec<AnalyzedBar>> {
        Box::pin(async move {
            let mut filter = range("start", &query);
            filter.insert("interval", interval.as_str());
            let bars = self.window("live_bars", filter, "start", &query).await?;
            Ok(screen::valid_analyzed_bars(bars))
        })
    }

    fn insert_alerts(&self, alerts: Vec<Alert>) -> StoreFuture<'_, ()> {
        // Keyed by (symbol, kind, ts): an alert read again from Kafka is skipped.
        Box::pin(async move { self.insert_new("alerts", alerts).await.map(drop) })
    }

    fn recent_alerts(&self, limit: usize) -> StoreFuture<'_, Vec<Alert>> {
        Box::pin(async move { self.find("alerts", doc! {}, doc! { "ts": -1, "_id": -1 }, limit).await })
    }

    fn save_job(&self, job: FetchJob) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.replace_or_insert("fetch_jobs", doc! { "id": &job.id }, &job).await })
    }

    fn job(&self, id: String) -> StoreFuture<'_, Option<FetchJob>> {
        Box::pin(async move {
            self.collection::<FetchJob>("fetch_jobs").find_one(doc! { "id": id }).await.map_err(error)
        })
    }

    fn fail_unfinished_jobs(&self, reason: String) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let open: Vec<FetchJob> = self
                .find("fetch_jobs", doc! { "finished": false }, doc! { "created": 1 }, usize::MAX)
                .await?;
            for mut job in open.iter().cloned() {
                fail_unfinished(&mut job, &reason);
                self.replace_or_insert("fetch_jobs", doc! { "id": &job.id }, &job).await?;
            }
            Ok(open.len() as u64)
        })
    }
}

/// `items` grouped by symbol, in first-seen order.
fn by_symbol<T>(items: Vec<T>, symbol: impl Fn(&T) -> &String) -> Vec<(String, Vec<T>)> {
    let mut groups: Vec<(String, Vec<T>)> = Vec::new();
    for item in items {
        let key = symbol(&item).clone();
        match groups.iter_mut().find(|(s, _)| *s == key) {
            Some((_, group)) => group.push(item),
            None => groups.push((key, vec![item])),
        }
    }
    groups
}

mod derived;
mod errors;
mod indexes;
#[cfg(test)]
mod tests;
