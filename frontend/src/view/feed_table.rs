//! The venues' feeds on the pipeline panel: one row per feed with its state
//! and its measured figures (`Metrics.feeds`, once a second).

use leptos::prelude::*;
use marquee_shared::{FeedFigures, Status};

use super::live::LiveRows;
use crate::state::Dashboard;

#[component]
pub fn FeedTable(dash: RwSignal<Dashboard>, live: LiveRows) -> impl IntoView {
    let feeds = Memo::new(move |_| {
        live.figures(dash, |d| d.market.metrics.as_ref().map(|m| m.feeds.clone()).unwrap_or_default())
    });
    view! {
        <Show when=move || feeds.with(|f| !f.is_empty())>
            <table class="feeds" data-testid="feeds">
                <thead>
                    <tr>
                        <th scope="col">"Feed"</th>
                        <th scope="col" class="num">"trades/s"</th>
                        <th scope="col" class="num" title="reconnects">"reconn."</th>
                        <th scope="col" class="num" title="gaps in the venue's trade ids (trades missed)">"gaps"</th>
                        <th scope="col" class="num" title="repeated trades dropped">"dups"</th>
                        <th scope="col" class="num" title="feed latency: receipt time minus the venue's trade time">"p50/p99 ms"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || feeds.get().into_iter().map(row).collect_view()}
                </tbody>
            </table>
        </Show>
    }
}

fn row(feed: FeedFigures) -> impl IntoView {
    let status = match feed.status {
        Status::Up => "up",
        Status::Degraded => "degraded",
        Status::Down => "down",
    };
    let latency = feed.latency.map_or("–".to_owned(), |l| format!("{:.1}/{:.0}", l.p50_ms, l.p99_ms));
    // "reconnecting (attempt 3)" of "reconnecting (attempt 3): the venue answered HTTP 503".
    let state = feed.state.split(": ").next().unwrap_or_default().to_owned();
    view! {
        <tr class=format!("stage-{status}") data-testid="feed-row" data-venue=feed.venue.clone() data-status=status
            title=format!("{}; {:.1} messages/s", feed.state, feed.messages_per_s)>
            <th scope="row"><span class="dot"></span>{feed.venue.clone()}<small class="name" data-testid="feed-state">{state}</small></th>
            <td class="num" data-testid="feed-trades-rate">{format!("{:.1}", feed.trades_per_s)}</td>
            <td class="num" data-testid="feed-reconnects">{feed.reconnects}</td>
            <td class="num">{format!("{} ({})", feed.gaps, feed.missed)}</td>
            <td class="num">{feed.duplicates}</td>
            <td class="num" data-testid="feed-latency">{latency}</td>
        </tr>
    }
}
