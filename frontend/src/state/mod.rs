//! What the dashboard knows, as plain data updated by server messages and
//! REST answers. No DOM and no signals here, so all of it is tested natively.

pub mod catch_up;
pub mod chart;
pub mod edge;
pub mod feeds;
pub mod latency;
pub mod market;
pub mod operator;
pub mod seqs;
pub mod stream;
pub mod watchlist;

use marquee_shared::{ServerMessage, SimulationState};

pub use catch_up::CatchUp;

pub use market::{MarketState, Move};

/// Everything the page shows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Dashboard {
    pub market: MarketState,
    pub chart: chart::ChartState,
    pub render: latency::RenderLatency,
    /// In step with the server, or catching up after a `lagged` notice.
    pub catch_up: CatchUp,
}

impl Dashboard {
    /// Applies one server message at `now_ms` (page clock); adds the event
    /// times of the ticks it carried to `tick_times` (for the browser's
    /// render latency).
    pub fn apply(&mut self, message: ServerMessage, now_ms: f64, tick_times: &mut Vec<i64>) {
        let catching_up = self.catch_up.is_catching_up();
        match &message {
            ServerMessage::Bars { bars, closed } => self.chart.on_bars(bars, *closed),
            ServerMessage::Snapshot { bars, simulation, .. } => {
                self.chart.on_snapshot(bars);
                self.catch_up.on_snapshot(is_streaming(*simulation));
            }
            ServerMessage::Ticks { ticks } => {
                tick_times.extend(ticks.iter().map(|t| t.ts));
                if let Some(newest) = ticks.iter().map(|t| t.ts).max() {
                    self.catch_up.on_ticks(self.render.age_ms(now_ms, newest));
                }
            }
            ServerMessage::Lagged { .. } => self.catch_up.on_lagged(),
            ServerMessage::Simulation { state, .. } if !is_streaming(*state) => self.catch_up.on_idle(),
            _ => {}
        }
        self.market.apply(message);
        if catching_up && !self.catch_up.is_catching_up() {
            // Bars that closed while the stream was conflated were skipped.
            self.chart.reload_history();
        }
    }
}

/// True when the simulation makes ticks.
fn is_streaming(simulation: SimulationState) -> bool {
    matches!(simulation, SimulationState::Running { .. })
}

#[cfg(test)]
mod tests {
    use marquee_shared::Tick;

    use super::*;

    /// Ticks made at `ts_ms` on the server's clock.
    fn tick(seq: u64, ts_ms: i64) -> Tick {
        Tick {
            symbol: "A".into(),
            seq,
            ts: ts_ms * 1_000_000,
            price: 1.0,
            size: 1.0,
            change: 0.0,
            change_pct: 0.0,
        }
    }

    fn ticks(list: Vec<Tick>) -> ServerMessage {
        ServerMessage::Ticks { ticks: list }
    }

    fn snapshot(seq: u64, simulation: SimulationState) -> ServerMessage {
        ServerMessage::Snapshot {
            server_time: 1,
            simulation,
            symbols: vec![],
            quotes: vec![tick(seq, 0)],
            sparklines: Default::default(),
            bars: vec![],
            metrics: None,
            health: None,
        }
    }

    const RUNNING: SimulationState = SimulationState::Running { symbols: 1, speed: 1.0 };

    /// A dashboard whose clock agrees with the server's.
    fn dashboard() -> Dashboard {
        let mut dash = Dashboard::default();
        dash.render.on_pong(0.0, 2.0, 1_000_000);
        assert_eq!(dash.render.offset_ms(), Some(0.0));
        dash
    }

    #[test]
    fn lagged_lasts_until_the_snapshot_is_applied_and_current_ticks_flow() {
        let mut dash = dashboard();
        let mut times = Vec::new();
        dash.apply(snapshot(1, RUNNING), 10_000.0, &mut times);
        assert!(!dash.catch_up.is_catching_up(), "a first snapshot is not catching up");

        dash.apply(ServerMessage::Lagged { skipped: 7 }, 10_000.0, &mut times);
        assert!(dash.catch_up.is_catching_up());
        assert_eq!(dash.market.stream.lagged_notices, 1);
        dash.apply(snapshot(9, RUNNING), 10_000.0, &mut times);
        assert!(dash.catch_up.is_catching_up(), "the snapshot alone does not show ticks flow");
        // Ticks the network held for seconds: the page is still behind.
        dash.apply(ticks(vec![tick(10, 5_000), tick(11, 6_000)]), 10_000.0, &mut times);
        assert!(dash.catch_up.is_catching_up());
        dash.apply(ticks(vec![tick(12, 9_500)]), 10_000.0, &mut times);
        assert!(!dash.catch_up.is_catching_up());
        assert_eq!(times.len(), 3, "every tick's time is kept for the render latency");
    }

    #[test]
    fn lagged_while_the_simulation_rests_is_caught_up_by_the_snapshot() {
        let mut dash = dashboard();
        let mut times = Vec::new();
        dash.apply(ServerMessage::Lagged { skipped: 1 }, 0.0, &mut times);
        dash.apply(snapshot(3, SimulationState::Paused { symbols: 1, speed: 1.0 }), 0.0, &mut times);
        assert!(!dash.catch_up.is_catching_up());

        dash.apply(ServerMessage::Lagged { skipped: 1 }, 0.0, &mut times);
        dash.apply(snapshot(4, RUNNING), 0.0, &mut times);
        assert!(dash.catch_up.is_catching_up());
        dash.apply(
            ServerMessage::Simulation { state: SimulationState::Stopped { symbols: 1 }, symbols: vec![] },
            0.0,
            &mut times,
        );
        assert!(!dash.catch_up.is_catching_up(), "no tick will come");
    }

    #[test]
    fn the_chart_reads_its_history_again_once_the_stream_caught_up() {
        let mut dash = dashboard();
        let request = dash.chart.select("A").expect("a fetch");
        dash.chart.on_history(request.id, Ok(vec![]));
        let mut times = Vec::new();
        dash.apply(snapshot(1, RUNNING), 1_000.0, &mut times);
        dash.apply(ticks(vec![tick(2, 1_000)]), 1_000.0, &mut times);
        assert!(!dash.chart.wants_reload(), "nothing was skipped");

        dash.apply(ServerMessage::Lagged { skipped: 9 }, 1_000.0, &mut times);
        dash.apply(snapshot(12, RUNNING), 1_000.0, &mut times);
        assert!(!dash.chart.wants_reload(), "not before ticks flow again");
        dash.apply(ticks(vec![tick(13, 1_000)]), 1_000.0, &mut times);
        assert!(dash.chart.wants_reload());
        assert_eq!(dash.chart.take_reload().map(|r| r.symbol), Some("A".to_owned()));
    }
}
