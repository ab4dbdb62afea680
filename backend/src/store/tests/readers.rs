//! Reads on the embedded store never wait for the writer: while a write
//! transaction is open (the writer's mutex held, as during a flush), reads
//! answer at once from the last commit (WAL), and see the write once it
//! commits.

use std::time::Duration;

use super::{bar, file_store, tick};
use crate::store::Store;

#[tokio::test]
#[expect(clippy::await_holding_lock, reason = "the writer is held on purpose while the reads run")]
async fn reads_answer_while_a_write_is_in_progress() {
    let (_dir, store) = file_store();
    store.upsert_daily_bars(vec![bar("IBM", 1, 10.0)]).await.expect("bars");
    store.insert_ticks(vec![tick("IBM", 1, 10.0)]).await.expect("ticks");

    let writer = store.hold_writer();
    writer
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO ticks VALUES ('IBM', 2, 2, 11.0, 1, 0, 0);")
        .expect("a write in progress");
    let ticks = tokio::time::timeout(Duration::from_secs(2), store.recent_ticks("IBM".into(), 10))
        .await
        .expect("recent_ticks waited for the writer")
        .expect("read");
    assert_eq!(ticks.iter().map(|t| t.seq).collect::<Vec<_>>(), [1], "the last commit, not the open write");
    let symbols = tokio::time::timeout(Duration::from_secs(2), store.symbols())
        .await
        .expect("symbols waited for the writer")
        .expect("read");
    assert_eq!(symbols.len(), 1);
    writer.execute_batch("COMMIT").expect("commit");
    drop(writer);

    let ticks = store.recent_ticks("IBM".into(), 10).await.expect("read");
    assert_eq!(ticks.iter().map(|t| t.seq).collect::<Vec<_>>(), [1, 2]);
}
