//! Whether the page is in step with the server or catching up after the
//! server conflated its stream (`lagged`, then a fresh `snapshot`). Pure;
//! tested natively.
//!
//! The snapshot alone does not end it: what the server had already handed
//! to the network (megabytes in a socket's buffers) reaches a slow page
//! before the notice does, and the snapshot and the ticks behind it can be
//! seconds old by the time they arrive. The page is caught up once a tick
//! after the snapshot is current by the server's clock.

/// A tick at most this old (event time to now, on the server's clock) is
/// current. Rendering normally takes milliseconds; a page reading ticks
/// older than this is still working through a backlog.
pub const CURRENT_WITHIN_MS: f64 = 2_000.0;

/// Where the page stands after the last `lagged` notice.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// Every message since the last snapshot arrived: the page is current.
    #[default]
    InStep,
    /// The server said it skipped messages; its fresh snapshot has not been
    /// applied yet, so what the page shows may be old.
    AwaitingSnapshot,
    /// The snapshot is applied; waiting for a current tick after it, the
    /// proof that the stream flows again and the page keeps up with it.
    AwaitingTicks,
}

impl CatchUp {
    /// True while the page shows something the server has moved past.
    pub fn is_catching_up(self) -> bool {
        self != CatchUp::InStep
    }

    /// A `lagged` notice: a snapshot follows.
    pub fn on_lagged(&mut self) {
        *self = CatchUp::AwaitingSnapshot;
    }

    /// A snapshot was applied. `streaming`: the simulation makes ticks, so
    /// wait for one; otherwise the snapshot is all there is to catch up on.
    pub fn on_snapshot(&mut self, streaming: bool) {
        if *self == CatchUp::AwaitingSnapshot {
            *self = if streaming { CatchUp::AwaitingTicks } else { CatchUp::InStep };
        }
    }

    /// The simulation stopped making ticks (paused, stopped, waiting): none
    /// will come to wait for.
    pub fn on_idle(&mut self) {
        if *self == CatchUp::AwaitingTicks {
            *self = CatchUp::InStep;
        }
    }

    /// Ticks arrived; `newest_age_ms` is the age of the newest one by the
    /// server's clock, `None` before the clocks were compared (then any tick
    /// after the snapshot will do).
    pub fn on_ticks(&mut self, newest_age_ms: Option<f64>) {
        if *self == CatchUp::AwaitingTicks && newest_age_ms.is_none_or(|age| age <= CURRENT_WITHIN_MS) {
            *self = CatchUp::InStep;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lagged_waits_for_the_snapshot_then_for_a_current_tick() {
        let mut state = CatchUp::default();
        assert!(!state.is_catching_up());
        state.on_lagged();
        state.on_ticks(Some(1.0));
        assert_eq!(state, CatchUp::AwaitingSnapshot, "ticks before the snapshot are the old stream");
        state.on_idle();
        assert_eq!(state, CatchUp::AwaitingSnapshot, "the snapshot still has to come");
        state.on_snapshot(true);
        assert_eq!(state, CatchUp::AwaitingTicks);
        assert!(state.is_catching_up());
        state.on_ticks(Some(CURRENT_WITHIN_MS + 1.0));
        assert_eq!(state, CatchUp::AwaitingTicks, "ticks from a backlog: still behind");
        state.on_ticks(Some(CURRENT_WITHIN_MS));
        assert_eq!(state, CatchUp::InStep);
    }

    #[test]
    fn before_the_clocks_are_compared_any_tick_after_the_snapshot_will_do() {
        let mut state = CatchUp::default();
        state.on_lagged();
        state.on_snapshot(true);
        state.on_ticks(None);
        assert_eq!(state, CatchUp::InStep);
    }

    #[test]
    fn a_snapshot_without_a_notice_changes_nothing() {
        let mut state = CatchUp::default();
        state.on_snapshot(true);
        state.on_ticks(Some(0.0));
        assert_eq!(state, CatchUp::InStep);
    }

    #[test]
    fn without_a_running_simulation_the_snapshot_is_enough() {
        let mut state = CatchUp::default();
        state.on_lagged();
        state.on_snapshot(false);
        assert_eq!(state, CatchUp::InStep);

        state.on_lagged();
        state.on_snapshot(true);
        state.on_idle();
        assert_eq!(state, CatchUp::InStep, "paused after the snapshot: no tick will come");
    }

    #[test]
    fn another_notice_while_catching_up_starts_over() {
        let mut state = CatchUp::default();
        state.on_lagged();
        state.on_snapshot(true);
        state.on_lagged();
        assert_eq!(state, CatchUp::AwaitingSnapshot);
    }
}
