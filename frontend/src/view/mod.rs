//! Components. They only render what `state` holds and turn clicks into
//! state changes or REST calls.

mod chart_panel;
mod controls;
mod feed_table;
mod feeds;
mod history;
pub mod live;
mod pipeline;
mod sink_table;
mod status;
mod tape;
mod watchlist;

use leptos::prelude::*;
use marquee_shared::{Alert, Event};

use crate::api;
use crate::connection::{self, Status};
use crate::state::{Dashboard, Move};

/// The page's colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Dark,
    Light,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::Dark => "dark",
            Theme::Light => "light",
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let dash = RwSignal::new(Dashboard::default());
    let status = RwSignal::new(Status::Connecting);
    let theme = RwSignal::new(Theme::Dark);
    let live = live::LiveRows::new();
    connection::connect(dash, status, live);
    load_history(dash, live);

    Effect::new(move |_| {
        let name = theme.get().as_str();
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element())
            && let Err(err) = root.set_attribute("data-theme", name)
        {
            leptos::logging::warn!("cannot set the theme: {err:?}");
        }
    });

    view! {
        <header class="topbar">
            <div class="brand">
                <span class="logo">"◆"</span>
                <span class="name">"Marquee"</span>
                <span class="tagline">"live market data"</span>
            </div>
            <div class="header-right">
                <status::SourceBadge dash=dash />
                <status::SimulationBadge dash=dash />
                <status::ConnectionBadge status=status dash=dash />
                <status::ThemeToggle theme=theme />
            </div>
        </header>
        <tape::TickerTape dash=dash live=live />
        <main class="grid">
            <watchlist::Watchlist dash=dash live=live />
            <chart_panel::ChartPanel dash=dash theme=theme />
            <pipeline::PipelinePanel dash=dash live=live theme=theme />
            <feeds::AlertsFeed dash=dash live=live />
            <feeds::EventsLog dash=dash live=live />
            <controls::Controls dash=dash />
        </main>
        <footer class="footer" data-testid="stream-stats">
            <span>"Ticks received " <b data-testid="ticks-received">{move || dash.with(|d| d.market.stream.ticks_received)}</b></span>
            <span>"Seq gaps " <b data-testid="seq-gaps">{move || dash.with(|d| d.market.stream.seqs.gaps())}</b></span>
            <span>"Lagged notices " <b data-testid="lagged-notices">{move || dash.with(|d| d.market.stream.lagged_notices)}</b></span>
            <span>"Messages skipped by server " <b data-testid="skipped-messages">{move || dash.with(|d| d.market.stream.batches_skipped)}</b></span>
            <span>"Replayed after reconnect " <b data-testid="resumed-ticks">{move || dash.with(|d| d.market.stream.resumed_ticks)}</b></span>
            <span>"Bars closed " <b>{move || dash.with(|d| d.market.stream.bars_received)}</b></span>
        </footer>
    }
}

/// Recent alerts and events from before the page loaded.
fn load_history(dash: RwSignal<Dashboard>, live: live::LiveRows) {
    leptos::task::spawn_local(async move {
        let alerts = api::get::<Vec<Alert>>("/api/v1/alerts?limit=50").await;
        let events = api::get::<Vec<Event>>("/api/v1/events?limit=50").await;
        if let Err(err) = &alerts {
            leptos::logging::warn!("cannot read recent alerts: {}", err.message());
        }
        if let Err(err) = &events {
            leptos::logging::warn!("cannot read recent events: {}", err.message());
        }
        dash.update(|d| d.market.add_history(alerts.unwrap_or_default(), events.unwrap_or_default()));
        // Shown now, whether or not the stream brings a frame soon.
        live.publish(dash);
    });
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
