//! The external services a process needs, checked once a sample: the store
//! (always), Kafka (when the stages run apart) and this process's SNS
//! subscription (when events go through SNS).

use std::time::Duration;

use marquee_shared::{Dependency, Status};

use crate::store::{SharedStore, Store, StoreError};

/// How long a dependency may take to answer a check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// One dependency to check.
#[derive(Debug, Clone)]
pub enum DependencyCheck {
    Store(SharedStore),
    #[cfg(feature = "kafka")]
    Kafka(crate::kafka::KafkaCheck),
    #[cfg(feature = "sns")]
    Sns(std::sync::Arc<crate::sns::Endpoint>),
}

impl DependencyCheck {
    /// Checks now; never takes much longer than [`CHECK_TIMEOUT`].
    pub async fn run(&self) -> Dependency {
        match self {
            DependencyCheck::Store(store) => check_store(store.as_ref()).await,
            #[cfg(feature = "kafka")]
            DependencyCheck::Kafka(kafka) => kafka.check(CHECK_TIMEOUT).await,
            #[cfg(feature = "sns")]
            DependencyCheck::Sns(endpoint) => endpoint.dependency(),
        }
    }
}

/// The store as a dependency, checked now.
async fn check_store(store: &dyn Store) -> Dependency {
    let answer = tokio::time::timeout(CHECK_TIMEOUT, store.ping()).await;
    store_dependency(store.describe(), answer.map_err(|_| CHECK_TIMEOUT))
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
        let up = DependencyCheck::Store(store).run().await;
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
