//! Fetch jobs: a JSON body, plus `finished` as a column so the jobs a crash
//! left open are found by index at the next start.

use marquee_shared::FetchJob;
use rusqlite::{Connection, OptionalExtension, params};

use super::rows::engine;
use crate::store::{StoreError, StoreResult};

pub(super) fn save(conn: &Connection, job: &FetchJob) -> StoreResult<()> {
    let body = serde_json::to_string(job).map_err(|e| StoreError::Engine(e.to_string()))?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO fetch_jobs (id, created, body, finished) VALUES (?1, ?2, ?3, ?4)",
    )
    .map_err(engine)?
    .execute(params![job.id, job.created, body, job.finished])
    .map_err(engine)?;
    Ok(())
}

pub(super) fn get(conn: &Connection, id: &str) -> StoreResult<Option<FetchJob>> {
    let body: Option<String> = conn
        .query_row("SELECT body FROM fetch_jobs WHERE id = ?1", params![id], |row| row.get(0))
        .optional()
        .map_err(engine)?;
    body.map(|b| parse(&b)).transpose()
}

/// Marks every unfinished job failed (its open entries with `reason`);
/// returns how many there were.
pub(super) fn fail_unfinished(conn: &mut Connection, reason: &str) -> StoreResult<u64> {
    let tx = conn.transaction().map_err(engine)?;
    let open: Vec<String> = {
        let mut query =
            tx.prepare_cached("SELECT body FROM fetch_jobs WHERE finished = 0").map_err(engine)?;
        let rows = query.query_map([], |row| row.get(0)).map_err(engine)?;
        rows.collect::<Result<_, _>>().map_err(engine)?
    };
    for body in &open {
        let mut job = parse(body)?;
        crate::store::fail_unfinished(&mut job, reason);
        save(&tx, &job)?;
    }
    tx.commit().map_err(engine)?;
    Ok(open.len() as u64)
}

fn parse(body: &str) -> StoreResult<FetchJob> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("fetch job: {e}")))
}
