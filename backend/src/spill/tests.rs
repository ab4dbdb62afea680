//! The spill file on disk: appended, replayed into a store, removed.

use std::io::Write;

use marquee_shared::Tick;

use super::{Replayed, Spill, replay};
use crate::store::{SqliteStore, Store};

fn tick(symbol: &str, seq: u64) -> Tick {
    Tick {
        symbol: symbol.into(),
        seq,
        ts: 1_700_000_000_000_000_000,
        price: 10.0,
        size: 1.0,
        change: 0.0,
        change_pct: 0.0,
    }
}

async fn stored(store: &SqliteStore, symbol: &str) -> Vec<u64> {
    store.recent_ticks(symbol.into(), 1_000).await.expect("read").iter().map(|t| t.seq).collect()
}

#[tokio::test]
async fn appended_ticks_are_stored_at_the_next_start_and_the_file_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spill = Spill::new(dir.path(), "one");
    spill.append(vec![tick("A", 1), tick("A", 2)], "test").await.expect("append");
    spill.append(vec![tick("B", 1), tick("A", 3)], "test").await.expect("append again");
    assert!(spill.path().exists());

    let store = SqliteStore::in_memory().expect("store");
    store.insert_ticks(vec![tick("A", 1)]).await.expect("one is stored already");
    let replayed = replay(dir.path(), &store).await.expect("replay");
    assert_eq!(replayed, Replayed { files: 1, ticks: 4, skipped: 0 });
    assert_eq!((stored(&store, "A").await, stored(&store, "B").await), (vec![1, 2, 3], vec![1]));
    assert!(!spill.path().exists(), "removed once stored");
    assert_eq!(replay(dir.path(), &store).await.expect("again"), Replayed::default(), "nothing twice");
}

#[tokio::test]
async fn a_torn_tail_is_skipped_and_everything_before_it_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spill = Spill::new(dir.path(), "torn");
    spill.append(vec![tick("A", 1), tick("A", 2)], "test").await.expect("append");
    let mut file = std::fs::OpenOptions::new().append(true).open(spill.path()).expect("open");
    file.write_all(b"1234abcd {\"symbol\":\"A\",\"se").expect("a torn record");
    drop(file);

    let store = SqliteStore::in_memory().expect("store");
    let replayed = replay(dir.path(), &store).await.expect("replay");
    assert_eq!(replayed, Replayed { files: 1, ticks: 2, skipped: 1 });
    assert_eq!(stored(&store, "A").await, [1, 2]);
}

#[tokio::test]
async fn a_file_another_process_is_writing_is_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spill = Spill::new(dir.path(), "busy");
    spill.append(vec![tick("A", 1)], "test").await.expect("append");
    let held = std::fs::File::open(spill.path()).expect("open");
    held.lock().expect("lock");

    let store = SqliteStore::in_memory().expect("store");
    assert_eq!(replay(dir.path(), &store).await.expect("replay"), Replayed::default());
    assert!(spill.path().exists());
    drop(held);
    assert_eq!(replay(dir.path(), &store).await.expect("replay").ticks, 1);
}

#[tokio::test]
async fn no_spill_folder_is_nothing_to_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::in_memory().expect("store");
    assert_eq!(replay(dir.path(), &store).await.expect("replay"), Replayed::default());
}
