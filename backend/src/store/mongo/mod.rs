//! The MongoDB store (feature `mongo`, `--mongodb-url`): the same [`Store`]
//! as the embedded one, for deployments that split the stages across
//! machines. One collection per kind of record, with the indexes its
//! queries and idempotent writes need (unique on the natural keys). Writes
//! are batched (`insert_many`, unordered); the driver retries transient
//! failures itself (retryable reads and writes), and a server that cannot
//! be reached is reported as [`StoreError::Unavailable`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::TryStreamExt;
use marquee_shared::{
    Alert, AnalyzedBar, Bar, BarInterval, Company, Event, FetchJob, IntradayInterval, SymbolSummary, Tick,
};
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{BarQuery, LastTick, Store, StoreFuture, StoreResult};
use errors::{duplicates_only, error, is_duplicate_key};

/// A stored intraday bar: the bar and its size.
#[derive(Debug, Serialize, Deserialize)]
struct IntradayDoc {
    #[serde(flatten)]
    bar: Bar,
    interval: String,
}

#[derive(Debug, Clone)]
pub struct MongoStore {
    db: Database,
    /// Set once the indexes exist; until then every ping tries to make them.
    indexed: Arc<AtomicBool>,
}

/// How long an operation waits for a server before it fails as unavailable
/// (unless the URL says otherwise): short, so a dead server shows at once.
const SERVER_WAIT: Duration = Duration::from_secs(3);

impl MongoStore {
    /// Uses database `name` on the server at `url` (`mongodb://...`). A bad
    /// URL is an error; a server that does not answer yet is not: the store
    /// reports itself unavailable (see [`Store::ping`]) until it answers,
    /// and then creates its indexes.
    pub async fn connect(url: &str, name: &str) -> StoreResult<Self> {
        let mut options = ClientOptions::parse(url).await.map_err(error)?;
        options.server_selection_timeout.get_or_insert(SERVER_WAIT);
        options.connect_timeout.get_or_insert(SERVER_WAIT);
        options.app_name.get_or_insert_with(|| "marquee".to_owned());
        let client = Client::with_options(options).map_err(error)?;
        let store = Self { db: client.database(name), indexed: Arc::new(AtomicBool::new(false)) };
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

    async fn create_indexes(&self) -> StoreResult<()> {
        let unique = |keys: Document| {
            IndexModel::builder().keys(keys).options(IndexOptions::builder().unique(true).build()).build()
        };
        let plain = |keys: Document| IndexModel::builder().keys(keys).build();
        let indexes = [
            ("companies", unique(doc! { "symbol": 1 })),
            ("daily_bars", unique(doc! { "symbol": 1, "ts": 1 })),
            ("intraday_bars", unique(doc! { "symbol": 1, "interval": 1, "ts": 1 })),
            ("ticks", unique(doc! { "symbol": 1, "seq": 1 })),
            ("events", unique(doc! { "id": 1 })),
            ("events", plain(doc! { "ts": -1 })),
            ("live_bars", unique(doc! { "symbol": 1, "interval": 1, "start": 1 })),
            ("alerts", plain(doc! { "ts": -1 })),
            ("fetch_jobs", unique(doc! { "id": 1 })),
        ];
        for (collection, index) in indexes {
            self.db.collection::<Document>(collection).create_index(index).await.map_err(error)?;
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

    async fn find<T: DeserializeOwned + Send + Sync>(
        &self,
        name: &str,
        filter: Document,
        sort: Document,
        limit: usize,
    ) -> StoreResult<Vec<T>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let cursor = self.collection::<T>(name).find(filter).sort(sort).limit(limit).await.map_err(error)?;
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
                    .replace_all("daily_bars", doc! { "symbol": symbol, "ts": { "$in": days } }, group)
                    .await?;
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
            self.replace_all("daily_bars", doc! { "symbol": &symbol }, bars).await
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
        Box::pin(self.insert_new("ticks", ticks))
    }

    fn append_event(&self, event: Event) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.insert_new("events", vec![event]).await.map(drop) })
    }

    fn symbols(&self) -> StoreFuture<'_, Vec<SymbolSummary>> {
        Box::pin(async move {
            let mut summaries = Vec::new();
            for symbol in self.symbols_in("daily_bars").await? {
                let filter = doc! { "symbol": &symbol };
                let records = self
                    .collection::<Bar>("daily_bars")
                    .count_documents(filter.clone())
                    .await
                    .map_err(error)?;
                let latest: Vec<Bar> = self.find("daily_bars", filter.clone(), doc! { "ts": -1 }, 2).await?;
                let Some(last) = latest.first() else { continue };
                let name = self.company(symbol.clone()).await?.map(|c| c.name);
                let previous = latest.get(1).map(|b| b.close);
                let (change, change_pct) = super::change(last.close, previous);
                summaries.push(SymbolSummary {
                    symbol,
                    name,
                    source: last.source,
                    records,
                    latest_ts: last.ts,
                    last: last.close,
                    change,
                    change_pct,
                });
            }
            Ok(summaries)
        })
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
        Box::pin(async move {
            let mut last = Vec::new();
            for symbol in self.symbols_in("ticks").await? {
                let newest: Vec<Tick> =
                    self.find("ticks", doc! { "symbol": &symbol }, doc! { "seq": -1 }, 1).await?;
                if let Some(tick) = newest.into_iter().next() {
                    last.push(LastTick { symbol, seq: tick.seq, price: tick.price });
                }
            }
            Ok(last)
        })
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
            self.window("live_bars", filter, "start", &query).await
        })
    }

    fn insert_alerts(&self, alerts: Vec<Alert>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            if !alerts.is_empty() {
                self.collection::<Alert>("alerts").insert_many(alerts).await.map_err(error)?;
            }
            Ok(())
        })
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

mod errors;
#[cfg(test)]
mod tests;
