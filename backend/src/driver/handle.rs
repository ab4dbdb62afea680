//! The driver's face to the rest of the process: `DriverHandle` sends
//! operator commands and reads the simulation's state, here or elsewhere.

use marquee_shared::{ReplayState, SimulationState, SymbolInfo};
use tokio::sync::{mpsc, oneshot, watch};

use super::{Command, Refusal};
use crate::store::StoreError;

/// Why an operator command did not take effect.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("cannot read the store: {0}")]
    Store(#[from] StoreError),
    #[error("the driver has stopped")]
    Stopped,
    #[error("the simulation runs in another process: send this to the instance with --role driver")]
    Elsewhere,
}

pub(super) type Request = (Command, oneshot::Sender<Result<SimulationState, ControlError>>);

/// What the driver shows the world: its state and the symbols it knows.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationView {
    pub state: SimulationState,
    pub symbols: Vec<SymbolInfo>,
}

/// Controls the driver and reads its state. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DriverHandle {
    /// `None` when the driver runs in another process.
    pub(super) commands: Option<mpsc::Sender<Request>>,
    pub(super) state: watch::Receiver<SimulationView>,
    pub(super) replay: watch::Receiver<ReplayState>,
}

impl DriverHandle {
    /// A handle on a driver in another process: its state as `state` tells,
    /// and no commands.
    pub fn elsewhere(state: watch::Receiver<SimulationView>) -> Self {
        Self { commands: None, state, replay: watch::channel(ReplayState::Idle).1 }
    }

    pub async fn command(&self, command: Command) -> Result<SimulationState, ControlError> {
        let commands = self.commands.as_ref().ok_or(ControlError::Elsewhere)?;
        let (reply, answer) = oneshot::channel();
        commands.send((command, reply)).await.map_err(|_| ControlError::Stopped)?;
        answer.await.map_err(|_| ControlError::Stopped)?
    }

    /// Where the operator's replay stands (`Idle` on a handle elsewhere:
    /// its requests go to the driver's process).
    pub fn replay(&self) -> ReplayState {
        self.replay.borrow().clone()
    }

    pub fn state(&self) -> SimulationState {
        self.state.borrow().state
    }

    /// The state and symbols, and their changes, for the WebSocket hub.
    pub fn watch(&self) -> watch::Receiver<SimulationView> {
        self.state.clone()
    }
}
