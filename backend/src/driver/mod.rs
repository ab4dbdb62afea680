//! The driver stage: waits until enough symbols are stored, then turns a
//! random walk seeded from the stored prices into a live tick stream.
//! Operators start, stop, pause and speed it up through a [`DriverHandle`].

mod controller;
pub mod feed;
mod handle;
pub mod replay;
mod replaying;
mod resume;
mod symbols;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

pub use controller::{Command, Refusal};
pub use handle::{ControlError, DriverHandle, SimulationView};

pub use crate::sources::random_walk::{RandomWalk, Seed, WalkParams};
use controller::{Action, Controller};
use handle::Request;
use marquee_shared::{Event, EventKind, Feed, ReplayState, SimulationState, SymbolInfo, SymbolSummary, Tick};
pub use resume::RecentTicks;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::common::time::now_ns;
use crate::events::Events;
use crate::metrics::StageStats;
use crate::store::{SharedStore, StoreError};

/// How often the driver re-reads the store without being told to.
const STORE_RECHECK: Duration = Duration::from_secs(5);
/// How long storing the stop event may hold the driver's exit at shutdown.
const STOP_EVENT_WAIT: Duration = Duration::from_secs(1);
/// Stored days searched for a valid close when the latest is impossible.
const REPAIR_DAYS: usize = 100;

/// How the driver simulates.
#[derive(Debug, Clone)]
pub struct DriverSettings {
    /// Distinct stored symbols needed before the simulation starts by itself.
    pub threshold: u64,
    /// Time between two ticks of a symbol at speed 1.
    pub interval: Duration,
    /// The walk's parameters (its `step_secs` is per tick).
    pub walk: WalkParams,
    pub rng_seed: u64,
    /// Off when only venues' feeds were asked for (`--source`): no symbol is
    /// simulated.
    pub simulate: bool,
    /// A stored session played at the start (`marquee replay`): the stored
    /// symbols are shown as replayed.
    pub replay: Option<crate::config::ReplaySpec>,
    /// Symbols a live feed streams, with the venue's name: never simulated
    /// too (each symbol has one source of seqs).
    pub live: HashMap<String, String>,
}

/// The driver actor.
#[derive(Debug)]
pub struct Driver {
    settings: DriverSettings,
    store: SharedStore,
    events: Events,
    bus: Option<broadcast::Receiver<Event>>,
    commands: mpsc::Receiver<Request>,
    out: mpsc::Sender<Vec<Tick>>,
    state: watch::Sender<SimulationView>,
    stats: Arc<StageStats>,
    controller: Controller,
    symbols: Vec<SymbolInfo>,
    walk: Option<RandomWalk>,
    clock: Interval,
    /// Where each symbol stood when the walk last stopped in this process.
    stopped_at: Vec<crate::store::LastTick>,
    /// Ticks made that the store may not hold yet (in flight on Kafka).
    recent: Option<Arc<dyn RecentTicks>>,
    /// Symbols whose impossible stored close has been logged already (the
    /// store is re-read every few seconds; once is enough).
    reported: HashSet<String>,
    /// A step made while the channel out was full: sent once there is room,
    /// and no step is made meanwhile (backpressure), while operator commands
    /// are still answered.
    pending: Option<Vec<Tick>>,
    /// A replay playing; the simulation waits meanwhile.
    replay: Option<replaying::Replaying>,
    progress: replay::Progress,
}

impl Driver {
    pub fn new(
        settings: DriverSettings,
        store: SharedStore,
        events: Events,
        out: mpsc::Sender<Vec<Tick>>,
        stats: Arc<StageStats>,
    ) -> (Self, DriverHandle) {
        let controller = Controller::new(settings.threshold);
        let (state, state_rx) =
            watch::channel(SimulationView { state: controller.state(0), symbols: Vec::new() });
        let (commands_tx, commands) = mpsc::channel(16);
        let (progress, replay) = watch::channel(ReplayState::Idle);
        let clock = clock(settings.interval);
        let bus = Some(events.subscribe());
        let driver = Self {
            settings,
            store,
            events,
            bus,
            commands,
            out,
            state,
            stats,
            controller,
            symbols: Vec::new(),
            walk: None,
            clock,
            stopped_at: Vec::new(),
            recent: None,
            reported: HashSet::new(),
            pending: None,
            replay: None,
            progress: Arc::new(progress),
        };
        (driver, DriverHandle { commands: Some(commands_tx), state: state_rx, replay })
    }

    /// Also resumes each symbol after the ticks `recent` knows of (Kafka's
    /// tail, when the driver's ticks go through Kafka).
    pub fn with_recent_ticks(mut self, recent: Arc<dyn RecentTicks>) -> Self {
        self.recent = Some(recent);
        self
    }

    /// Runs until `shutdown` fires or the tick consumer goes away. Shutdown
    /// is obeyed at once, even mid-way through a store read that hangs (a
    /// store that is locked or away): the driver is what the receiver waits
    /// for to finish.
    pub async fn run(mut self, shutdown: CancellationToken) {
        // Other processes (the `fetch`/`import` commands) write to the store
        // without reaching this bus: look again now and then.
        let mut recheck = tokio::time::interval(STORE_RECHECK);
        recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let running = async {
            if let Err(err) = self.refresh().await {
                tracing::error!(%err, "cannot read the store at startup; waiting for events");
            }
            if let Some(spec) = self.settings.replay
                && let Err(err) = self.start_replay(spec).await
            {
                tracing::error!(%err, "cannot play the session");
            }
            while self.turn(&mut recheck, &shutdown).await {}
        };
        tokio::select! {
            () = running => {}
            () = shutdown.cancelled() => {}
        }
        self.end_replay("shut down", false).await;
        if self.controller.is_ticking() {
            let stopped = self.events.emit(EventKind::SimulationStopped { reason: "shutdown".into() });
            if tokio::time::timeout(STOP_EVENT_WAIT, stopped).await.is_err() {
                tracing::warn!("the simulation's stop event was not stored in time");
            }
        }
        self.stats.set_stopped("shut down");
        tracing::info!("driver stopped");
    }

    /// Waits for the next thing to do and does it. False once the driver
    /// should stop.
    async fn turn(&mut self, recheck: &mut Interval, shutdown: &CancellationToken) -> bool {
        // A handle of its own, so waiting for room borrows nothing of `self`.
        let out = self.out.clone();
        tokio::select! {
            () = shutdown.cancelled() => return false,
            _ = recheck.tick() => {
                if let Err(err) = self.refresh().await {
                    tracing::warn!(%err, "cannot re-read the store");
                }
            }
            event = recv_event(&mut self.bus) => match event {
                Ok(event) if matches!(event.kind, EventKind::SymbolDataLoaded { .. } | EventKind::BatchComplete { .. }) => {
                    if let Err(err) = self.refresh().await {
                        tracing::error!(%err, "cannot read the store after an event");
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // The store is the truth: re-read it instead of the missed events.
                    tracing::warn!(missed, "driver missed events; re-reading the store");
                    if let Err(err) = self.refresh().await {
                        tracing::error!(%err, "cannot read the store");
                    }
                }
                Err(broadcast::error::RecvError::Closed) => self.bus = None,
            },
            played = replaying::finished(&mut self.replay) => self.replay_ended(played, true).await,
            Some((command, reply)) = self.commands.recv() => {
                let result = self.on_command(command).await;
                if reply.send(result).is_err() {
                    tracing::debug!("operator left before the answer");
                }
            }
            permit = out.reserve(), if self.pending.is_some() => match permit {
                Ok(permit) => {
                    let ticks = self.pending.take().unwrap_or_default();
                    self.stats.add_processed(ticks.len() as u64);
                    permit.send(ticks);
                }
                Err(_) => return self.consumer_gone(),
            },
            due = self.clock.tick(), if self.controller.is_ticking() && self.pending.is_none() => {
                // Late steps are made at once, so the rate holds on a busy
                // machine; after a long stall (a suspended laptop) the
                // clock starts afresh instead.
                if due.elapsed() > MAX_CATCH_UP {
                    self.clock.reset();
                }
                return self.step();
            }
        }
        true
    }

    /// Makes one step and sends it, or holds it while the channel is full.
    /// False when the consumer is gone.
    fn step(&mut self) -> bool {
        let Some(walk) = self.walk.as_mut() else { return true };
        let ticks = walk.step(now_ns());
        let count = ticks.len() as u64;
        match self.out.try_send(ticks) {
            Ok(()) => self.stats.add_processed(count),
            Err(mpsc::error::TrySendError::Full(ticks)) => self.pending = Some(ticks),
            Err(mpsc::error::TrySendError::Closed(_)) => return self.consumer_gone(),
        }
        true
    }

    fn consumer_gone(&self) -> bool {
        tracing::warn!("tick consumer is gone; driver stops");
        self.stats.set_stopped("tick consumer is gone");
        false
    }

    /// Re-reads the stored symbols: may start the simulation, or add newly
    /// stored symbols to a running one.
    async fn refresh(&mut self) -> Result<(), StoreError> {
        let symbols = self.store.symbols().await?;
        let mut live = self.live_symbols(&symbols);
        if self.settings.replay.is_some() {
            live.extend(symbols.iter().map(|s| SymbolInfo {
                symbol: s.symbol.clone(),
                name: s.name.clone(),
                source: s.source,
                feed: Some(Feed::Replay),
            }));
        }
        let symbols = self.usable(symbols).await?;
        self.symbols = symbols
            .iter()
            .map(|s| SymbolInfo {
                symbol: s.symbol.clone(),
                name: s.name.clone(),
                source: s.source,
                // Held while a replay plays: its ticks come from the replay.
                feed: Some(if self.replay.is_some() { Feed::Replay } else { Feed::Simulated }),
            })
            .chain(live)
            .collect();
        match self.controller.on_stored_symbols(symbols.len() as u64) {
            Action::Start { by_threshold } => self.start(symbols, by_threshold).await?,
            _ => {
                if let Some(walk) = self.walk.as_mut() {
                    for summary in &symbols {
                        if !walk.contains(&summary.symbol) {
                            tracing::info!(symbol = %summary.symbol, "symbol joins the simulation");
                            walk.add(Seed::at(summary.symbol.clone(), summary.last));
                        }
                    }
                }
            }
        }
        self.publish_state();
        Ok(())
    }

    async fn on_command(&mut self, command: Command) -> Result<SimulationState, ControlError> {
        match command {
            Command::Replay(spec) => self.start_replay(spec).await?,
            Command::StopReplay => self.stop_replay().await?,
            Command::Start if self.replay.is_some() => return Err(Refusal::Replaying.into()),
            _ => {}
        }
        if command == Command::Start {
            // A manual start needs the current count, not the last one seen.
            self.refresh().await?;
        }
        match self.controller.on_command(command)? {
            Action::Nothing => {}
            Action::Start { by_threshold } => {
                let symbols = self.store.symbols().await?;
                let symbols = self.usable(symbols).await?;
                self.start(symbols, by_threshold).await?;
            }
            Action::Stop => {
                if let Some(walk) = self.walk.take() {
                    self.stopped_at = resume::positions(&walk);
                }
                self.events
                    .emit(EventKind::SimulationStopped { reason: "stopped by the operator".into() })
                    .await;
            }
            Action::Pause | Action::Resume => {}
            Action::SetSpeed(speed) => self.clock = clock(self.settings.interval.div_f64(speed)),
        }
        self.publish_state();
        Ok(self.state.borrow().state)
    }

    /// Seeds the walk from each symbol's latest close, resuming seq and price
    /// from the newest tick made before: stored, still in flight on Kafka, or
    /// where this process's walk last stopped. A seq is never made twice.
    async fn start(&mut self, symbols: Vec<SymbolSummary>, by_threshold: bool) -> Result<(), StoreError> {
        if self.replay.is_some() {
            // Started once the replay ends.
            return Ok(());
        }
        let mut known = self.store.last_ticks().await?;
        known.extend(self.stopped_at.iter().cloned());
        if let Some(recent) = &self.recent {
            match recent.last_ticks().await {
                Ok(ticks) => known.extend(ticks),
                Err(err) => {
                    tracing::warn!(%err, "cannot read the newest ticks in flight; resuming from the store")
                }
            }
        }
        let seeds = resume::seeds(&symbols, known);
        let names: Vec<String> = seeds.iter().map(|s| s.symbol.clone()).collect();
        self.walk = Some(RandomWalk::new(seeds, self.settings.walk, self.settings.rng_seed));
        self.clock = clock(self.settings.interval.div_f64(self.controller.speed()));
        if by_threshold {
            self.events.emit(EventKind::ThresholdReached { symbols: names.clone() }).await;
        }
        self.events.emit(EventKind::SimulationStarted { symbols: names }).await;
        Ok(())
    }

    fn publish_state(&mut self) {
        let symbols = self.walk.as_ref().map_or(0, |w| w.len() as u64);
        let state = self.controller.state(symbols);
        self.stats.set_running(state.describe());
        let view = SimulationView { state, symbols: self.symbols.clone() };
        self.state.send_if_modified(|held| {
            let changed = *held != view;
            *held = view;
            changed
        });
    }
}

async fn recv_event(
    bus: &mut Option<broadcast::Receiver<Event>>,
) -> Result<Event, broadcast::error::RecvError> {
    match bus {
        Some(bus) => bus.recv().await,
        None => std::future::pending().await,
    }
}

/// How far behind its clock the simulation catches up; beyond it, the
/// missed steps are skipped.
const MAX_CATCH_UP: Duration = Duration::from_secs(1);

fn clock(period: Duration) -> Interval {
    let mut clock = tokio::time::interval(period.max(Duration::from_micros(100)));
    // Steps that are late (the thread was not scheduled in time) are made at
    // once: the rate asked for is the rate made, up to `MAX_CATCH_UP`.
    clock.set_missed_tick_behavior(MissedTickBehavior::Burst);
    clock
}

#[cfg(test)]
mod tests;
