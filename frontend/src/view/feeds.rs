use leptos::prelude::*;
use marquee_shared::{Alert, Event, EventKind};

use super::live::LiveRows;
use crate::chart::format_datetime;
use crate::state::Dashboard;

/// `HH:MM:SS` (UTC) of a wire timestamp.
fn clock(ns: i64) -> String {
    format_datetime(ns).split_once(' ').map(|(_, time)| time.to_owned()).unwrap_or_default()
}

#[component]
pub fn AlertsFeed(dash: RwSignal<Dashboard>, live: LiveRows) -> impl IntoView {
    let alerts = Memo::new(move |_| {
        live.feeds(dash, |d| d.market.feeds.alerts.iter().take(30).cloned().collect::<Vec<_>>())
    });
    view! {
        <section class="panel feed alerts" data-testid="alerts-feed" aria-label="Alerts">
            <div class="panel-head"><h2 class="panel-title">"Alerts"</h2></div>
            <super::sink_table::SinkTable dash=dash live=live />
            <ul class="feed-list">
                <Show when=move || alerts.with(|a| a.is_empty())>
                    <li class="empty" data-testid="alerts-empty">"No alerts yet: they appear when a price jumps, volume spikes or RSI crosses 70/30."</li>
                </Show>
                <For each=move || alerts.get() key=|a| (a.symbol.clone(), a.ts, a.kind) let:alert>
                    <AlertItem alert=alert />
                </For>
            </ul>
        </section>
    }
}

#[component]
fn AlertItem(alert: Alert) -> impl IntoView {
    let severity = alert.severity.as_str();
    let what = alert.describe();
    view! {
        <li class=format!("feed-item sev-{severity}") data-testid="alert-item">
            <span class="time">{clock(alert.ts)}</span>
            <b class="sym">{alert.symbol}</b>
            <span>{what}</span>
        </li>
    }
}

#[component]
pub fn EventsLog(dash: RwSignal<Dashboard>, live: LiveRows) -> impl IntoView {
    let events = Memo::new(move |_| {
        live.feeds(dash, |d| d.market.feeds.events.iter().take(40).cloned().collect::<Vec<_>>())
    });
    view! {
        <section class="panel feed events" data-testid="events-log" aria-label="Events">
            <div class="panel-head"><h2 class="panel-title">"Events"</h2></div>
            <ul class="feed-list">
                <Show when=move || events.with(|e| e.is_empty())>
                    <li class="empty">"No events yet."</li>
                </Show>
                <For each=move || events.get() key=|e| e.id.clone() let:event>
                    <EventItem event=event />
                </For>
            </ul>
        </section>
    }
}

#[component]
fn EventItem(event: Event) -> impl IntoView {
    let text = match &event.kind {
        EventKind::SymbolDataLoaded { symbol, records, latest_close, .. } => {
            format!("{symbol}: {records} records stored, last close {latest_close:.2}")
        }
        EventKind::BatchComplete { symbols, total_records } => {
            format!("batch complete: {} symbols, {total_records} records", symbols.len())
        }
        EventKind::ThresholdReached { symbols } => {
            format!("threshold reached with {} symbols", symbols.len())
        }
        EventKind::SimulationStarted { symbols } => format!("simulation started: {} symbols", symbols.len()),
        EventKind::SimulationStopped { reason } => format!("simulation stopped: {reason}"),
        EventKind::IngestError { symbol, reason } => format!("{symbol}: {reason}"),
        EventKind::FeedSwitched { symbols, from, to, reason } => {
            format!("{}: feed switched from {from} to {to} ({reason})", symbols.join(", "))
        }
        EventKind::ReplayStarted { from, to, speed } => {
            format!("replay of {} to {} at {speed}× started", format_datetime(*from), format_datetime(*to))
        }
        EventKind::ReplayFinished { played, reason } => format!("replay finished: {played} ticks ({reason})"),
        EventKind::AlertUndelivered { sink, alert, attempts, reason } => format!(
            "{}: alert not delivered to {sink} after {attempts} tries ({reason}): {}",
            alert.symbol,
            alert.describe()
        ),
    };
    let error = matches!(event.kind, EventKind::IngestError { .. } | EventKind::AlertUndelivered { .. });
    view! {
        <li class="feed-item" class:sev-warning=error data-testid="event-item">
            <span class="time">{clock(event.ts)}</span>
            <span class="tag">{event.source}</span>
            <span>{text}</span>
        </li>
    }
}
