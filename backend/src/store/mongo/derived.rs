//! Records kept beside the raw ones so reads stay small: each symbol's
//! newest tick (`last_ticks`: where a restarted driver resumes, kept when
//! the TTL index expires the tick itself) and each symbol's daily summary
//! (`symbol_summaries`: `symbols()` never reads the bars).

use std::collections::HashMap;

use marquee_shared::{Bar, DataSource, SymbolSummary, Tick};
use mongodb::bson::doc;
use serde::{Deserialize, Serialize};

use super::MongoStore;
use super::errors::{error, is_duplicate_key};
use crate::store::{LastTick, StoreResult, TickPage, change, screen};

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct LastTickDoc {
    symbol: String,
    seq: u64,
    price: f64,
    ts: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct SummaryDoc {
    symbol: String,
    source: DataSource,
    records: u64,
    latest_ts: i64,
    last: f64,
    previous: Option<f64>,
}

impl From<&Tick> for LastTickDoc {
    fn from(t: &Tick) -> Self {
        Self { symbol: t.symbol.clone(), seq: t.seq, price: t.price, ts: t.ts }
    }
}

impl MongoStore {
    /// Moves each symbol's newest tick forward to the newest of `ticks`.
    pub(super) async fn advance_last_ticks(&self, ticks: &[Tick]) -> StoreResult<()> {
        let mut newest: HashMap<&str, &Tick> = HashMap::new();
        for t in ticks {
            let held = newest.entry(&t.symbol).or_insert(t);
            if t.seq > held.seq {
                *held = t;
            }
        }
        for t in newest.into_values() {
            self.advance_last_tick(LastTickDoc::from(t)).await?;
        }
        Ok(())
    }

    /// Replaces the symbol's newest tick if `last` is newer. An older or
    /// equal one matches nothing, and the upsert's insert then hits the
    /// unique key on `symbol`: nothing changes.
    pub(super) async fn advance_last_tick(&self, last: LastTickDoc) -> StoreResult<()> {
        let seq = i64::try_from(last.seq).unwrap_or(i64::MAX);
        let filter = doc! { "symbol": &last.symbol, "seq": { "$lt": seq } };
        match self.collection::<LastTickDoc>("last_ticks").replace_one(filter, &last).upsert(true).await {
            Ok(_) => Ok(()),
            Err(err) if is_duplicate_key(&err) => Ok(()),
            Err(err) => Err(error(err)),
        }
    }

    /// A page of a window of event time, by (ts, symbol, seq).
    pub(super) async fn read_ticks_between(&self, page: TickPage) -> StoreResult<Vec<Tick>> {
        let mut filter = doc! { "ts": { "$gte": page.from, "$lte": page.to } };
        if let Some((ts, symbol, seq)) = &page.after {
            let seq = i64::try_from(*seq).unwrap_or(i64::MAX);
            filter.insert(
                "$or",
                vec![
                    doc! { "ts": { "$gt": ts } },
                    doc! { "ts": ts, "symbol": { "$gt": symbol } },
                    doc! { "ts": ts, "symbol": symbol, "seq": { "$gt": seq } },
                ],
            );
        }
        self.find("ticks", filter, doc! { "ts": 1, "symbol": 1, "seq": 1 }, page.limit).await
    }

    pub(super) async fn read_last_ticks(&self) -> StoreResult<Vec<LastTick>> {
        let docs: Vec<LastTickDoc> =
            self.find("last_ticks", doc! {}, doc! { "symbol": 1 }, usize::MAX).await?;
        Ok(docs.into_iter().map(|d| LastTick { symbol: d.symbol, seq: d.seq, price: d.price }).collect())
    }

    /// Recomputes `symbol`'s summary from its stored daily bars, leaving out
    /// (with a warning naming them) rows stored before values were checked.
    pub(super) async fn refresh_summary(&self, symbol: &str) -> StoreResult<()> {
        let bars: Vec<Bar> =
            self.find("daily_bars", doc! { "symbol": symbol }, doc! { "ts": -1 }, usize::MAX).await?;
        let bars = screen::valid_bars(bars);
        let summaries = self.collection::<SummaryDoc>("symbol_summaries");
        let Some(latest) = bars.first() else {
            summaries.delete_one(doc! { "symbol": symbol }).await.map_err(error)?;
            return Ok(());
        };
        let summary = SummaryDoc {
            symbol: symbol.to_owned(),
            source: latest.source,
            records: bars.len() as u64,
            latest_ts: latest.ts,
            last: latest.close,
            previous: bars.get(1).map(|b| b.close),
        };
        self.replace_or_insert("symbol_summaries", doc! { "symbol": symbol }, &summary).await
    }

    pub(super) async fn read_summaries(&self) -> StoreResult<Vec<SymbolSummary>> {
        let docs: Vec<SummaryDoc> =
            self.find("symbol_summaries", doc! {}, doc! { "symbol": 1 }, usize::MAX).await?;
        let symbols: Vec<&str> = docs.iter().map(|d| d.symbol.as_str()).collect();
        let companies: Vec<marquee_shared::Company> = self
            .find("companies", doc! { "symbol": { "$in": symbols } }, doc! { "symbol": 1 }, usize::MAX)
            .await?;
        let names: HashMap<String, String> = companies.into_iter().map(|c| (c.symbol, c.name)).collect();
        Ok(docs
            .into_iter()
            .map(|d| {
                let (change, change_pct) = change(d.last, d.previous);
                SymbolSummary {
                    name: names.get(&d.symbol).cloned(),
                    symbol: d.symbol,
                    source: d.source,
                    records: d.records,
                    latest_ts: d.latest_ts,
                    last: d.last,
                    change,
                    change_pct,
                    feed: None,
                }
            })
            .collect())
    }
}
