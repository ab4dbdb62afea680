use leptos::prelude::*;

use crate::connection::Status;
use crate::state::MarketState;

/// Live / reconnecting / offline, as a coloured badge.
#[component]
pub fn ConnectionBadge(status: RwSignal<Status>) -> impl IntoView {
    let label = move || status.get().label();
    view! {
        <span class=move || format!("conn conn-{}", label()) data-testid="connection-status" data-state=label role="status">
            <span class="dot"></span>
            {label}
        </span>
    }
}

/// Where the data comes from: Alpha Vantage, CSV or synthetic demo data.
#[component]
pub fn SourceBadge(market: RwSignal<MarketState>) -> impl IntoView {
    let label = move || {
        market.with(|m| {
            let sources: Vec<&str> = m.sources().into_iter().map(|s| s.label()).collect();
            if sources.is_empty() { "no data".to_owned() } else { format!("Data: {}", sources.join(" + ")) }
        })
    };
    view! { <span class="pill" data-testid="data-source">{label}</span> }
}

/// Waiting for data (n/threshold), streaming, paused or stopped.
#[component]
pub fn SimulationBadge(market: RwSignal<MarketState>) -> impl IntoView {
    let text = move || market.with(|m| m.simulation.map(|s| s.describe()).unwrap_or_default());
    let state = move || {
        market.with(|m| match m.simulation {
            Some(marquee_shared::SimulationState::Running { .. }) => "running",
            Some(marquee_shared::SimulationState::Waiting { .. }) => "waiting",
            Some(marquee_shared::SimulationState::Paused { .. }) => "paused",
            Some(marquee_shared::SimulationState::Stopped { .. }) => "stopped",
            None => "unknown",
        })
    };
    view! { <span class=move || format!("pill sim-{}", state()) data-testid="simulation" data-state=state>{text}</span> }
}
