//! When the simulation runs: the threshold rule and operator commands, as a
//! pure state machine. The driver task carries out what it decides.

use marquee_shared::SimulationState;

use crate::config::ReplaySpec;

/// An operator's request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    Start,
    Stop,
    Pause,
    Resume,
    Speed(f64),
    /// Play a stored session again (the simulation waits meanwhile).
    Replay(ReplaySpec),
    StopReplay,
}

/// What the driver must do after an input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    Nothing,
    /// Build the walk from the store and start ticking.
    Start {
        by_threshold: bool,
    },
    Stop,
    /// Keep the walk, stop or restart ticking.
    Pause,
    Resume,
    /// Tick `speed` times as often as the configured interval.
    SetSpeed(f64),
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("no symbols are stored yet: fetch or import data first")]
    NoData,
    #[error("the simulation is not running")]
    NotRunning,
    #[error("the simulation is not paused")]
    NotPaused,
    #[error("speed must be between {MIN_SPEED} and {MAX_SPEED}, got {0}")]
    BadSpeed(f64),
    #[error("a replay is playing: stop it first (DELETE /api/v1/replay)")]
    Replaying,
    #[error("no replay is playing")]
    NoReplay,
    #[error("no ticks are stored in that window: pick one where the dashboard was live")]
    NothingToReplay,
}

pub const MIN_SPEED: f64 = 0.1;
pub const MAX_SPEED: f64 = 100.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Running,
    Paused,
    Stopped,
}

/// The simulation's phase, the stored symbol count and the speed.
#[derive(Debug, Clone)]
pub struct Controller {
    threshold: u64,
    phase: Phase,
    stored: u64,
    speed: f64,
}

impl Controller {
    pub fn new(threshold: u64) -> Self {
        Self { threshold, phase: Phase::Waiting, stored: 0, speed: 1.0 }
    }

    /// The number of distinct stored symbols changed (or was re-read).
    pub fn on_stored_symbols(&mut self, stored: u64) -> Action {
        self.stored = stored;
        if self.phase == Phase::Waiting && stored >= self.threshold && stored > 0 {
            self.phase = Phase::Running;
            Action::Start { by_threshold: true }
        } else {
            Action::Nothing
        }
    }

    pub fn on_command(&mut self, command: Command) -> Result<Action, Refusal> {
        use Phase::*;
        let action = match (command, self.phase) {
            (Command::Start, Running) => Action::Nothing,
            (Command::Start | Command::Resume, Paused) => Action::Resume,
            (Command::Start, Waiting | Stopped) if self.stored == 0 => return Err(Refusal::NoData),
            (Command::Start, Waiting | Stopped) => Action::Start { by_threshold: false },
            (Command::Stop, Running | Paused) => Action::Stop,
            // Stopping before the start keeps the threshold from starting it.
            (Command::Stop, Waiting | Stopped) => Action::Nothing,
            (Command::Pause, Running) => Action::Pause,
            (Command::Pause, Paused) => Action::Nothing,
            (Command::Pause, Waiting | Stopped) => return Err(Refusal::NotRunning),
            (Command::Resume, Running) => Action::Nothing,
            (Command::Resume, Waiting | Stopped) => return Err(Refusal::NotPaused),
            (Command::Speed(speed), _) => {
                if !(MIN_SPEED..=MAX_SPEED).contains(&speed) {
                    return Err(Refusal::BadSpeed(speed));
                }
                self.speed = speed;
                Action::SetSpeed(speed)
            }
            // The driver plays replays; the simulation's phase stays.
            (Command::Replay(_) | Command::StopReplay, _) => Action::Nothing,
        };
        self.phase = match (command, action) {
            (_, Action::Start { .. } | Action::Resume) => Running,
            (_, Action::Pause) => Paused,
            (Command::Stop, _) => Stopped,
            _ => self.phase,
        };
        Ok(action)
    }

    pub fn is_ticking(&self) -> bool {
        self.phase == Phase::Running
    }

    /// Started and not stopped: running or paused.
    pub fn is_started(&self) -> bool {
        matches!(self.phase, Phase::Running | Phase::Paused)
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The state as REST, `/health` and the dashboard show it.
    pub fn state(&self, symbols: u64) -> SimulationState {
        match self.phase {
            Phase::Waiting => SimulationState::Waiting { have: self.stored, need: self.threshold },
            Phase::Running => SimulationState::Running { symbols, speed: self.speed },
            Phase::Paused => SimulationState::Paused { symbols, speed: self.speed },
            Phase::Stopped => SimulationState::Stopped { symbols },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_once_the_threshold_is_reached_and_only_once() {
        let mut c = Controller::new(5);
        assert_eq!(c.on_stored_symbols(3), Action::Nothing);
        assert_eq!(c.state(0), SimulationState::Waiting { have: 3, need: 5 });
        assert_eq!(c.on_stored_symbols(5), Action::Start { by_threshold: true });
        assert!(c.is_ticking());
        assert_eq!(c.on_stored_symbols(6), Action::Nothing);
    }

    #[test]
    fn an_operator_stop_outlasts_new_data() {
        let mut c = Controller::new(2);
        c.on_stored_symbols(2);
        assert_eq!(c.on_command(Command::Stop), Ok(Action::Stop));
        assert_eq!(c.on_stored_symbols(3), Action::Nothing);
        assert!(!c.is_ticking());
        assert_eq!(c.on_command(Command::Start), Ok(Action::Start { by_threshold: false }));
        assert!(c.is_ticking());
    }

    #[test]
    fn stopping_while_waiting_prevents_the_automatic_start() {
        let mut c = Controller::new(2);
        assert_eq!(c.on_command(Command::Stop), Ok(Action::Nothing));
        assert_eq!(c.on_stored_symbols(5), Action::Nothing);
        assert_eq!(c.state(0), SimulationState::Stopped { symbols: 0 });
    }

    #[test]
    fn manual_start_below_the_threshold_needs_some_data() {
        let mut c = Controller::new(5);
        assert_eq!(c.on_command(Command::Start), Err(Refusal::NoData));
        c.on_stored_symbols(1);
        assert_eq!(c.on_command(Command::Start), Ok(Action::Start { by_threshold: false }));
    }

    #[test]
    fn pause_resume_and_speed() {
        let mut c = Controller::new(1);
        assert_eq!(c.on_command(Command::Pause), Err(Refusal::NotRunning));
        c.on_stored_symbols(1);
        assert_eq!(c.on_command(Command::Pause), Ok(Action::Pause));
        assert_eq!(c.state(1), SimulationState::Paused { symbols: 1, speed: 1.0 });
        assert_eq!(c.on_command(Command::Resume), Ok(Action::Resume));
        assert_eq!(c.on_command(Command::Resume), Ok(Action::Nothing));
        assert_eq!(c.on_command(Command::Speed(4.0)), Ok(Action::SetSpeed(4.0)));
        assert_eq!(c.on_command(Command::Speed(0.0)), Err(Refusal::BadSpeed(0.0)));
        assert!(matches!(c.on_command(Command::Speed(f64::NAN)), Err(Refusal::BadSpeed(_))));
        assert_eq!(c.state(1), SimulationState::Running { symbols: 1, speed: 4.0 });
    }
}
