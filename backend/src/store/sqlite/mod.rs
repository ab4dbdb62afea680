//! The embedded store: one SQLite file in the data directory, in WAL mode
//! (`synchronous=NORMAL`: a crash loses at most the last commits, never the
//! file).
//!
//! SQLite calls block, so each runs on tokio's blocking pool. Writes go
//! through one connection behind a mutex (SQLite has one writer anyway);
//! reads take a read-only connection from a small pool (r2d2), so a REST
//! read never waits for the receiver's flush, nor a flush for a slow read:
//! in WAL mode readers see the last commit while the writer works.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use marquee_shared::{
    Alert, AnalyzedBar, Bar, BarInterval, Company, DataSource, Event, FetchJob, IntradayInterval,
    SymbolSummary, Tick,
};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

mod jobs;
mod rows;
mod schema;
mod summary;
mod ticks;

use rows::{engine, json_rows, read_bars, replace_daily_bars, source, to_i64, to_u64, upsert_bars};

use super::{BarQuery, LastTick, Store, StoreError, StoreFuture, StoreResult, TickPage, screen};

/// Read connections: REST handlers, the hub's seeding and the driver's
/// reads at once; each is a file handle and a page cache.
const READERS: u32 = 4;

/// Processes on one machine may share the directory (`--role`): wait for
/// another's write instead of failing at once.
const BUSY_WAIT: Duration = Duration::from_secs(30);

/// Switches the file to WAL. The switch needs the file to itself and SQLite
/// answers "busy" at once, without its busy timeout, while another process
/// has it open: so retry until `BUSY_WAIT` has passed.
fn use_wal(conn: &Connection) -> StoreResult<()> {
    let deadline = std::time::Instant::now() + BUSY_WAIT;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0)) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                return Err(StoreError::Unavailable(format!(
                    "the store cannot use WAL (journal mode {mode})"
                )));
            }
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(engine(e)),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

type ReadPool = r2d2::Pool<SqliteConnectionManager>;

/// The default store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Arc<Mutex<Connection>>,
    /// `None` in memory (a private database has one connection): reads then
    /// take the writer's.
    readers: Option<ReadPool>,
}

impl SqliteStore {
    /// Opens (creating if needed) `marquee.db` in `dir`, migrating an older store.
    pub fn open(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create data directory {}: {e}", dir.display()))
        })?;
        let path = dir.join("marquee.db");
        let mut conn = Connection::open(&path).map_err(engine)?;
        conn.busy_timeout(BUSY_WAIT).map_err(engine)?;
        use_wal(&conn)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(engine)?;
        schema::migrate(&mut conn)?;
        let readers = SqliteConnectionManager::file(&path)
            .with_flags(
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .with_init(|conn| conn.busy_timeout(BUSY_WAIT));
        let readers = r2d2::Pool::builder()
            .max_size(READERS)
            .connection_timeout(BUSY_WAIT)
            .build(readers)
            .map_err(|e| StoreError::Unavailable(format!("cannot open read connections: {e}")))?;
        Ok(Self { writer: Arc::new(Mutex::new(conn)), readers: Some(readers) })
    }

    /// A private in-memory store, for tests.
    pub fn in_memory() -> StoreResult<Self> {
        let mut conn = Connection::open_in_memory().map_err(engine)?;
        schema::migrate(&mut conn)?;
        Ok(Self { writer: Arc::new(Mutex::new(conn)), readers: None })
    }

    /// Calls `trace` with every statement the writer's connection runs
    /// (in memory: every statement), for the query-plan test.
    #[cfg(test)]
    pub(crate) fn trace(&self, trace: Option<fn(rusqlite::trace::TraceEvent<'_>)>) {
        if let Ok(conn) = self.writer.lock() {
            conn.trace_v2(rusqlite::trace::TraceEventCodes::SQLITE_TRACE_STMT, trace);
        }
    }

    /// The writer's connection, held: a flush in progress, for the test
    /// that reads meanwhile.
    #[cfg(test)]
    pub(crate) fn hold_writer(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The details of SQLite's plan for `sql`, one per step.
    #[cfg(test)]
    pub(crate) fn explain(&self, sql: &str) -> StoreResult<Vec<String>> {
        let conn = self.writer.lock().map_err(|_| StoreError::Unavailable("store lock poisoned".into()))?;
        let mut query = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).map_err(engine)?;
        // Parameters left unbound (NULL): the plan does not depend on them.
        let mut rows = query.raw_query();
        let mut steps = Vec::new();
        while let Some(row) = rows.next().map_err(engine)? {
            steps.push(row.get::<_, String>(3).map_err(engine)?);
        }
        Ok(steps)
    }

    /// Runs `work` with the writer's connection on the blocking pool.
    fn write<T, F>(&self, work: F) -> StoreFuture<'_, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let writer = Arc::clone(&self.writer);
        blocking(move || {
            let mut conn =
                writer.lock().map_err(|_| StoreError::Unavailable("store lock poisoned".into()))?;
            work(&mut conn)
        })
    }

    /// Runs `work` with a read connection on the blocking pool.
    fn read<T, F>(&self, work: F) -> StoreFuture<'_, T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let Some(readers) = self.readers.clone() else { return self.write(move |conn| work(conn)) };
        blocking(move || {
            let conn =
                readers.get().map_err(|e| StoreError::Unavailable(format!("no read connection: {e}")))?;
            work(&conn)
        })
    }
}

fn blocking<T, F>(work: F) -> StoreFuture<'static, T>
where
    T: Send + 'static,
    F: FnOnce() -> StoreResult<T> + Send + 'static,
{
    Box::pin(async move {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
    })
}

impl Store for SqliteStore {
    fn describe(&self) -> String {
        "embedded store (SQLite)".to_owned()
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(engine))
    }

    fn upsert_company(&self, c: Company) -> StoreFuture<'_, ()> {
        self.write(move |conn| {
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
        self.write(move |conn| upsert_bars(conn, None, &bars))
    }

    fn replace_daily_bars(&self, symbol: String, bars: Vec<Bar>) -> StoreFuture<'_, u64> {
        self.write(move |conn| replace_daily_bars(conn, &symbol, &bars))
    }

    fn upsert_intraday_bars(&self, interval: IntradayInterval, bars: Vec<Bar>) -> StoreFuture<'_, u64> {
        self.write(move |conn| upsert_bars(conn, Some(interval), &bars))
    }

    fn insert_ticks(&self, ticks: Vec<Tick>) -> StoreFuture<'_, u64> {
        self.write(move |conn| ticks::insert(conn, &ticks))
    }

    fn prune_ticks(&self, before: i64, batch: usize) -> StoreFuture<'_, u64> {
        self.write(move |conn| ticks::prune(conn, before, batch))
    }

    fn append_event(&self, event: Event) -> StoreFuture<'_, ()> {
        self.write(move |conn| {
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
        self.read(summary::read)
    }

    fn daily_bars(&self, q: BarQuery) -> StoreFuture<'_, Vec<Bar>> {
        self.read(move |conn| read_bars(conn, None, &q))
    }

    fn intraday_bars(&self, interval: IntradayInterval, q: BarQuery) -> StoreFuture<'_, Vec<Bar>> {
        self.read(move |conn| read_bars(conn, Some(interval), &q))
    }

    fn company(&self, symbol: String) -> StoreFuture<'_, Option<Company>> {
        self.read(move |conn| {
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
        self.read(move |conn| ticks::recent(conn, &symbol, limit))
    }

    fn last_ticks(&self) -> StoreFuture<'_, Vec<LastTick>> {
        self.read(ticks::last)
    }

    fn ticks_between(&self, page: TickPage) -> StoreFuture<'_, Vec<Tick>> {
        self.read(move |conn| ticks::between(conn, &page))
    }

    fn recent_events(&self, limit: usize) -> StoreFuture<'_, Vec<Event>> {
        self.read(move |conn| {
            json_rows(
                conn,
                "SELECT body FROM events ORDER BY ts DESC, id LIMIT ?1",
                params![to_i64(limit as u64)],
                "event",
            )
        })
    }

    fn save_job(&self, job: FetchJob) -> StoreFuture<'_, ()> {
        self.write(move |conn| jobs::save(conn, &job))
    }

    fn job(&self, id: String) -> StoreFuture<'_, Option<FetchJob>> {
        self.read(move |conn| jobs::get(conn, &id))
    }

    fn fail_unfinished_jobs(&self, reason: String) -> StoreFuture<'_, u64> {
        self.write(move |conn| jobs::fail_unfinished(conn, &reason))
    }

    fn upsert_analyzed_bars(&self, bars: Vec<AnalyzedBar>) -> StoreFuture<'_, u64> {
        self.write(move |conn| {
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
        self.read(move |conn| {
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
            Ok(screen::valid_analyzed_bars(bars))
        })
    }

    fn insert_alerts(&self, alerts: Vec<Alert>) -> StoreFuture<'_, ()> {
        self.write(move |conn| {
            let tx = conn.transaction().map_err(engine)?;
            {
                // Keyed by (symbol, kind, ts): an alert read again from Kafka is stored once.
                let mut insert = tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO alerts (symbol, kind, ts, body) VALUES (?1, ?2, ?3, ?4)",
                    )
                    .map_err(engine)?;
                for a in &alerts {
                    let body = serde_json::to_string(a).map_err(|e| StoreError::Engine(e.to_string()))?;
                    insert.execute(params![a.symbol, a.kind.as_str(), a.ts, body]).map_err(engine)?;
                }
            }
            tx.commit().map_err(engine)
        })
    }

    fn recent_alerts(&self, limit: usize) -> StoreFuture<'_, Vec<Alert>> {
        self.read(move |conn| {
            let sql = "SELECT body FROM alerts ORDER BY ts DESC, id DESC LIMIT ?1";
            json_rows(conn, sql, params![to_i64(limit as u64)], "alert")
        })
    }
}
