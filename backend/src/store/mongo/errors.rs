//! What MongoDB's errors mean to the store.

use mongodb::error::{Error, ErrorKind};

use crate::store::StoreError;

/// MongoDB's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11_000;

/// True if `err` is a single write refused for a duplicate key.
pub(super) fn is_duplicate_key(err: &Error) -> bool {
    match &*err.kind {
        ErrorKind::Write(mongodb::error::WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        ErrorKind::Command(e) => e.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// How many duplicates `err` reports, if duplicates are all it reports.
pub(super) fn duplicates_only(err: &Error) -> Option<u64> {
    let ErrorKind::InsertMany(failure) = &*err.kind else { return None };
    if failure.write_concern_error.is_some() {
        return None;
    }
    let errors = failure.write_errors.as_ref()?;
    errors.iter().all(|e| e.code == DUPLICATE_KEY).then_some(errors.len() as u64)
}

pub(super) fn error(err: Error) -> StoreError {
    match &*err.kind {
        ErrorKind::Io(_) | ErrorKind::ServerSelection { .. } | ErrorKind::ConnectionPoolCleared { .. } => {
            StoreError::Unavailable(format!("MongoDB: {err}"))
        }
        ErrorKind::BsonDeserialization(_) => StoreError::Corrupt(format!("MongoDB: {err}")),
        _ => StoreError::Engine(format!("MongoDB: {err}")),
    }
}
