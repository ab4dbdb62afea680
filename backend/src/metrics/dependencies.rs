//! The external services a process needs, checked once a sample: the store
//! (always), Kafka (when the stages run apart) and this process's SNS
//! subscription (when events go through SNS).

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use marquee_shared::{Dependency, Status};

use crate::store::{SharedStore, Store, StoreError};

/// How long a dependency may take to answer a check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Something a process depends on, checked once a sample. Each engine's
/// adapter implements it for itself (Kafka, the SNS subscription); the store
/// is checked here.
pub trait Checked: Send + Sync + std::fmt::Debug {
    /// Checks now, waiting at most `timeout` for an answer.
    fn check(&self, timeout: Duration) -> BoxFuture<'_, Dependency>;
}

/// One dependency to check.
#[derive(Debug, Clone)]
pub struct DependencyCheck(Arc<dyn Checked>);

impl DependencyCheck {
    pub fn new(checked: impl Checked + 'static) -> Self {
        Self(Arc::new(checked))
    }

    /// The store, whichever it is.
    pub fn store(store: SharedStore) -> Self {
        Self::new(StoreCheck(store))
    }

    /// Checks now; never takes much longer than [`CHECK_TIMEOUT`].
    pub async fn run(&self) -> Dependency {
        self.0.check(CHECK_TIMEOUT).await
    }
}

#[derive(Debug)]
struct StoreCheck(SharedStore);

impl Checked for StoreCheck {
    fn check(&self, timeout: Duration) -> BoxFuture<'_, Dependency> {
        Box::pin(check_store(self.0.as_ref(), timeout))
    }
}

/// The store as a dependency, checked now.
async fn check_store(store: &dyn Store, timeout: Duration) -> Dependency {
    let answer = tokio::time::timeout(timeout, store.ping()).await;
    store_dependency(store.describe(), answer.map_err(|_| timeout))
}

/// What a store check found, for people and `/health`.
fn store_dependency(what: String, answer: Result<Result<(), StoreError>, Duration>) -> Dependency {
    let (status, detail) = match answer {
        Ok(Ok(())) => (Status::Up, format!("{what}: answering")),
        Ok(Err(err)) => (Status::Down, format!("{what}: {err}")),
        Err(waited) => (Status::Down, format!("{what}: no answer within {} ms", waited.as_millis())),
    };
    Dependency { name: "store".to_owned(), status, detail }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A MongoDB store that refused the connection, as reported.
    pub fn refused_store() -> Dependency {
        store_dependency("MongoDB".into(), Ok(Err(StoreError::Unavailable("connection refused".into()))))
    }

    #[tokio::test]
    async fn a_store_check_says_what_failed_and_how() {
        let store: SharedStore = std::sync::Arc::new(crate::store::SqliteStore::in_memory().expect("store"));
        let up = DependencyCheck::store(store).run().await;
        assert_eq!((up.name.as_str(), up.status), ("store", Status::Up));
        let refused = refused_store();
        assert_eq!(refused.status, Status::Down);
        assert!(
            refused.detail.contains("MongoDB") && refused.detail.contains("connection refused"),
            "{refused:?}"
        );
        let slow = store_dependency("MongoDB".into(), Err(CHECK_TIMEOUT));
        assert!(slow.detail.contains("no answer within 1000 ms"), "{slow:?}");
    }
}
