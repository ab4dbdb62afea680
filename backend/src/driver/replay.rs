//! Replays: the ticks stored in a window of event time played again, page
//! by page, at the recorded spacing divided by the speed, down the driver's
//! channel like the simulation's, so the receiver, the store and the
//! dashboard take them as any ticks. Started by `marquee replay` or by an
//! operator (`POST /api/v1/replay`); ends at the window's end or when
//! stopped.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use marquee_shared::{ReplayState, Tick};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::common::time::now_ns;
use crate::config::ReplaySpec;
use crate::driver::resume::newest_per_symbol;
use crate::metrics::StageStats;
use crate::sources::replay::Replayer;
use crate::store::{LastTick, SharedStore, TickPage};

/// Ticks read from the store at a time.
const PAGE: usize = 1_000;
/// How long to wait before reading the store again when it cannot be read.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// What to play.
#[derive(Debug, Clone)]
pub struct Session {
    pub spec: ReplaySpec,
    /// Ticks made that the store may not hold yet (the simulation's, held
    /// while the replay plays): seqs continue after them too.
    pub known: Vec<LastTick>,
    /// Symbols a live feed streams: not replayed (each symbol has one
    /// source of seqs).
    pub skip: HashSet<String>,
}

/// What a replay came to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Played {
    pub played: u64,
    /// Where each replayed symbol's seq and price stand now.
    pub positions: Vec<LastTick>,
    pub reason: String,
}

/// The replay's progress, for `GET /api/v1/replay`.
pub type Progress = Arc<watch::Sender<ReplayState>>;

/// Plays `session` until its end or `stop`.
pub async fn run(
    session: Session,
    store: SharedStore,
    out: mpsc::Sender<Vec<Tick>>,
    stats: Arc<StageStats>,
    progress: Option<Progress>,
    stop: CancellationToken,
) -> Played {
    let Session { spec, known, skip } = session;
    let mut played = Played::default();
    let newest = loop {
        // A store that hangs does not hold a stop.
        let read = tokio::select! {
            () = stop.cancelled() => return stopped(played),
            read = store.last_ticks() => read,
        };
        match read {
            Ok(ticks) => break newest_per_symbol(ticks.into_iter().chain(known.iter().cloned())),
            Err(err) => tracing::warn!(%err, "cannot read where each symbol's seq stands; trying again"),
        }
        tokio::select! {
            () = stop.cancelled() => return stopped(played),
            () = tokio::time::sleep(STORE_RETRY) => {}
        }
    };
    let mut replayer = Replayer::new(now_ns(), spec.speed, newest.into_values().map(|t| (t.symbol, t.seq)));
    let mut after = None;
    loop {
        let page = TickPage { from: spec.from, to: spec.to, after: after.clone(), limit: PAGE };
        let read = tokio::select! {
            () = stop.cancelled() => return ended(played, &replayer, "stopped"),
            read = store.ticks_between(page) => read,
        };
        let ticks = match read {
            Ok(ticks) => ticks,
            Err(err) => {
                tracing::warn!(%err, "cannot read the session; trying again");
                tokio::select! {
                    () = stop.cancelled() => return ended(played, &replayer, "stopped"),
                    () = tokio::time::sleep(STORE_RETRY) => {}
                }
                continue;
            }
        };
        let Some(last) = ticks.last() else { break };
        after = Some((last.ts, last.symbol.clone(), last.seq));
        for tick in ticks.into_iter().filter(|t| !skip.contains(&t.symbol)) {
            let tick = replayer.replay(tick);
            // Due when its new event time comes.
            let wait = Duration::from_nanos(u64::try_from(tick.ts.saturating_sub(now_ns())).unwrap_or(0));
            tokio::select! {
                () = stop.cancelled() => return ended(played, &replayer, "stopped"),
                () = tokio::time::sleep(wait) => {}
            }
            tokio::select! {
                () = stop.cancelled() => return ended(played, &replayer, "stopped"),
                sent = out.send(vec![tick]) => if sent.is_err() {
                    return ended(played, &replayer, "the pipeline stopped");
                },
            }
            stats.add_processed(1);
            played.played += 1;
            if let Some(progress) = &progress {
                progress.send_modify(|state| {
                    if let ReplayState::Playing { played, .. } = state {
                        *played += 1;
                    }
                });
            }
        }
    }
    tracing::info!(played = played.played, "replay finished");
    ended(played, &replayer, "played to the end of the window")
}

fn stopped(played: Played) -> Played {
    Played { reason: "stopped".into(), ..played }
}

fn ended(played: Played, replayer: &Replayer, reason: &str) -> Played {
    let positions = replayer
        .positions()
        .map(|(symbol, seq, price)| LastTick { symbol: symbol.to_owned(), seq, price })
        .collect();
    Played { positions, reason: reason.to_owned(), ..played }
}
