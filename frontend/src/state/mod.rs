//! What the dashboard knows, as plain data updated by server messages and
//! REST answers. No DOM and no signals here, so all of it is tested natively.

pub mod chart;
pub mod latency;
pub mod market;
pub mod seqs;
pub mod watchlist;

use marquee_shared::ServerMessage;

pub use market::{MarketState, Move};

/// Everything the page shows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Dashboard {
    pub market: MarketState,
    pub chart: chart::ChartState,
    pub render: latency::RenderLatency,
}

impl Dashboard {
    /// Applies one server message; returns the event times of the ticks it
    /// carried (for the browser's render latency).
    pub fn apply(&mut self, message: ServerMessage, tick_times: &mut Vec<i64>) {
        match &message {
            ServerMessage::Bars { bars, closed } => self.chart.on_bars(bars, *closed),
            ServerMessage::Snapshot { bars, .. } => self.chart.on_bars(bars, false),
            ServerMessage::Ticks { ticks } => tick_times.extend(ticks.iter().map(|t| t.ts)),
            _ => {}
        }
        self.market.apply(message);
    }
}
