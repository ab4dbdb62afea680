//! A process without the driver still shows the simulation: its state as
//! the driver's heartbeats tell, its symbols as the store holds them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use marquee_shared::{SimulationState, SymbolInfo};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::instances::Instances;
use crate::driver::{DriverHandle, SimulationView};
use crate::store::SharedStore;

/// How often the view is brought up to date.
const EVERY: Duration = Duration::from_secs(1);
/// How often the symbols are read again from the store.
const SYMBOLS_EVERY: u32 = 5;

/// A handle whose view follows the driver in another process; its commands
/// are refused with [`crate::driver::ControlError::Elsewhere`].
pub fn driver_elsewhere(
    store: SharedStore,
    instances: Arc<Instances>,
    threshold: u64,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) -> DriverHandle {
    let (view, watched) = watch::channel(SimulationView {
        state: SimulationState::Waiting { have: 0, need: threshold },
        symbols: Vec::new(),
    });
    let shutdown = shutdown.clone();
    tasks.spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        let mut symbols: Vec<SymbolInfo> = Vec::new();
        for round in 0u32.. {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            if round.is_multiple_of(SYMBOLS_EVERY) {
                match store.symbols().await {
                    Ok(stored) => {
                        symbols = stored
                            .into_iter()
                            .map(|s| SymbolInfo {
                                symbol: s.symbol,
                                name: s.name,
                                source: s.source,
                                feed: None,
                            })
                            .collect();
                    }
                    Err(err) => tracing::warn!(%err, "cannot read the stored symbols"),
                }
            }
            let have = symbols.len() as u64;
            let state = instances
                .simulation(Instant::now())
                .unwrap_or(SimulationState::Waiting { have: have.min(threshold), need: threshold });
            view.send_if_modified(|current| {
                let next = SimulationView { state, symbols: symbols.clone() };
                let changed = *current != next;
                *current = next;
                changed
            });
        }
    });
    DriverHandle::elsewhere(watched)
}
