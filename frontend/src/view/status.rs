use leptos::prelude::*;
use marquee_shared::SimulationState;

use super::Theme;
use crate::connection::Status;
use crate::state::Dashboard;

/// Live / lagged / reconnecting / offline, as a coloured badge: the
/// connection's state, and whether its stream is catching up after the
/// server conflated it.
#[component]
pub fn ConnectionBadge(status: RwSignal<Status>, dash: RwSignal<Dashboard>) -> impl IntoView {
    let catching_up = Memo::new(move |_| dash.with(|d| d.catch_up.is_catching_up()));
    let shown = Memo::new(move |_| status.get().shown(catching_up.get()));
    let label = move || shown.get().label();
    let title = move || {
        (shown.get() == Status::Lagged)
            .then_some("This page fell behind: the server skipped messages and sent a fresh snapshot")
    };
    view! {
        <span class=move || format!("conn conn-{}", label()) data-testid="connection-status" data-status=label role="status"
            title=title>
            <span class="dot"></span>
            {move || shown.get().text()}
        </span>
    }
}

/// Where the data comes from: Alpha Vantage, CSV or synthetic demo data.
#[component]
pub fn SourceBadge(dash: RwSignal<Dashboard>) -> impl IntoView {
    let label = move || {
        dash.with(|d| {
            let sources: Vec<&str> = d.market.sources().into_iter().map(|s| s.label()).collect();
            if sources.is_empty() { "no data".to_owned() } else { format!("Data: {}", sources.join(" + ")) }
        })
    };
    view! { <span class="pill" data-testid="source-badge">{label}</span> }
}

/// Waiting for data (n/threshold), streaming, paused or stopped.
#[component]
pub fn SimulationBadge(dash: RwSignal<Dashboard>) -> impl IntoView {
    let text = move || dash.with(|d| d.market.simulation.map(|s| s.describe()).unwrap_or_default());
    let state = move || {
        dash.with(|d| match d.market.simulation {
            Some(SimulationState::Running { .. }) => "running",
            Some(SimulationState::Waiting { .. }) => "waiting",
            Some(SimulationState::Paused { .. }) => "paused",
            Some(SimulationState::Stopped { .. }) => "stopped",
            None => "unknown",
        })
    };
    view! { <span class=move || format!("pill sim-{}", state()) data-testid="simulation-state" data-state=state>{text}</span> }
}

/// Dark (the default) or light.
#[component]
pub fn ThemeToggle(theme: RwSignal<Theme>) -> impl IntoView {
    let label = move || if theme.get() == Theme::Dark { "☀ Light" } else { "☾ Dark" };
    let toggle = move |_| theme.update(|t| *t = if *t == Theme::Dark { Theme::Light } else { Theme::Dark });
    view! {
        <button class="btn ghost" data-testid="theme-toggle" on:click=toggle
            title="Switch between the dark and the light theme">{label}</button>
    }
}
