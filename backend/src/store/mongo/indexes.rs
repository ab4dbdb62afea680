//! The indexes every query and idempotent write needs, made (and earlier
//! databases brought up to date) the first time the server answers.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::TryStreamExt;
use mongodb::IndexModel;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::IndexOptions;

use super::MongoStore;
use super::derived::LastTickDoc;
use super::errors::{error, is_duplicate_key};
use crate::store::StoreResult;

/// The TTL index on the ticks' `at` (their event time as a BSON date).
const TICKS_EXPIRE: &str = "ticks_expire";

fn unique(keys: Document) -> IndexModel {
    IndexModel::builder().keys(keys).options(IndexOptions::builder().unique(true).build()).build()
}

fn plain(keys: Document) -> IndexModel {
    IndexModel::builder().keys(keys).build()
}

impl MongoStore {
    pub(super) async fn create_indexes(&self) -> StoreResult<()> {
        let indexes = [
            ("companies", unique(doc! { "symbol": 1 })),
            ("daily_bars", unique(doc! { "symbol": 1, "ts": 1 })),
            ("intraday_bars", unique(doc! { "symbol": 1, "interval": 1, "ts": 1 })),
            ("ticks", unique(doc! { "symbol": 1, "seq": 1 })),
            // A replay reads a window of event time in order.
            ("ticks", plain(doc! { "ts": 1, "symbol": 1, "seq": 1 })),
            ("last_ticks", unique(doc! { "symbol": 1 })),
            ("symbol_summaries", unique(doc! { "symbol": 1 })),
            ("events", unique(doc! { "id": 1 })),
            ("events", plain(doc! { "ts": -1 })),
            ("live_bars", unique(doc! { "symbol": 1, "interval": 1, "start": 1 })),
            ("alerts", plain(doc! { "ts": -1 })),
            ("fetch_jobs", unique(doc! { "id": 1 })),
            ("fetch_jobs", plain(doc! { "finished": 1 })),
        ];
        for (collection, index) in indexes {
            self.db.collection::<Document>(collection).create_index(index).await.map_err(error)?;
        }
        self.key_alerts().await?;
        self.backfill().await?;
        if let Some(keep) = self.tick_retention {
            self.expire_ticks(keep).await?;
        }
        Ok(())
    }

    /// Alerts are keyed by (symbol, kind, ts), so one read again from Kafka
    /// is stored once; repeats stored before the key existed are removed.
    async fn key_alerts(&self) -> StoreResult<()> {
        let alerts = self.db.collection::<Document>("alerts");
        let key = || unique(doc! { "symbol": 1, "kind": 1, "ts": 1 });
        match alerts.create_index(key()).await {
            Ok(_) => return Ok(()),
            Err(err) if is_duplicate_key(&err) => {}
            Err(err) => return Err(error(err)),
        }
        let mut seen = HashSet::new();
        let mut repeated = Vec::new();
        let mut cursor = alerts.find(doc! {}).sort(doc! { "_id": 1 }).await.map_err(error)?;
        while let Some(alert) = cursor.try_next().await.map_err(error)? {
            let field = |name| alert.get(name).cloned().unwrap_or(Bson::Null).to_string();
            if !seen.insert((field("symbol"), field("kind"), field("ts"))) {
                repeated.extend(alert.get("_id").cloned());
            }
        }
        tracing::warn!(removed = repeated.len(), "removed repeated alerts (same symbol, kind and time)");
        alerts.delete_many(doc! { "_id": { "$in": repeated } }).await.map_err(error)?;
        alerts.create_index(key()).await.map_err(error)?;
        Ok(())
    }

    /// A TTL index expiring ticks `keep` after their event time; made again
    /// when the retention changed.
    async fn expire_ticks(&self, keep: Duration) -> StoreResult<()> {
        let ticks = self.db.collection::<Document>("ticks");
        self.purge_untimed_ticks(keep).await?;
        if let Some((name, current)) = self.ttl_index().await? {
            if current == Some(Duration::from_secs(keep.as_secs())) {
                return Ok(());
            }
            ticks.drop_index(name).await.map_err(error)?;
        }
        let options = IndexOptions::builder().name(TICKS_EXPIRE.to_owned()).expire_after(keep).build();
        let index = IndexModel::builder().keys(doc! { "at": 1 }).options(options).build();
        ticks.create_index(index).await.map_err(error)?;
        Ok(())
    }

    /// Ticks stored by an earlier version have no `at`, so the TTL index
    /// never expires them: at each start those past the retention go (where
    /// each symbol resumes is in `last_ticks`, filled before this), until
    /// none is left; a marker then spares later starts the unindexed search.
    async fn purge_untimed_ticks(&self, keep: Duration) -> StoreResult<()> {
        let marker = doc! { "_id": "ticks_all_timed" };
        let meta = self.db.collection::<Document>("meta");
        if meta.find_one(marker.clone()).await.map_err(error)?.is_some() {
            return Ok(());
        }
        let ticks = self.db.collection::<Document>("ticks");
        let untimed = doc! { "at": { "$exists": false } };
        let before =
            crate::common::time::now_ns().saturating_sub(i64::try_from(keep.as_nanos()).unwrap_or(i64::MAX));
        let mut expired = untimed.clone();
        expired.insert("ts", doc! { "$lt": before });
        let purged = ticks.delete_many(expired).await.map_err(error)?.deleted_count;
        if purged > 0 {
            tracing::info!(purged, "deleted ticks of an earlier version past the retention");
        }
        if ticks.find_one(untimed).await.map_err(error)?.is_none() {
            meta.replace_one(marker.clone(), marker).upsert(true).await.map_err(error)?;
        }
        Ok(())
    }

    /// How long the TTL index keeps ticks, if there is one.
    #[cfg(test)]
    pub(crate) async fn tick_expiry(&self) -> StoreResult<Option<Duration>> {
        Ok(self.ttl_index().await?.and_then(|(_, keep)| keep))
    }

    /// The index on the ticks' `at` (by its keys: a server may name it
    /// otherwise), with its name and TTL.
    async fn ttl_index(&self) -> StoreResult<Option<(String, Option<Duration>)>> {
        let indexes: Vec<IndexModel> = self
            .db
            .collection::<Document>("ticks")
            .list_indexes()
            .await
            .map_err(error)?
            .try_collect()
            .await
            .map_err(error)?;
        Ok(indexes.into_iter().find(|index| index.keys == doc! { "at": 1 }).map(|index| {
            let options = index.options.unwrap_or_default();
            (options.name.unwrap_or_else(|| TICKS_EXPIRE.to_owned()), options.expire_after)
        }))
    }

    /// Fills `last_ticks` and `symbol_summaries` for a database written by
    /// an earlier version (no-ops on an empty one).
    async fn backfill(&self) -> StoreResult<()> {
        let empty = |name: &str| {
            let collection = self.db.collection::<Document>(name);
            async move { collection.find_one(doc! {}).await.map(|found| found.is_none()).map_err(error) }
        };
        if empty("last_ticks").await? {
            for symbol in self.symbols_in("ticks").await? {
                let newest: Vec<marquee_shared::Tick> =
                    self.find("ticks", doc! { "symbol": &symbol }, doc! { "seq": -1 }, 1).await?;
                for t in newest {
                    self.advance_last_tick(LastTickDoc::from(&t)).await?;
                }
            }
        }
        if empty("symbol_summaries").await? {
            for symbol in self.symbols_in("daily_bars").await? {
                self.refresh_summary(&symbol).await?;
            }
        }
        Ok(())
    }
}
