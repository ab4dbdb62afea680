//! The one shutdown signal: Ctrl+C or SIGTERM, whichever comes first; and
//! [`Grace`], the time the stages then have to finish their work.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Completes when the process is asked to stop.
pub async fn signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl+C");
            std::future::pending::<()>().await;
        }
    };

    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// The shutdown grace (`--shutdown-grace`) on the one shutdown token: what a
/// stage could not finish by [`Grace::over`] (a store that does not take
/// ticks, Kafka that does not confirm them) it spills instead of waiting on.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct Grace {
    shutdown: CancellationToken,
    over: CancellationToken,
}

impl Grace {
    /// Starts the clock: `grace` after `shutdown` is cancelled, the grace is
    /// over. The watch is a timer on the runtime that holds nothing and ends
    /// then (or with the runtime); it is kept off the stages' task tracker so
    /// that a shutdown with nothing left to finish does not wait for it.
    pub fn new(shutdown: CancellationToken, grace: Duration) -> Self {
        let over = CancellationToken::new();
        let (started, ended) = (shutdown.clone(), over.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = started.cancelled() => {
                    tokio::time::sleep(grace).await;
                    ended.cancel();
                }
                () = ended.cancelled() => {}
            }
        });
        Self { shutdown, over }
    }

    /// True once shutdown has begun.
    pub fn started(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    pub fn is_over(&self) -> bool {
        self.over.is_cancelled()
    }

    /// Completes when the grace is over.
    pub async fn over(&self) {
        self.over.cancelled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_grace_ends_its_length_after_shutdown_and_not_before() {
        let shutdown = CancellationToken::new();
        let grace = Grace::new(shutdown.clone(), Duration::from_millis(150));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!grace.started() && !grace.is_over(), "no shutdown, no grace running out");
        shutdown.cancel();
        let began = std::time::Instant::now();
        tokio::time::timeout(Duration::from_secs(5), grace.over()).await.expect("the grace ends");
        assert!(began.elapsed() >= Duration::from_millis(150), "ended after {:?}", began.elapsed());
        assert!(grace.started() && grace.is_over());
    }
}
