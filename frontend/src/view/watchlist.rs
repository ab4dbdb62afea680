use leptos::prelude::*;

use super::live::LiveRows;
use super::{move_class, sign_class};
use crate::state::Dashboard;
use crate::state::watchlist::{self, Row, Sort, SortKey};
use marquee_shared::format;

/// Every symbol: sortable, filterable; a click charts it.
#[component]
pub fn Watchlist(dash: RwSignal<Dashboard>, live: LiveRows) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new(Sort::default());
    // The rows' order, by symbol: it changes with the set of symbols, the
    // filter or the sort, and with prices only when sorted by a figure. A
    // tick then redraws its own row (`WatchRow`), not the list.
    let order = Memo::new(move |_| {
        let (filter, sort) = (filter.get(), sort.get());
        let order = |d: &Dashboard| watchlist::order(&d.market, &filter, sort);
        if sort.key == SortKey::Symbol { live.symbols(dash, order) } else { dash.with(order) }
    });
    // The charted symbol: rows compare against it only when it changes.
    let charted = Memo::new(move |_| dash.with(|d| d.chart.symbol.clone()));
    let header = move |key: SortKey, label: &'static str, id: &'static str, class: &'static str| {
        let arrow = move || {
            let s = sort.get();
            if s.key != key {
                ""
            } else if s.descending {
                " ▾"
            } else {
                " ▴"
            }
        };
        let aria = move || {
            let s = sort.get();
            match (s.key == key, s.descending) {
                (false, _) => "none",
                (true, true) => "descending",
                (true, false) => "ascending",
            }
        };
        view! {
            <th scope="col" class=class aria-sort=aria>
                <button class="sort" data-testid=id on:click=move |_| sort.update(|s| *s = s.clicked(key))>
                    {label}{arrow}
                </button>
            </th>
        }
    };
    view! {
        <section class="panel watchlist" data-testid="watchlist" aria-label="Watchlist">
            <div class="panel-head">
                <h2 class="panel-title">"Watchlist"</h2>
                <input class="filter" type="search" placeholder="Filter symbols…" aria-label="Filter symbols"
                    data-testid="watchlist-filter"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev)) />
            </div>
            <div class="table-wrap">
                <table class="quotes">
                    <thead>
                        <tr>
                            {header(SortKey::Symbol, "Symbol", "sort-symbol", "")}
                            {header(SortKey::Last, "Last", "sort-last", "num")}
                            {header(SortKey::Change, "Chg", "sort-change", "num wide-only")}
                            {header(SortKey::ChangePct, "Chg %", "sort-change-pct", "num")}
                            {header(SortKey::Volume, "Vol 15m", "sort-volume", "num")}
                            <th scope="col">"2 min"</th>
                            <th scope="col">"Source"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <Show when=move || order.with(|o| o.is_empty())>
                            <tr><td colspan="7" class="empty">"No symbols match."</td></tr>
                        </Show>
                        <For each=move || order.get() key=|symbol| symbol.clone() let:symbol>
                            <WatchRow dash=dash live=live charted=charted symbol=symbol />
                        </For>
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn WatchRow(
    dash: RwSignal<Dashboard>,
    live: LiveRows,
    charted: Memo<Option<String>>,
    symbol: String,
) -> impl IntoView {
    let key = symbol.clone();
    let current = Memo::new(move |_| {
        live.track(&key);
        dash.with_untracked(|d| Some(watchlist::row(&d.market, key.clone())))
    });
    let selected_key = symbol.clone();
    let selected = Memo::new(move |_| charted.with(|c| c.as_deref() == Some(selected_key.as_str())));
    let figure = move |render: fn(&Row) -> Option<String>| {
        move || current.with(|r| r.as_ref().and_then(render).unwrap_or_else(|| "–".to_owned()))
    };
    let sign = move || current.with(|r| r.as_ref().and_then(|r| r.change).map_or("", sign_class));
    let flash = move || current.with(|r| r.as_ref().map_or("flat", |r| move_class(r.last_move)));
    let spark_key = symbol.clone();
    // The path is rebuilt only when the points change (every 10th tick), not every frame.
    let points = Memo::new(move |_| {
        live.track(&spark_key);
        dash.with_untracked(|d| d.market.sparkline(&spark_key))
    });
    let spark = Memo::new(move |_| points.with(|p| sparkline_path(p)));
    let select_key = symbol.clone();
    let select = move || {
        dash.update(|d| {
            if let Some(request) = d.chart.select(&select_key) {
                super::chart_panel::fetch_history(dash, request);
            }
        })
    };
    let select_on_key = select.clone();
    let name = move || current.with(|r| r.as_ref().and_then(|r| r.name.clone()).unwrap_or_default());
    let source = move || current.with(|r| r.as_ref().and_then(|r| r.source));
    let feed = move || current.with(|r| r.as_ref().and_then(|r| r.feed.clone()));
    let feed_kind = move || match feed() {
        Some(marquee_shared::Feed::Live { .. }) => "live",
        Some(marquee_shared::Feed::Simulated) => "simulated",
        Some(marquee_shared::Feed::Replay) => "replay",
        None => "",
    };
    let feed_label = move || feed().map(|f| f.label()).unwrap_or_default();
    let source_label = move || source().map(|s| s.label()).unwrap_or_default();
    let source_key = move || source().map(|s| s.as_str()).unwrap_or_default();
    // Short enough for the column; the full name is the cell's title.
    let source_short = move || match source() {
        Some(marquee_shared::DataSource::Synthetic) => "Demo",
        Some(marquee_shared::DataSource::AlphaVantage) => "Alpha V.",
        Some(marquee_shared::DataSource::Csv) => "CSV",
        Some(marquee_shared::DataSource::Live) => "Live",
        None => "–",
    };
    view! {
        <tr data-testid="watchlist-row" data-symbol=symbol.clone()
            data-selected=move || selected.get().to_string() class:selected=move || selected.get()
            tabindex="0" on:click=move |_| select()
            on:keydown=move |ev| if ev.key() == "Enter" || ev.key() == " " { select_on_key() }>
            <th scope="row" class="sym"><span>{symbol.clone()}</span><small class="name">{name}</small><small class="feed" data-testid="row-feed" data-feed=feed_kind>{feed_label}</small></th>
            <td class=move || format!("num last flash-{}", flash()) data-testid="row-last"
                data-seq=move || current.with(|r| r.as_ref().and_then(|r| r.seq).map(|seq| seq.to_string()))>{figure(|r| r.last.map(format::price))}</td>
            <td class=move || format!("num wide-only {}", sign()) data-testid="row-change">{figure(|r| r.change.map(format::change))}</td>
            <td class=move || format!("num {}", sign()) data-testid="row-change-pct">{figure(|r| r.change_pct.map(format::percent))}</td>
            <td class="num muted" data-testid="row-volume">{figure(|r| r.volume.map(format::volume))}</td>
            <td class="spark-cell">
                <svg data-testid="sparkline" class=move || format!("spark {}", sign()) viewBox="0 0 100 24" preserveAspectRatio="none" aria-hidden="true">
                    <path d=move || spark.get() />
                </svg>
            </td>
            <td class="muted source" data-testid="row-source" data-source=source_key title=source_label>{source_short}</td>
        </tr>
    }
}

/// An SVG path through `points` scaled into a 100×24 box.
fn sparkline_path(points: &[f64]) -> String {
    if points.len() < 2 {
        return String::new();
    }
    let (low, high) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    let span = if high > low { high - low } else { 1.0 };
    let step = 100.0 / (points.len() - 1) as f64;
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let command = if i == 0 { 'M' } else { 'L' };
            format!("{command}{:.1},{:.1}", i as f64 * step, 22.0 - (p - low) / span * 20.0)
        })
        .collect::<Vec<_>>()
        .join(" ")
}
