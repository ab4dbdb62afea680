//! The embedded store's tables and their migrations. The first schema is
//! `CREATE ... IF NOT EXISTS`; later changes are numbered migrations, each
//! run once in one transaction and recorded in `PRAGMA user_version`, so an
//! existing store moves forward cleanly and opening it again changes nothing.

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::rows::engine;
use super::summary;
use crate::store::StoreResult;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS companies (
    symbol TEXT PRIMARY KEY, name TEXT NOT NULL, sector TEXT NOT NULL, industry TEXT NOT NULL,
    exchange TEXT NOT NULL, currency TEXT NOT NULL, description TEXT NOT NULL, market_cap INTEGER,
    source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS daily_bars (
    symbol TEXT NOT NULL, ts INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,
    close REAL NOT NULL, volume INTEGER NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (symbol, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS intraday_bars (
    symbol TEXT NOT NULL, interval TEXT NOT NULL, ts INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL,
    low REAL NOT NULL, close REAL NOT NULL, volume INTEGER NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (symbol, interval, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ticks (
    symbol TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, price REAL NOT NULL,
    size INTEGER NOT NULL, change REAL NOT NULL, change_pct REAL NOT NULL,
    PRIMARY KEY (symbol, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS live_bars (
    symbol TEXT NOT NULL, interval TEXT NOT NULL, start INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (symbol, interval, start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fetch_jobs (
    id TEXT PRIMARY KEY, created INTEGER NOT NULL, body TEXT NOT NULL
);
";

/// Storage that scales past a day (issue 14): an index for every read's
/// access path, alerts keyed by (symbol, kind, ts), each symbol's newest
/// tick and daily summary in tables of their own, open fetch jobs findable.
const V1: &str = "
-- Made by the first schema until v1; events_by_time serves the newest-first read whole.
DROP INDEX IF EXISTS events_by_ts;
CREATE INDEX events_by_time ON events (ts DESC, id);
CREATE INDEX ticks_by_ts ON ticks (ts);

ALTER TABLE alerts ADD COLUMN symbol TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN kind TEXT NOT NULL DEFAULT '';
UPDATE alerts SET symbol = json_extract(body, '$.symbol'), kind = json_extract(body, '$.kind');
DELETE FROM alerts WHERE id NOT IN (SELECT MIN(id) FROM alerts GROUP BY symbol, kind, ts);
CREATE UNIQUE INDEX alerts_by_key ON alerts (symbol, kind, ts);
CREATE INDEX alerts_by_ts ON alerts (ts);

ALTER TABLE fetch_jobs ADD COLUMN finished INTEGER NOT NULL DEFAULT 0;
UPDATE fetch_jobs SET finished = json_extract(body, '$.finished');
CREATE INDEX fetch_jobs_open ON fetch_jobs (created) WHERE finished = 0;

CREATE TABLE last_ticks (
    symbol TEXT PRIMARY KEY, seq INTEGER NOT NULL, ts INTEGER NOT NULL, price REAL NOT NULL
) WITHOUT ROWID;
-- SQLite takes the bare columns from the row holding MAX(seq).
INSERT INTO last_ticks (symbol, seq, ts, price) SELECT symbol, MAX(seq), ts, price FROM ticks GROUP BY symbol;

CREATE TABLE symbol_summaries (
    symbol TEXT PRIMARY KEY, source TEXT NOT NULL, records INTEGER NOT NULL, latest_ts INTEGER NOT NULL,
    last REAL NOT NULL, previous REAL
) WITHOUT ROWID;
";

/// Creates the tables of a new store and brings an existing one up to date.
///
/// One IMMEDIATE transaction: it takes the write lock before reading, so
/// processes opening one directory together wait for each other (the busy
/// timeout applies) instead of one failing to upgrade a read to a write.
pub(super) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(engine)?;
    tx.execute_batch(SCHEMA).map_err(engine)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(engine)?;
    if version < 1 {
        v1(&tx)?;
        tx.pragma_update(None, "user_version", 1).map_err(engine)?;
    }
    tx.commit().map_err(engine)
}

fn v1(tx: &Transaction<'_>) -> StoreResult<()> {
    let alerts: i64 = tx.query_row("SELECT COUNT(*) FROM alerts", [], |row| row.get(0)).map_err(engine)?;
    tx.execute_batch(V1).map_err(engine)?;
    let kept: i64 = tx.query_row("SELECT COUNT(*) FROM alerts", [], |row| row.get(0)).map_err(engine)?;
    if kept < alerts {
        tracing::warn!(removed = alerts - kept, "removed repeated alerts (same symbol, kind and time)");
    }
    let symbols: Vec<String> = {
        let mut query = tx.prepare("SELECT DISTINCT symbol FROM daily_bars").map_err(engine)?;
        let rows = query.query_map([], |row| row.get(0)).map_err(engine)?;
        rows.collect::<Result<_, _>>().map_err(engine)?
    };
    for symbol in &symbols {
        summary::refresh(tx, symbol)?;
    }
    Ok(())
}
