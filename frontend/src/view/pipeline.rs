use leptos::html::Canvas;
use leptos::prelude::*;
use std::collections::BTreeMap;

use marquee_shared::{EdgeFigures, StageHealth, Status};

use super::Theme;
use super::live::LiveRows;
use crate::chart::{self, ChartTheme};
use crate::state::{Dashboard, edge};
use marquee_shared::format;

/// Every stage with its measured figures (grouped by process when the
/// stages run in several), the last minute's throughput and the latencies
/// the server and this page measured.
#[component]
pub fn PipelinePanel(dash: RwSignal<Dashboard>, live: LiveRows, theme: RwSignal<Theme>) -> impl IntoView {
    // Each running instance with the names of its stages: the shape of the
    // cards, which changes only when instances or stages come and go.
    let instances = Memo::new(move |_| {
        live.figures(dash, |d| {
            d.market
                .metrics
                .as_ref()
                .map(|m| {
                    m.instances
                        .iter()
                        .map(|i| (i.id.clone(), i.stages.iter().map(|s| s.name.clone()).collect::<Vec<_>>()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let split = Signal::derive(move || instances.with(|i| i.len() > 1));
    let dependencies = Memo::new(move |_| {
        live.figures(dash, |d| d.market.metrics.as_ref().map(|m| m.dependencies.clone()).unwrap_or_default())
    });
    let canvas = NodeRef::<Canvas>::new();
    let throughput = Memo::new(move |_| {
        live.figures(dash, |d| d.market.metrics.as_ref().map(|m| m.throughput.clone()).unwrap_or_default())
    });
    Effect::new(move |_| {
        let samples = throughput.get();
        let palette = if theme.get() == Theme::Dark { ChartTheme::dark() } else { ChartTheme::light() };
        let Some(element) = canvas.get() else { return };
        let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        element.set_width((f64::from(element.client_width()) * ratio) as u32);
        element.set_height((f64::from(element.client_height()) * ratio) as u32);
        if let Err(err) = chart::draw_throughput_on_canvas(&element, &samples, &palette) {
            leptos::logging::warn!("cannot draw the throughput chart: {err}");
        }
        if let Err(err) = element.set_attribute("data-points", &samples.len().to_string()) {
            leptos::logging::warn!("cannot label the throughput chart: {err:?}");
        }
    });
    let latency = move |pick: fn(&marquee_shared::Latency) -> f64| {
        move || {
            live.figures(dash, |d| {
                d.market
                    .metrics
                    .as_ref()
                    .and_then(|m| m.end_to_end)
                    .map_or("–".to_owned(), |l| format::millis(pick(&l)))
            })
        }
    };
    let browser = move |p99: bool| {
        move || {
            dash.with(|d| {
                d.render
                    .percentiles()
                    .map_or("–".to_owned(), |(p50, p99_)| format::millis(if p99 { p99_ } else { p50 }))
            })
        }
    };
    let clock = move || {
        dash.with(|d| match (d.render.offset_ms(), d.render.round_trip_ms) {
            (Some(offset), Some(rtt)) => {
                format!(
                    "measured in this page; server clock offset {offset:+.1} ms (ping round trip {rtt:.1} ms)"
                )
            }
            _ => "waiting for a clock comparison with the server".to_owned(),
        })
    };
    let clients = move || live.figures(dash, |d| d.market.metrics.as_ref().map_or(0, |m| m.clients));
    let now_rate = move || throughput.with(|t| t.last().map_or("–".to_owned(), |r| format::rate(*r)));
    view! {
        <section class="panel pipeline" data-testid="pipeline-panel" aria-label="Pipeline">
            <div class="panel-head">
                <h2 class="panel-title">"Pipeline"</h2>
                <span class="muted">"clients " <b data-testid="clients-count">{clients}</b></span>
            </div>
            <div class="instances">
                <For each=move || instances.get() key=|instance| instance.clone() let:instance>
                    <InstanceGroup dash=dash live=live id=instance.0 stages=instance.1 split=split />
                </For>
                <Show when=move || instances.with(|i| i.is_empty())>
                    <p class="empty">"Waiting for the first measurements…"</p>
                </Show>
            </div>
            <ul class="dependencies">
                {move || dependencies.get().into_iter().map(|d| {
                    let status = match d.status {
                        Status::Up => "up",
                        Status::Degraded => "degraded",
                        Status::Down => "down",
                    };
                    view! {
                        <li class=format!("dependency stage-{status}") data-testid="dependency" data-name=d.name.clone() data-status=status title=d.detail.clone()>
                            <span class="dot"></span>
                            <b>{d.name.clone()}</b>
                            <span class="muted">{d.detail.clone()}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <super::feed_table::FeedTable dash=dash live=live />
            <div class="throughput">
                <div class="figure-row">
                    <span class="label">"Throughput, last 60 s"</span>
                    <b>{now_rate}</b>
                </div>
                <canvas node_ref=canvas class="throughput-canvas" data-testid="throughput-canvas"
                    aria-label="Ticks per second over the last minute"></canvas>
            </div>
            <div class="latency-grid">
                <span class="label">"Tick → send (server)"</span>
                <span>"p50 " <b data-testid="e2e-p50">{latency(|l| l.p50_ms)}</b></span>
                <span>"p99 " <b data-testid="e2e-p99">{latency(|l| l.p99_ms)}</b></span>
                <span class="label" title=clock>"Tick → render (page)"</span>
                <span>"p50 " <b data-testid="browser-p50">{browser(false)}</b></span>
                <span>"p99 " <b data-testid="browser-p99">{browser(true)}</b></span>
            </div>
        </section>
    }
}

fn status_name(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Up) => "up",
        Some(Status::Degraded) => "degraded",
        Some(Status::Down) | None => "down",
    }
}

/// One process's stages; headed by its roles and address when there are
/// several processes (in one, the heading would say nothing new).
#[component]
fn InstanceGroup(
    dash: RwSignal<Dashboard>,
    live: LiveRows,
    id: String,
    stages: Vec<String>,
    split: Signal<bool>,
) -> impl IntoView {
    let key = id.clone();
    let instance = Memo::new(move |_| {
        live.figures(dash, |d| {
            d.market.metrics.as_ref().and_then(|m| m.instances.iter().find(|i| i.id == key).cloned())
        })
    });
    let status = move || instance.with(|i| status_name(i.as_ref().map(|i| i.status)));
    let roles = move || instance.with(|i| i.as_ref().map(|i| i.roles.join(" + ")).unwrap_or_default());
    let address = move || instance.with(|i| i.as_ref().map(|i| i.address.clone()).unwrap_or_default());
    let cards = stages
        .into_iter()
        .map(|name| view! { <StageCard dash=dash live=live instance=id.clone() name=name /> })
        .collect_view();
    view! {
        <div class=move || format!("instance instance-{}", status()) data-testid="instance" data-status=status
            data-roles=roles>
            <Show when=move || split.get()>
                <div class="instance-head" title=address>
                    <span class="dot"></span>
                    <b>{roles}</b>
                    <span class="muted">{address}</span>
                </div>
            </Show>
            <div class="stages">{cards}</div>
        </div>
    }
}

#[component]
fn StageCard(dash: RwSignal<Dashboard>, live: LiveRows, instance: String, name: String) -> impl IntoView {
    let key = name.clone();
    let instance_id = instance.clone();
    let name_is_gateway = name == "gateway";
    let stage = Memo::new(move |_| {
        live.figures(dash, |d| {
            d.market
                .metrics
                .as_ref()
                .and_then(|m| m.instances.iter().find(|i| i.id == instance))
                .and_then(|i| i.stages.iter().find(|s| s.name == key).cloned())
        })
    });
    let text = move |render: fn(&StageHealth) -> String| {
        move || stage.with(|s| s.as_ref().map(render).unwrap_or_default())
    };
    let status = move || stage.with(|s| status_name(s.as_ref().map(|s| s.status)));
    let has_queue = move || stage.with(|s| s.as_ref().is_some_and(|s| s.queue.is_some()));
    let has_lag = move || stage.with(|s| s.as_ref().is_some_and(|s| s.lag.is_some()));
    let has_buffer = move || stage.with(|s| s.as_ref().is_some_and(|s| s.buffer_fill.is_some()));
    // Only the card of the gateway serving this page: the edge figures are its own.
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    let edge = Memo::new(move |_| {
        live.figures(dash, |d| {
            let m = d.market.metrics.as_ref()?;
            let owner = edge::owner(&m.instances, &origin)?;
            (name_is_gateway && owner == instance_id).then(|| m.edge.clone()).flatten()
        })
    });
    let title = name.clone();
    view! {
        <div class=move || format!("stage stage-{}", status()) data-testid="stage-card" data-stage=name data-status=status
            title=text(|s| s.detail.clone())>
            <div class="stage-head">
                <span class="dot"></span>
                <b class="stage-name">{title}</b>
                <span class="stage-rate" data-testid="stage-rate">{text(|s| format::rate(s.rate))}</span>
            </div>
            <Show when=move || stage.with(|s| s.as_ref().is_some_and(|s| s.status != Status::Up))>
                <div class="stage-detail">{text(|s| s.detail.clone())}</div>
            </Show>
            <div class="stage-figures">
                <span>"p50 " <b data-testid="stage-p50">{text(|s| s.latency.map_or("–".to_owned(), |l| format::millis(l.p50_ms)))}</b></span>
                <span>"p99 " <b data-testid="stage-p99">{text(|s| s.latency.map_or("–".to_owned(), |l| format::millis(l.p99_ms)))}</b></span>
                <span>"errors " <b data-testid="stage-errors">{text(|s| format!("{} ({:.1}/s)", s.errors, s.error_rate))}</b></span>
                <Show when=has_buffer>
                    <span>"buffer " <b data-testid="stage-buffer">{text(|s| format!("{:.0}%", s.buffer_fill.unwrap_or(0.0) * 100.0))}</b></span>
                </Show>
                <Show when=has_queue>
                    <span title="Kafka producer queue">"queue " <b data-testid="stage-queue">{text(|s| s.queue.unwrap_or(0).to_string())}</b></span>
                </Show>
                <Show when=has_lag>
                    <span title="Kafka consumer lag">"lag " <b data-testid="stage-lag">{text(|s| s.lag.unwrap_or(0).to_string())}</b></span>
                </Show>
                // The edge's "dropped" is the same count, with its context.
                <Show when=move || edge.with(Option::is_none)
                    fallback=move || view! { <EdgeCounts edge=edge /> }>
                    <span>"skipped " <b>{text(|s| s.dropped.to_string())}</b></span>
                </Show>
            </div>
            <Show when=move || edge.with(Option::is_some)>
                <EdgeReasons edge=edge />
            </Show>
        </div>
    }
}

/// The gateway's edge: connections and clients now, slow clients conflated
/// and the messages dropped for them.
#[component]
fn EdgeCounts(edge: Memo<Option<EdgeFigures>>) -> impl IntoView {
    let value = move |pick: fn(&EdgeFigures) -> u64| move || edge.with(|e| e.as_ref().map_or(0, pick));
    let figure = move |pick: fn(&EdgeFigures) -> u64| move || value(pick)().to_string();
    let counted = move |pick: fn(&EdgeFigures) -> u64| move || format::count(value(pick)());
    view! {
        <span title="TCP connections open now">"conns " <b data-testid="edge-connections" data-value=figure(|e| e.connections)>{counted(|e| e.connections)}</b></span>
        <span title="WebSocket clients now">"ws " <b data-testid="edge-clients" data-value=figure(|e| e.clients)>{counted(|e| e.clients)}</b></span>
        <span title="Slow clients conflated: told they lagged, sent a fresh snapshot">"conflated " <b data-testid="edge-conflations" data-value=figure(|e| e.conflations)>{counted(|e| e.conflations)}</b></span>
        <span title="Messages dropped from slow clients' queues">"dropped " <b data-testid="edge-dropped" data-value=figure(|e| e.dropped)>{counted(|e| e.dropped)}</b></span>
    }
}

/// WebSocket sessions the gateway ended, and connections it refused, by reason.
#[component]
fn EdgeReasons(edge: Memo<Option<EdgeFigures>>) -> impl IntoView {
    let reasons = move |pick: fn(&EdgeFigures) -> &BTreeMap<String, u64>| {
        move || edge.with(|e| e.as_ref().map(|e| edge::by_reason(pick(e))).unwrap_or_default())
    };
    let closed = reasons(|e| &e.disconnects);
    let refused = reasons(|e| &e.refused);
    view! {
        <div class="edge-reasons" data-testid="edge-reasons">
            <span data-testid="edge-disconnects" title=move || format!("WebSocket sessions ended, by reason: {}", closed())>
                "closed " <b>{closed}</b>
            </span>
            <span data-testid="edge-refused" title=move || format!("Connections refused or cut before they were served, by reason: {}", refused())>
                "refused " <b>{refused}</b>
            </span>
        </div>
    }
}
