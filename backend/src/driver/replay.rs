//! `marquee replay`: plays the ticks stored in a window of event time again,
//! page by page, at the recorded spacing divided by the speed, down the
//! driver's channel like the simulation's, so the receiver, the store and
//! the dashboard take them as any ticks. Ends at the window's end.

use std::sync::Arc;
use std::time::Duration;

use marquee_shared::Tick;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::common::time::now_ns;
use crate::config::ReplaySpec;
use crate::driver::resume::newest_per_symbol;
use crate::metrics::StageStats;
use crate::sources::replay::Replayer;
use crate::store::{SharedStore, TickPage};

/// Ticks read from the store at a time.
const PAGE: usize = 1_000;
/// How long to wait before reading the store again when it cannot be read.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// Plays `spec` until its end or `shutdown`.
pub async fn run(
    spec: ReplaySpec,
    store: SharedStore,
    out: mpsc::Sender<Vec<Tick>>,
    stats: Arc<StageStats>,
    shutdown: CancellationToken,
) {
    let newest = loop {
        match store.last_ticks().await {
            Ok(ticks) => break newest_per_symbol(ticks),
            Err(err) => tracing::warn!(%err, "cannot read where each symbol's seq stands; trying again"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(STORE_RETRY) => {}
        }
    };
    let mut replayer = Replayer::new(now_ns(), spec.speed, newest.into_values().map(|t| (t.symbol, t.seq)));
    let mut after = None;
    let mut played = 0_u64;
    loop {
        let page = TickPage { from: spec.from, to: spec.to, after: after.clone(), limit: PAGE };
        let ticks = match store.ticks_between(page).await {
            Ok(ticks) => ticks,
            Err(err) => {
                tracing::warn!(%err, "cannot read the session; trying again");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(STORE_RETRY) => {}
                }
                continue;
            }
        };
        let Some(last) = ticks.last() else { break };
        after = Some((last.ts, last.symbol.clone(), last.seq));
        for tick in ticks {
            let tick = replayer.replay(tick);
            // Due when its new event time comes.
            let wait = Duration::from_nanos(u64::try_from(tick.ts.saturating_sub(now_ns())).unwrap_or(0));
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                sent = out.send(vec![tick]) => if sent.is_err() { return },
            }
            stats.add_processed(1);
            played += 1;
        }
    }
    tracing::info!(played, "replay finished");
}
