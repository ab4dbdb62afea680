//! Row-level helpers shared by the SQLite store's methods.

use marquee_shared::{Bar, DataSource, IntradayInterval};
use rusqlite::{Connection, params};

use super::super::{BarQuery, StoreError, StoreResult};

pub(super) fn engine(err: rusqlite::Error) -> StoreError {
    StoreError::Engine(err.to_string())
}

pub(super) fn source(text: &str) -> StoreResult<DataSource> {
    DataSource::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown data source {text:?}")))
}

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Daily bars (`interval` `None`) and intraday bars share one shape.
pub(super) fn upsert_bars(
    conn: &mut Connection,
    interval: Option<IntradayInterval>,
    bars: &[Bar],
) -> StoreResult<u64> {
    let tx = conn.transaction().map_err(engine)?;
    write_bars(&tx, interval, bars)?;
    if interval.is_none() {
        refresh_summaries(&tx, bars.iter().map(|b| b.symbol.as_str()))?;
    }
    tx.commit().map_err(engine)?;
    Ok(bars.len() as u64)
}

/// `symbol`'s daily bars deleted and `bars` written, in one transaction.
pub(super) fn replace_daily_bars(conn: &mut Connection, symbol: &str, bars: &[Bar]) -> StoreResult<u64> {
    let tx = conn.transaction().map_err(engine)?;
    tx.execute("DELETE FROM daily_bars WHERE symbol = ?1", params![symbol]).map_err(engine)?;
    write_bars(&tx, None, bars)?;
    refresh_summaries(&tx, bars.iter().map(|b| b.symbol.as_str()).chain([symbol]))?;
    tx.commit().map_err(engine)?;
    Ok(bars.len() as u64)
}

/// The summaries of `symbols` (repeats allowed) made again from their bars.
fn refresh_summaries<'a>(
    tx: &rusqlite::Transaction<'_>,
    symbols: impl Iterator<Item = &'a str>,
) -> StoreResult<()> {
    let mut symbols: Vec<&str> = symbols.collect();
    symbols.sort_unstable();
    symbols.dedup();
    for symbol in symbols {
        super::summary::refresh(tx, symbol)?;
    }
    Ok(())
}

fn write_bars(
    tx: &rusqlite::Transaction<'_>,
    interval: Option<IntradayInterval>,
    bars: &[Bar],
) -> StoreResult<()> {
    {
        let mut insert = match interval {
            None => tx.prepare_cached(
                "INSERT OR REPLACE INTO daily_bars (symbol, ts, open, high, low, close, volume, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            ),
            Some(_) => tx.prepare_cached(
                "INSERT OR REPLACE INTO intraday_bars (symbol, ts, open, high, low, close, volume, source, interval)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            ),
        }
        .map_err(engine)?;
        for b in bars {
            let row =
                params![b.symbol, b.ts, b.open, b.high, b.low, b.close, to_i64(b.volume), b.source.as_str()];
            match interval {
                None => insert.execute(row),
                Some(i) => insert.execute(params![
                    b.symbol,
                    b.ts,
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    to_i64(b.volume),
                    b.source.as_str(),
                    i.as_str()
                ]),
            }
            .map_err(engine)?;
        }
    }
    Ok(())
}

/// `limit` bars in range (see [`BarQuery::limit`]), oldest first.
pub(super) fn read_bars(
    conn: &Connection,
    interval: Option<IntradayInterval>,
    q: &BarQuery,
) -> StoreResult<Vec<Bar>> {
    let (from, to, limit) = (q.from.unwrap_or(i64::MIN), q.to.unwrap_or(i64::MAX), to_i64(q.limit as u64));
    let order = if q.oldest_first() { "ASC" } else { "DESC" };
    let sql = match interval {
        None => format!(
            "SELECT symbol, ts, open, high, low, close, volume, source FROM daily_bars
             WHERE symbol = ?1 AND ts >= ?2 AND ts <= ?3 ORDER BY ts {order} LIMIT ?4"
        ),
        Some(_) => format!(
            "SELECT symbol, ts, open, high, low, close, volume, source FROM intraday_bars
             WHERE symbol = ?1 AND ts >= ?2 AND ts <= ?3 AND interval = ?5 ORDER BY ts {order} LIMIT ?4"
        ),
    };
    let mut query = conn.prepare_cached(&sql).map_err(engine)?;
    let map = |row: &rusqlite::Row<'_>| -> rusqlite::Result<(Bar, String)> {
        Ok((
            Bar {
                symbol: row.get(0)?,
                ts: row.get(1)?,
                open: row.get(2)?,
                high: row.get(3)?,
                low: row.get(4)?,
                close: row.get(5)?,
                volume: to_u64(row.get(6)?),
                source: DataSource::Synthetic,
            },
            row.get::<_, String>(7)?,
        ))
    };
    let rows = match interval {
        None => query.query_map(params![q.symbol, from, to, limit], map),
        Some(i) => query.query_map(params![q.symbol, from, to, limit, i.as_str()], map),
    }
    .map_err(engine)?;
    let mut bars = rows
        .map(|row| {
            let (mut bar, src) = row.map_err(engine)?;
            bar.source = source(&src)?;
            Ok(bar)
        })
        .collect::<StoreResult<Vec<_>>>()?;
    if !q.oldest_first() {
        bars.reverse();
    }
    Ok(bars)
}

/// Rows of one JSON `body` column, parsed; `what` names them in errors.
pub(super) fn json_rows<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
    what: &str,
) -> StoreResult<Vec<T>> {
    let mut query = conn.prepare_cached(sql).map_err(engine)?;
    let rows = query.query_map(args, |row| row.get::<_, String>(0)).map_err(engine)?;
    rows.map(|body| {
        let body = body.map_err(engine)?;
        serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
    })
    .collect()
}
