//! The embedded store: one SQLite file in the data directory (WAL mode).
//!
//! SQLite calls block, so each runs on tokio's blocking pool; one connection
//! behind a mutex serialises them, which is what SQLite does anyway.

use std::path::Path;
use std::sync::{Arc, Mutex};

use marquee_shared::{
    Alert, AnalyzedBar, Bar, BarInterval, Company, DataSource, Event, FetchJob, IntradayInterval,
    SymbolSummary, Tick,
};
use rusqlite::{Connection, OptionalExtension, params};

mod rows;
mod schema;

use rows::{engine, json_rows, read_bars, replace_daily_bars, source, to_i64, to_u64, upsert_bars};
use schema::SCHEMA;

use super::{BarQuery, LastTick, Store, StoreError, StoreFuture, StoreResult};

/// The default store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) `marquee.db` in `dir`.
    pub fn open(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create data directory {}: {e}", dir.display()))
        })?;
        let conn = Connection::open(dir.join("marquee.db")).map_err(engine)?;
        // Processes on one machine may share the directory (`--role`): wait
        // for another's write instead of failing at once.
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(engine)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(engine)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(engine)?;
        Self::init(conn)
    }

    /// A private in-memory store, for tests.
    pub fn in_memory() -> StoreResult<Self> {
        Self::init(Connection::open_in_memory().map_err(engine)?)
    }

    fn init(conn: Connection) -> StoreResult<Self> {
        conn.execute_batch(SCHEMA).map_err(engine)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `work` with the connection on the blocking pool.
    fn with<T, F>(&self, work: F) -> StoreFuture<'_, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut conn =
                    conn.lock().map_err(|_| StoreError::Unavailable("store lock poisoned".into()))?;
                work(&mut conn)
            })
            .await
            .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
        })
    }
}

impl Store for SqliteStore {
    fn describe(&self) -> String {
        "embedded store (SQLite)".to_owned()
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.with(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(engine))
    }

    fn upsert_company(&self, c: Company) -> StoreFuture<'_, ()> {
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO companies (symbol, name, sector, industry, exchange, currency, description, market_cap, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (symbol) DO UPDATE SET name = ?2, sector = ?3, industry = ?4, exchange = ?5,
                   currency = ?6, description = ?7, market_cap = ?8, source = ?9",
                params![
                    c.symbol,
                    c.name,
                    c.sector,
                    c.industry,
                    c.exchange,
                    c.currency,
                    c.description,
                    c.market_cap.map(to_i64),
                    c.source.as_str()
                ],
            )
            .map_err(engine)?;
            Ok(())
        })
    }

    fn upsert_daily_bars(&self, bars: Vec<Bar>) -> StoreFuture<'_, u64> {
        self.with(move |conn| upsert_bars(conn, None, &bars))
    }

    fn replace_daily_bars(&self, symbol: String, bars: Vec<Bar>) -> StoreFuture<'_, u64> {
        self.with(move |conn| replace_daily_bars(conn, &symbol, &bars))
    }

    fn upsert_intraday_bars(&self, interval: IntradayInterval, bars: Vec<Bar>) -> StoreFuture<'_, u64> {
        self.with(move |conn| upsert_bars(conn, Some(interval), &bars))
    }

    fn insert_ticks(&self, ticks: Vec<Tick>) -> StoreFuture<'_, u64> {
        self.with(move |conn| {
            let tx = conn.transaction().map_err(engine)?;
            let mut new = 0;
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO ticks (symbol, seq, ts, price, size, change, change_pct)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .map_err(engine)?;
                for t in &ticks {
                    new += insert
                        .execute(params![
                            t.symbol,
                            to_i64(t.seq),
                            t.ts,
                            t.price,
                            to_i64(t.size),
                            t.change,
                            t.change_pct
                        ])
                        .map_err(engine)? as u64;
                }
            }
            tx.commit().map_err(engine)?;
            Ok(new)
        })
    }

    fn append_event(&self, event: Event) -> StoreFuture<'_, ()> {
        self.with(move |conn| {
            let body = serde_json::to_string(&event).map_err(|e| StoreError::Engine(e.to_string()))?;
            conn.execute(
                "INSERT OR IGNORE INTO events (id, ts, kind, body) VALUES (?1, ?2, ?3, ?4)",
                params![event.id, event.ts, event.kind.name(), body],
            )
            .map_err(engine)?;
            Ok(())
        })
    }

    fn symbols(&self) -> StoreFuture<'_, Vec<SymbolSummary>> {
        self.with(|conn| {
            // The latest two bars per symbol give the last close and the change.
            let mut query = conn
                .prepare_cached(
                    "WITH ranked AS (
                       SELECT symbol, ts, close, source,
                              ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY ts DESC) AS age,
                              COUNT(*) OVER (PARTITION BY symbol) AS records
                       FROM daily_bars)
                     SELECT l.symbol, c.name, l.source, l.records, l.ts, l.close, p.close
                     FROM ranked l
                     LEFT JOIN ranked p ON p.symbol = l.symbol AND p.age = 2
                     LEFT JOIN companies c ON c.symbol = l.symbol
                     WHERE l.age = 1
                     ORDER BY l.symbol",
                )
                .map_err(engine)?;
            let rows = query
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get::<_, f64>(5)?,
                        row.get::<_, Option<f64>>(6)?,
                    ))
                })
                .map_err(engine)?;
            rows.map(|row| {
                let (symbol, name, src, records, latest_ts, last, previous) = row.map_err(engine)?;
                let (change, change_pct) = super::change(last, previous);
                Ok(SymbolSummary {
                    symbol,
                    name,
                    source: source(&src)?,
                    records: to_u64(records),
                    latest_ts,
                    last,
                    change,
                    change_pct,
                })
            })
            .collect()
        })
    }

    fn daily_bars(&self, q: BarQuery) -> StoreFuture<'_, Vec<Bar>> {
        self.with(move |conn| read_bars(conn, None, &q))
    }

    fn intraday_bars(&self, interval: IntradayInterval, q: BarQuery) -> StoreFuture<'_, Vec<Bar>> {
        self.with(move |conn| read_bars(conn, Some(interval), &q))
    }

    fn company(&self, symbol: String) -> StoreFuture<'_, Option<Company>> {
        self.with(move |conn| {
            let row = conn
                .query_row(
                    "SELECT symbol, name, sector, industry, exchange, currency, description, market_cap, source
                     FROM companies WHERE symbol = ?1",
                    params![symbol],
                    |row| {
                        Ok((
                            Company {
                                symbol: row.get(0)?,
                                name: row.get(1)?,
                                sector: row.get(2)?,
                                industry: row.get(3)?,
                                exchange: row.get(4)?,
                                currency: row.get(5)?,
                                description: row.get(6)?,
                                market_cap: row.get::<_, Option<i64>>(7)?.map(to_u64),
                                source: DataSource::Synthetic,
                            },
                            row.get::<_, String>(8)?,
                        ))
                    },
                )
                .optional()
                .map_err(engine)?;
            row.map(|(mut company, src)| {
                company.source = source(&src)?;
                Ok(company)
            })
            .transpose()
        })
    }

    fn recent_ticks(&self, symbol: String, limit: usize) -> StoreFuture<'_, Vec<Tick>> {
        self.with(move |conn| {
            let mut query = conn
                .prepare_cached(
                    "SELECT symbol, seq, ts, price, size, change, change_pct FROM ticks
                     WHERE symbol = ?1 ORDER BY seq DESC LIMIT ?2",
                )
                .map_err(engine)?;
            let rows = query
                .query_map(params![symbol, to_i64(limit as u64)], |row| {
                    Ok(Tick {
                        symbol: row.get(0)?,
                        seq: to_u64(row.get(1)?),
                        ts: row.get(2)?,
                        price: row.get(3)?,
                        size: to_u64(row.get(4)?),
                        change: row.get(5)?,
                        change_pct: row.get(6)?,
                    })
                })
                .map_err(engine)?;
            let mut ticks = rows.collect::<Result<Vec<_>, _>>().map_err(engine)?;
            ticks.reverse();
            Ok(ticks)
        })
    }

    fn last_ticks(&self) -> StoreFuture<'_, Vec<LastTick>> {
        self.with(|conn| {
            // SQLite returns the row holding MAX(seq) for the bare column `price`.
            let mut query = conn
                .prepare_cached("SELECT symbol, MAX(seq), price FROM ticks GROUP BY symbol ORDER BY symbol")
                .map_err(engine)?;
            let rows = query
                .query_map([], |row| {
                    Ok(LastTick { symbol: row.get(0)?, seq: to_u64(row.get(1)?), price: row.get(2)? })
                })
                .map_err(engine)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(engine)
        })
    }

    fn recent_events(&self, limit: usize) -> StoreFuture<'_, Vec<Event>> {
        self.with(move |conn| {
            json_rows(
                conn,
                "SELECT body FROM events ORDER BY ts DESC, id LIMIT ?1",
                params![to_i64(limit as u64)],
                "event",
            )
        })
    }

    fn save_job(&self, job: FetchJob) -> StoreFuture<'_, ()> {
        self.with(move |conn| {
            let body = serde_json::to_string(&job).map_err(|e| StoreError::Engine(e.to_string()))?;
            conn.execute(
                "INSERT OR REPLACE INTO fetch_jobs (id, created, body) VALUES (?1, ?2, ?3)",
                params![job.id, job.created, body],
            )
            .map_err(engine)?;
            Ok(())
        })
    }

    fn job(&self, id: String) -> StoreFuture<'_, Option<FetchJob>> {
        self.with(move |conn| {
            let body: Option<String> = conn
                .query_row("SELECT body FROM fetch_jobs WHERE id = ?1", params![id], |row| row.get(0))
                .optional()
                .map_err(engine)?;
            body.map(|b| serde_json::from_str(&b).map_err(|e| StoreError::Corrupt(format!("fetch job: {e}"))))
                .transpose()
        })
    }

    fn upsert_analyzed_bars(&self, bars: Vec<AnalyzedBar>) -> StoreFuture<'_, u64> {
        self.with(move |conn| {
            let mut written = 0;
            let tx = conn.transaction().map_err(engine)?;
            {
                // A bar built from fewer trades (by a receiver that took over
                // mid-bar) never replaces one built from more.
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO live_bars (symbol, interval, start, body) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (symbol, interval, start) DO UPDATE SET body = excluded.body
                         WHERE json_extract(excluded.body, '$.trades') >= json_extract(live_bars.body, '$.trades')",
                    )
                    .map_err(engine)?;
                for b in &bars {
                    let body = serde_json::to_string(b).map_err(|e| StoreError::Engine(e.to_string()))?;
                    written += insert
                        .execute(params![b.bar.symbol, b.bar.interval.as_str(), b.bar.start, body])
                        .map_err(engine)? as u64;
                }
            }
            tx.commit().map_err(engine)?;
            Ok(written)
        })
    }

    fn analyzed_bars(&self, interval: BarInterval, q: BarQuery) -> StoreFuture<'_, Vec<AnalyzedBar>> {
        self.with(move |conn| {
            let order = if q.oldest_first() { "ASC" } else { "DESC" };
            let sql = format!(
                "SELECT body FROM live_bars WHERE symbol = ?1 AND interval = ?2 AND start >= ?3 AND start <= ?4
                 ORDER BY start {order} LIMIT ?5"
            );
            let (from, to) = (q.from.unwrap_or(i64::MIN), q.to.unwrap_or(i64::MAX));
            let args = params![q.symbol, interval.as_str(), from, to, to_i64(q.limit as u64)];
            let mut bars: Vec<AnalyzedBar> = json_rows(conn, &sql, args, "live bar")?;
            if !q.oldest_first() {
                bars.reverse();
            }
            Ok(bars)
        })
    }

    fn insert_alerts(&self, alerts: Vec<Alert>) -> StoreFuture<'_, ()> {
        self.with(move |conn| {
            let tx = conn.transaction().map_err(engine)?;
            {
                let mut insert =
                    tx.prepare_cached("INSERT INTO alerts (ts, body) VALUES (?1, ?2)").map_err(engine)?;
                for a in &alerts {
                    let body = serde_json::to_string(a).map_err(|e| StoreError::Engine(e.to_string()))?;
                    insert.execute(params![a.ts, body]).map_err(engine)?;
                }
            }
            tx.commit().map_err(engine)
        })
    }

    fn recent_alerts(&self, limit: usize) -> StoreFuture<'_, Vec<Alert>> {
        self.with(move |conn| {
            let sql = "SELECT body FROM alerts ORDER BY ts DESC, id DESC LIMIT ?1";
            json_rows(conn, sql, params![to_i64(limit as u64)], "alert")
        })
    }
}
