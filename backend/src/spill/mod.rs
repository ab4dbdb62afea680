//! The spill: ticks that could not be stored (a receiver) or confirmed by
//! Kafka (a driver's producer) by the end of the shutdown grace are written
//! to a file in the data directory, and stored at the next start, before
//! the driver reads where each symbol resumes (so no seq in it is made again).
//!
//! One file per process, `spill/<instance>.ticks`, append-only, one
//! checksummed record per tick ([`record`]); each append is fsync'd before
//! it returns. A file is held under an exclusive advisory lock while it is
//! written or replayed, so a process never replays a file another is still
//! writing. A file is removed only once the store has confirmed every tick
//! in it; a torn or corrupt record is logged and skipped. Storing is
//! idempotent on (symbol, seq), so a tick both spilled and stored (or
//! spilled by two stages) is stored once.

pub mod record;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use marquee_shared::Tick;

use crate::store::Store;

/// The folder of spill files inside the data directory.
const FOLDER: &str = "spill";
const EXTENSION: &str = "ticks";
/// Ticks per store write when replaying.
const REPLAY_CHUNK: usize = 5_000;
/// Attempts to store a file's ticks at start, and the first wait between them.
const REPLAY_ATTEMPTS: u32 = 5;
const REPLAY_FIRST_RETRY: Duration = Duration::from_millis(200);

/// Where this process spills. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Spill {
    path: PathBuf,
}

impl Spill {
    /// This process's spill file in `data_dir` (not created until needed).
    pub fn new(data_dir: &Path, instance: &str) -> Self {
        Self { path: data_dir.join(FOLDER).join(format!("{instance}.{EXTENSION}")) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `ticks` durably (fsync'd) and logs each symbol's seq range.
    /// Runs on the blocking pool.
    pub async fn append(&self, ticks: Vec<Tick>, what: &'static str) -> io::Result<()> {
        if ticks.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let written = tokio::task::spawn_blocking(move || append_locked(&path, &ticks).map(|()| ticks))
            .await
            .map_err(io::Error::other)?;
        let ticks = written?;
        for (symbol, (first, last, count)) in seq_ranges(&ticks) {
            tracing::warn!(symbol, first, last, count, what, path = %self.path.display(), "ticks spilled");
        }
        Ok(())
    }
}

/// Each symbol's lowest and highest seq and its count, for the logs.
pub fn seq_ranges(ticks: &[Tick]) -> BTreeMap<&str, (u64, u64, usize)> {
    let mut ranges: BTreeMap<&str, (u64, u64, usize)> = BTreeMap::new();
    for tick in ticks {
        let range = ranges.entry(&tick.symbol).or_insert((tick.seq, tick.seq, 0));
        range.0 = range.0.min(tick.seq);
        range.1 = range.1.max(tick.seq);
        range.2 += 1;
    }
    ranges
}

/// Opens `path` for appending under an exclusive lock. If a replay removed
/// the file while this waited for its lock, opens the new one instead.
fn open_locked(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::MetadataExt;
    if let Some(folder) = path.parent() {
        fs::create_dir_all(folder)?;
    }
    loop {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        file.lock()?;
        let (held, named) = (file.metadata()?, fs::metadata(path));
        if named.is_ok_and(|named| (named.dev(), named.ino()) == (held.dev(), held.ino())) {
            return Ok(file);
        }
    }
}

fn append_locked(path: &Path, ticks: &[Tick]) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(ticks.len() * 160);
    ticks.iter().for_each(|tick| record::encode(tick, &mut bytes));
    let mut file = open_locked(path)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    // A new file's name is durable only once its folder is synced.
    if let Some(folder) = path.parent() {
        File::open(folder)?.sync_all()?;
    }
    Ok(())
}

/// What a replay did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    pub files: usize,
    /// Ticks read from the files (some may have been stored already).
    pub ticks: u64,
    /// Records skipped as torn or corrupt.
    pub skipped: usize,
}

/// Stores every spilled tick in `data_dir` and removes each file once the
/// store has confirmed all of it. A file another process holds (it is
/// writing it now) is left for a later start. Fails, keeping the file, if
/// the store refuses its ticks after a few attempts: starting without them
/// would let the driver make their seqs again.
pub async fn replay(data_dir: &Path, store: &dyn Store) -> anyhow::Result<Replayed> {
    let folder = data_dir.join(FOLDER);
    let entries = match fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Replayed::default()),
        Err(err) => return Err(err).with_context(|| format!("cannot list {}", folder.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == EXTENSION))
        .collect();
    paths.sort();
    let mut replayed = Replayed::default();
    for path in paths {
        let Some((file, decoded)) = read_unlocked_file(&path)? else {
            tracing::info!(path = %path.display(), "spill file in use by another process; left for later");
            continue;
        };
        for skipped in &decoded.skipped {
            tracing::error!(path = %path.display(), line = skipped.line, reason = %skipped.reason, "spilled record skipped");
        }
        store_all(store, &decoded.ticks).await.with_context(|| {
            format!(
                "cannot store the {} ticks spilled in {} (the file is kept; start again once the store answers)",
                decoded.ticks.len(),
                path.display()
            )
        })?;
        // Removed while still locked, so no writer appends to it meanwhile.
        fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        drop(file);
        for (symbol, (first, last, count)) in seq_ranges(&decoded.ticks) {
            tracing::info!(symbol, first, last, count, path = %path.display(), "spilled ticks stored");
        }
        replayed.files += 1;
        replayed.ticks += decoded.ticks.len() as u64;
        replayed.skipped += decoded.skipped.len();
    }
    Ok(replayed)
}

/// The file, locked, and what it holds; `None` if another process holds it.
fn read_unlocked_file(path: &Path) -> anyhow::Result<Option<(File, record::Decoded)>> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => return Ok(None),
        Err(fs::TryLockError::Error(err)) => {
            return Err(err).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some((file, record::decode(&bytes))))
}

async fn store_all(store: &dyn Store, ticks: &[Tick]) -> anyhow::Result<()> {
    for chunk in ticks.chunks(REPLAY_CHUNK) {
        let mut wait = REPLAY_FIRST_RETRY;
        let mut attempt = 1;
        loop {
            match store.insert_ticks(chunk.to_vec()).await {
                Ok(_) => break,
                Err(err) if attempt < REPLAY_ATTEMPTS => {
                    tracing::warn!(%err, attempt, retry_ms = wait.as_millis() as u64, "cannot store spilled ticks");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    attempt += 1;
                }
                Err(err) => return Err(err.into()),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
