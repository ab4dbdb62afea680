//! The driver's replays: one at a time, started and stopped by an operator
//! (or by `marquee replay` at the start). While one plays the simulation
//! waits, and afterwards it goes on with seqs after the replay's, so each
//! symbol still has one run of seqs.

use marquee_shared::{EventKind, ReplayState};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::replay::{self, Played, Session};
use super::{ControlError, Driver, Refusal, resume};
use crate::config::ReplaySpec;
use crate::store::TickPage;

/// A replay playing.
#[derive(Debug)]
pub(super) struct Replaying {
    spec: ReplaySpec,
    stop: CancellationToken,
    task: JoinHandle<Played>,
}

/// Resolves when the replay playing ends; never without one.
pub(super) async fn finished(replay: &mut Option<Replaying>) -> Played {
    match replay {
        Some(playing) => (&mut playing.task).await.unwrap_or_else(|err| Played {
            reason: format!("the replay failed: {err}"),
            ..Played::default()
        }),
        None => std::future::pending().await,
    }
}

impl Driver {
    pub(super) async fn start_replay(&mut self, spec: ReplaySpec) -> Result<(), ControlError> {
        if self.replay.is_some() {
            return Err(Refusal::Replaying.into());
        }
        // What is recorded by now: the replay's own ticks (stamped from now
        // on) must never be read back into it.
        let spec = ReplaySpec { to: spec.to.min(crate::common::time::now_ns()), ..spec };
        if spec.from > spec.to {
            return Err(Refusal::NothingToReplay.into());
        }
        let first = TickPage { from: spec.from, to: spec.to, after: None, limit: 1 };
        if self.store.ticks_between(first).await?.is_empty() {
            return Err(Refusal::NothingToReplay.into());
        }
        // Hold the simulation; a step it made goes first.
        if let Some(ticks) = self.pending.take() {
            self.stats.add_processed(ticks.len() as u64);
            if self.out.send(ticks).await.is_err() {
                return Err(ControlError::Stopped);
            }
        }
        if let Some(walk) = self.walk.take() {
            self.stopped_at = resume::positions(&walk);
        }
        let mut known = self.stopped_at.clone();
        if let Some(recent) = &self.recent {
            match recent.last_ticks().await {
                Ok(ticks) => known.extend(ticks),
                Err(err) => {
                    tracing::warn!(%err, "cannot read the newest ticks in flight; replaying after the store's")
                }
            }
        }
        let session = Session { spec, known, skip: self.settings.live.keys().cloned().collect() };
        self.progress.send_replace(ReplayState::Playing {
            from: spec.from,
            to: spec.to,
            speed: spec.speed,
            played: 0,
        });
        let stop = CancellationToken::new();
        let task = tokio::spawn(replay::run(
            session,
            self.store.clone(),
            self.out.clone(),
            self.stats.clone(),
            Some(self.progress.clone()),
            stop.clone(),
        ));
        self.replay = Some(Replaying { spec, stop, task });
        tracing::info!(from = spec.from, to = spec.to, speed = spec.speed, "replay started");
        self.events.emit(EventKind::ReplayStarted { from: spec.from, to: spec.to, speed: spec.speed }).await;
        self.relabel().await;
        Ok(())
    }

    pub(super) async fn stop_replay(&mut self) -> Result<(), ControlError> {
        if self.replay.is_none() {
            return Err(Refusal::NoReplay.into());
        }
        self.end_replay("stopped by the operator", true).await;
        Ok(())
    }

    /// Stops the replay playing, if one is, and waits for it; `resume`: the
    /// simulation goes on after it (not at shutdown).
    pub(super) async fn end_replay(&mut self, reason: &str, resume: bool) {
        let Some(playing) = self.replay.as_mut() else { return };
        playing.stop.cancel();
        let played = finished(&mut self.replay).await;
        self.replay_ended(Played { reason: reason.to_owned(), ..played }, resume).await;
    }

    /// After a replay: its figures are published, and the simulation (if
    /// it was on, and `resume`) goes on after the replay's seqs.
    pub(super) async fn replay_ended(&mut self, played: Played, resume: bool) {
        let Some(Replaying { spec, .. }) = self.replay.take() else { return };
        tracing::info!(played = played.played, reason = %played.reason, "replay ended");
        self.stopped_at.extend(played.positions);
        self.progress.send_replace(ReplayState::Finished {
            from: spec.from,
            to: spec.to,
            speed: spec.speed,
            played: played.played,
            reason: played.reason.clone(),
        });
        let finished =
            self.events.emit(EventKind::ReplayFinished { played: played.played, reason: played.reason });
        if tokio::time::timeout(super::STOP_EVENT_WAIT, finished).await.is_err() {
            tracing::warn!("the replay's end was not stored in time");
        }
        if !resume {
            return;
        }
        if self.settings.simulate && self.controller.is_started() && self.walk.is_none() {
            let symbols = match self.store.symbols().await {
                Ok(symbols) => self.usable(symbols).await,
                Err(err) => Err(err),
            };
            let started = match symbols {
                Ok(symbols) => self.start(symbols, false).await,
                Err(err) => Err(err),
            };
            if let Err(err) = started {
                tracing::error!(%err, "cannot resume the simulation after the replay; start it again");
            }
        }
        self.relabel().await;
    }

    /// Shows the symbols as replayed or simulated again.
    async fn relabel(&mut self) {
        if let Err(err) = self.refresh().await {
            tracing::warn!(%err, "cannot re-read the store");
            self.publish_state();
        }
    }
}
