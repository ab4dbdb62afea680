//! Every statement the embedded store runs goes by an index: none reads a
//! whole table that grows with time (ticks, bars, events, alerts, jobs).
//! The statements are the ones the store really runs, seen through SQLite's
//! trace while every check of the store runs, so a new query is checked
//! without being listed here.

use std::collections::BTreeSet;
use std::sync::Mutex;

use super::*;

static STATEMENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record(event: rusqlite::trace::TraceEvent<'_>) {
    if let rusqlite::trace::TraceEvent::Stmt(statement, _) = event
        && let Ok(mut statements) = STATEMENTS.lock()
    {
        statements.push(statement.sql().into_owned());
    }
}

/// Tables of one row per symbol, read whole by design.
const PER_SYMBOL: [&str; 2] = ["last_ticks", "symbol_summaries"];

/// Runs each check on a fresh in-memory store (one connection: every
/// statement, reads included, goes through the traced one).
macro_rules! traced {
    ($($check:ident),* $(,)?) => {{
        let store = SqliteStore::in_memory().expect("store");
        $(
            let checked = SqliteStore::in_memory().expect("store");
            checked.trace(Some(record));
            $check(&checked).await;
            checked.trace(None);
        )*
        store
    }};
}

#[tokio::test]
async fn every_statement_the_store_runs_uses_an_index() {
    let store = every_check!(traced, prune_and_ping);

    let statements: BTreeSet<String> = STATEMENTS.lock().expect("statements").iter().cloned().collect();
    let mut checked = 0;
    for sql in &statements {
        let verb = sql.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        if !["SELECT", "DELETE", "UPDATE", "INSERT", "WITH"].contains(&verb.as_str()) {
            continue;
        }
        let plan = store.explain(sql).expect("explain");
        if std::env::var_os("MARQUEE_SHOW_PLANS").is_some() {
            eprintln!("{sql}\n  {plan:?}");
        }
        for step in &plan {
            let scans_whole_table = step.starts_with("SCAN ")
                && step != "SCAN CONSTANT ROW"
                && !step.contains("USING INDEX")
                && !step.contains("USING COVERING INDEX")
                && !step.contains("USING PRIMARY KEY")
                && !PER_SYMBOL.iter().any(|table| step.starts_with(&format!("SCAN {table}")));
            assert!(!scans_whole_table, "a statement reads a whole table:\n{sql}\nplan: {plan:#?}");
            assert!(
                !step.contains("TEMP B-TREE"),
                "a statement sorts outside an index:\n{sql}\nplan: {plan:#?}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} statements seen: {statements:#?}");
}

async fn prune_and_ping(store: &dyn Store) {
    store.prune_ticks(5, 10).await.expect("prune");
    store.ping().await.expect("ping");
}
