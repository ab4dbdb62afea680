//! Where alerts are delivered (`Metrics.sinks`, once a second): a row per
//! sink with its counters and how its last attempt went.

use leptos::prelude::*;
use marquee_shared::SinkFigures;

use super::live::LiveRows;
use crate::chart::format_datetime;
use crate::state::Dashboard;

#[component]
pub fn SinkTable(dash: RwSignal<Dashboard>, live: LiveRows) -> impl IntoView {
    let sinks = Memo::new(move |_| {
        live.figures(dash, |d| d.market.metrics.as_ref().map(|m| m.sinks.clone()).unwrap_or_default())
    });
    view! {
        <Show when=move || sinks.with(|s| !s.is_empty())>
            <table class="feeds sinks" data-testid="sinks" aria-label="Alert delivery">
                <thead>
                    <tr>
                        <th scope="col">"Delivered to"</th>
                        <th scope="col" class="num">"sent"</th>
                        <th scope="col" class="num" title="given up after the last try (an alert_undelivered event)">"failed"</th>
                        <th scope="col" class="num" title="turned away: the sink's queue was full">"dropped"</th>
                        <th scope="col">"last attempt"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || sinks.get().into_iter().map(row).collect_view()}
                </tbody>
            </table>
        </Show>
    }
}

fn row(sink: SinkFigures) -> impl IntoView {
    let (status, last) = match &sink.last {
        None => ("up", "none yet".to_owned()),
        Some(last) => (
            if last.ok { "up" } else { "down" },
            format!("{} {} {}", if last.ok { "✓" } else { "✗" }, last.detail, format_datetime(last.at)),
        ),
    };
    view! {
        <tr class=format!("stage-{status}") data-testid="sink-row" data-sink=sink.name.clone() data-status=status
            title=format!("{} retries; {} waiting", sink.retries, sink.queued)>
            <th scope="row"><span class="dot"></span>{sink.name.clone()}<small class="name">{sink.kind.clone()}</small></th>
            <td class="num" data-testid="sink-delivered">{sink.delivered}</td>
            <td class="num" data-testid="sink-failed">{sink.failed}</td>
            <td class="num">{sink.dropped}</td>
            <td data-testid="sink-last">{last}</td>
        </tr>
    }
}
