//! `symbols()` from a table of one row per symbol, kept by the daily-bar
//! upserts (rare: imports, fetches, the demo loader), so listing symbols
//! never reads the bars. Rows stored before values were checked are left
//! out of the summary (with a warning naming them): a poisoned close is
//! never listed as the latest.

use marquee_shared::{Bar, DataSource, SymbolSummary};
use rusqlite::{Connection, params};

use super::rows::{engine, source, to_i64, to_u64};
use crate::store::{StoreResult, change, screen};

/// Recomputes `symbol`'s summary from its stored daily bars.
pub(super) fn refresh(conn: &Connection, symbol: &str) -> StoreResult<()> {
    let bars = {
        let mut query = conn
            .prepare_cached(
                "SELECT ts, open, high, low, close, volume, source FROM daily_bars WHERE symbol = ?1 ORDER BY ts DESC",
            )
            .map_err(engine)?;
        let rows = query
            .query_map(params![symbol], |row| {
                Ok((
                    Bar {
                        symbol: symbol.to_owned(),
                        ts: row.get(0)?,
                        open: row.get(1)?,
                        high: row.get(2)?,
                        low: row.get(3)?,
                        close: row.get(4)?,
                        volume: to_u64(row.get(5)?),
                        source: DataSource::Synthetic,
                    },
                    row.get::<_, String>(6)?,
                ))
            })
            .map_err(engine)?;
        rows.map(|row| {
            let (mut bar, src) = row.map_err(engine)?;
            bar.source = source(&src)?;
            Ok(bar)
        })
        .collect::<StoreResult<Vec<_>>>()?
    };
    // Newest first.
    let bars = screen::valid_bars(bars);
    let Some(latest) = bars.first() else {
        conn.execute("DELETE FROM symbol_summaries WHERE symbol = ?1", params![symbol]).map_err(engine)?;
        return Ok(());
    };
    conn.prepare_cached(
        "INSERT OR REPLACE INTO symbol_summaries (symbol, source, records, latest_ts, last, previous)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .map_err(engine)?
    .execute(params![
        symbol,
        latest.source.as_str(),
        to_i64(bars.len() as u64),
        latest.ts,
        latest.close,
        bars.get(1).map(|bar| bar.close)
    ])
    .map_err(engine)?;
    Ok(())
}

/// Every summarised symbol, in symbol order.
pub(super) fn read(conn: &Connection) -> StoreResult<Vec<SymbolSummary>> {
    let mut query = conn
        .prepare_cached(
            "SELECT symbol_summaries.symbol, companies.name, symbol_summaries.source, records, latest_ts, last,
                    previous
             FROM symbol_summaries LEFT JOIN companies USING (symbol)
             ORDER BY symbol_summaries.symbol",
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
        let (change, change_pct) = change(last, previous);
        Ok(SymbolSummary {
            symbol,
            name,
            source: source(&src)?,
            records: to_u64(records),
            latest_ts,
            last,
            change,
            change_pct,
            feed: None,
        })
    })
    .collect()
}
