//! Components. They only render what `state` and `connection` hold.

mod quote_table;
mod status;
mod tape;

use leptos::prelude::*;

use crate::connection::{self, Status};
use crate::state::{MarketState, Move};

#[component]
pub fn App() -> impl IntoView {
    let market = RwSignal::new(MarketState::default());
    let status = RwSignal::new(Status::Connecting);
    connection::connect(market, status);

    view! {
        <header class="topbar">
            <div class="brand">
                <span class="logo">"◆"</span>
                <span class="name">"Marquee"</span>
                <span class="tagline">"live market data"</span>
            </div>
            <div class="header-right">
                <status::SourceBadge market=market />
                <status::SimulationBadge market=market />
                <status::ConnectionBadge status=status />
            </div>
        </header>
        <tape::TickerTape market=market />
        <main class="content">
            <quote_table::QuoteTable market=market />
        </main>
        <footer class="footer" data-testid="stream-stats">
            <span>"Ticks received: "<b data-testid="ticks-received">{move || market.with(|m| m.ticks_received)}</b></span>
            <span>"Missed (seq gaps): "<b>{move || market.with(|m| m.ticks_missed)}</b></span>
            <span>"Skipped by server (lagged): "<b>{move || market.with(|m| m.batches_skipped)}</b></span>
            <span>"Bars closed: "<b>{move || market.with(|m| m.bars_received)}</b></span>
            <span>"Alerts: "<b data-testid="alerts-received">{move || market.with(|m| m.alerts.len())}</b></span>
        </footer>
    }
}

/// The CSS class for a price move.
fn move_class(last_move: Move) -> &'static str {
    match last_move {
        Move::Up => "up",
        Move::Down => "down",
        Move::Unchanged => "flat",
    }
}

/// The CSS class for the sign of a change against the reference.
fn sign_class(change: f64) -> &'static str {
    if change >= 0.0 { "up" } else { "down" }
}
