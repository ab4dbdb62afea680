//! Ticks: the biggest table by far (about 19 M rows a day at the default
//! rate), so every read goes by key and old rows are pruned in batches.
//! Each symbol's newest tick is also kept in `last_ticks`, where a
//! restarted driver resumes, so neither pruning nor the table's size
//! changes what `last_ticks()` costs or says.

use std::collections::HashMap;

use marquee_shared::Tick;
use rusqlite::{Connection, params};

use super::rows::{engine, to_i64, to_u64};
use crate::store::{LastTick, StoreResult, TickPage};

/// Inserts `ticks`, ignoring (symbol, seq) pairs already stored, and moves
/// each symbol's newest tick forward; returns how many were new.
pub(super) fn insert(conn: &mut Connection, ticks: &[Tick]) -> StoreResult<u64> {
    let tx = conn.transaction().map_err(engine)?;
    let mut new = 0;
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO ticks (symbol, seq, ts, price, size, change, change_pct)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(engine)?;
        let mut newest: HashMap<&str, &Tick> = HashMap::new();
        for t in ticks {
            new += insert
                .execute(params![t.symbol, to_i64(t.seq), t.ts, t.price, t.size, t.change, t.change_pct])
                .map_err(engine)? as u64;
            let held = newest.entry(&t.symbol).or_insert(t);
            if t.seq > held.seq {
                *held = t;
            }
        }
        let mut last = tx
            .prepare_cached(
                "INSERT INTO last_ticks (symbol, seq, ts, price) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (symbol) DO UPDATE SET seq = excluded.seq, ts = excluded.ts, price = excluded.price
                 WHERE excluded.seq > last_ticks.seq",
            )
            .map_err(engine)?;
        for t in newest.values() {
            last.execute(params![t.symbol, to_i64(t.seq), t.ts, t.price]).map_err(engine)?;
        }
    }
    tx.commit().map_err(engine)?;
    Ok(new)
}

/// The newest `limit` ticks of `symbol`, oldest first.
/// A page of a window of event time, oldest first, then by symbol and seq.
pub(super) fn between(conn: &Connection, page: &TickPage) -> StoreResult<Vec<Tick>> {
    let (after_ts, after_symbol, after_seq) = match &page.after {
        Some((ts, symbol, seq)) => (*ts, symbol.as_str(), to_i64(*seq)),
        None => (i64::MIN, "", -1),
    };
    let mut query = conn
        .prepare_cached(
            "SELECT symbol, seq, ts, price, size, change, change_pct FROM ticks
             WHERE ts >= max(?1, ?3) AND ts <= ?2 AND (ts > ?3 OR symbol > ?4 OR (symbol = ?4 AND seq > ?5))
             ORDER BY ts, symbol, seq LIMIT ?6",
        )
        .map_err(engine)?;
    let rows = query
        .query_map(
            params![page.from, page.to, after_ts, after_symbol, after_seq, to_i64(page.limit as u64)],
            tick,
        )
        .map_err(engine)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(engine)
}

fn tick(row: &rusqlite::Row<'_>) -> rusqlite::Result<Tick> {
    Ok(Tick {
        symbol: row.get(0)?,
        seq: to_u64(row.get(1)?),
        ts: row.get(2)?,
        price: row.get(3)?,
        // REAL, or INTEGER in a store written when sizes were whole.
        size: row.get(4)?,
        change: row.get(5)?,
        change_pct: row.get(6)?,
    })
}

pub(super) fn recent(conn: &Connection, symbol: &str, limit: usize) -> StoreResult<Vec<Tick>> {
    let mut query = conn
        .prepare_cached(
            "SELECT symbol, seq, ts, price, size, change, change_pct FROM ticks
             WHERE symbol = ?1 ORDER BY seq DESC LIMIT ?2",
        )
        .map_err(engine)?;
    let rows = query.query_map(params![symbol, to_i64(limit as u64)], tick).map_err(engine)?;
    let mut ticks = rows.collect::<Result<Vec<_>, _>>().map_err(engine)?;
    ticks.reverse();
    Ok(ticks)
}

/// The newest tick of every symbol that has had any, in symbol order.
pub(super) fn last(conn: &Connection) -> StoreResult<Vec<LastTick>> {
    let mut query =
        conn.prepare_cached("SELECT symbol, seq, price FROM last_ticks ORDER BY symbol").map_err(engine)?;
    let rows = query
        .query_map([], |row| {
            Ok(LastTick { symbol: row.get(0)?, seq: to_u64(row.get(1)?), price: row.get(2)? })
        })
        .map_err(engine)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(engine)
}

/// Deletes at most `batch` ticks made before `before` (ns since the epoch),
/// never a symbol's newest; returns how many went.
pub(super) fn prune(conn: &Connection, before: i64, batch: usize) -> StoreResult<u64> {
    let deleted = conn
        .prepare_cached(
            "DELETE FROM ticks WHERE (symbol, seq) IN (
               SELECT t.symbol, t.seq FROM ticks t WHERE t.ts < ?1
                 AND t.seq < (SELECT l.seq FROM last_ticks l WHERE l.symbol = t.symbol)
               LIMIT ?2)",
        )
        .map_err(engine)?
        .execute(params![before, to_i64(batch as u64)])
        .map_err(engine)?;
    Ok(deleted as u64)
}
