//! The receiver stage: stores every tick batch, then passes it on to the
//! gateway's hub. It drains its input completely before it exits, so every
//! tick the driver handed over is written even during shutdown.

use std::sync::Arc;

use marquee_shared::Tick;
use tokio::sync::mpsc;

use crate::stats::StageStats;
use crate::store::SharedStore;

pub async fn run(
    mut input: mpsc::Receiver<Vec<Tick>>,
    store: SharedStore,
    out: mpsc::Sender<Vec<Tick>>,
    stats: Arc<StageStats>,
) {
    stats.set_running("storing ticks");
    let mut healthy = true;
    while let Some(batch) = input.recv().await {
        let count = batch.len() as u64;
        match store.insert_ticks(batch.clone()).await {
            Ok(_) if !healthy => {
                healthy = true;
                stats.set_running("storing ticks");
            }
            Ok(_) => {}
            Err(err) => {
                tracing::error!(%err, ticks = count, "cannot store ticks");
                stats.add_errors(1);
                stats.set_degraded(format!("cannot store ticks: {err}"));
                healthy = false;
            }
        }
        stats.add_processed(count);
        if out.send(batch).await.is_err() {
            // The hub has stopped (shutdown): keep storing what is left.
            tracing::debug!("hub gone; receiver only stores from here");
        }
    }
    stats.set_stopped("shut down");
    tracing::info!("receiver stopped");
}
