use leptos::html::Canvas;
use leptos::prelude::*;

use super::Theme;
pub use super::history::fetch_history;
use crate::chart::{self, ChartTheme, Overlays};
use crate::state::Dashboard;
use crate::state::chart::{ChartInterval, Load};
use marquee_shared::format;

/// Candlesticks of the selected symbol with overlays, volume, RSI and MACD.
#[component]
pub fn ChartPanel(dash: RwSignal<Dashboard>, theme: RwSignal<Theme>) -> impl IntoView {
    let overlays = RwSignal::new(Overlays::default());
    let canvas = NodeRef::<Canvas>::new();
    let redraws = StoredValue::new(0_u64);

    // Chart the first symbol until the user picks one.
    Effect::new(move |_| {
        let first =
            dash.with(|d| d.chart.symbol.is_none().then(|| d.market.symbols().into_iter().next()).flatten());
        if let Some(symbol) = first
            && let Some(request) = dash.try_update(|d| d.chart.select(&symbol)).flatten()
        {
            fetch_history(dash, request);
        }
    });

    // Once the stream caught up after the server conflated it, the bars
    // that closed meanwhile are read from the store.
    let wants_reload = Memo::new(move |_| dash.with(|d| d.chart.wants_reload()));
    Effect::new(move |_| {
        if wants_reload.get()
            && let Some(request) = dash.try_update(|d| d.chart.take_reload()).flatten()
        {
            fetch_history(dash, request);
        }
    });

    // Redraw only when what the chart shows changed: at most once a frame,
    // since the stream is applied once a frame.
    let version = Memo::new(move |_| dash.with(|d| d.chart.version));
    Effect::new(move |_| {
        let _version = version.get();
        let overlays = overlays.get();
        let palette = if theme.get() == Theme::Dark { ChartTheme::dark() } else { ChartTheme::light() };
        let Some(element) = canvas.get() else { return };
        let (candles, interval, symbol) =
            dash.with_untracked(|d| (d.chart.candles(), d.chart.interval, d.chart.symbol.clone()));
        let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        element.set_width((f64::from(element.client_width()) * ratio) as u32);
        element.set_height((f64::from(element.client_height()) * ratio) as u32);
        if let Err(err) =
            chart::draw_on_canvas(&element, &candles, overlays, interval.time_format(), &palette)
        {
            leptos::logging::warn!("cannot draw the chart: {err}");
        }
        let count = redraws.get_value() + 1;
        redraws.set_value(count);
        let last_close = candles.last().map(|c| c.close.to_string()).unwrap_or_default();
        for (name, value) in [
            ("data-symbol", symbol.unwrap_or_default()),
            ("data-interval", interval.as_str().to_owned()),
            ("data-candles", candles.len().to_string()),
            // Stored bars shown before the live ones.
            ("data-context", candles.iter().filter(|c| c.context.is_some()).count().to_string()),
            ("data-redraws", count.to_string()),
            ("data-last-close", last_close),
        ] {
            if let Err(err) = element.set_attribute(name, &value) {
                leptos::logging::warn!("cannot label the chart: {err:?}");
            }
        }
    });

    let title = move || dash.with(|d| d.chart.symbol.clone().unwrap_or_else(|| "–".to_owned()));
    let quote = move || {
        dash.with(|d| {
            let symbol = d.chart.symbol.as_deref()?;
            let q = d.market.quote(symbol)?;
            Some(format!(
                "{}  {} ({})",
                format::price(q.tick.price),
                format::change(q.tick.change),
                format::percent(q.tick.change_pct)
            ))
        })
    };
    let name = move || {
        dash.with(|d| d.chart.symbol.as_deref().and_then(|s| d.market.info(s)).and_then(|i| i.name.clone()))
    };
    let load = move || {
        dash.with(|d| match &d.chart.load {
            Load::Loading => "loading history…".to_owned(),
            Load::Failed(message) => format!("history unavailable: {message}"),
            Load::Idle | Load::Ready => String::new(),
        })
    };
    let interval_button = move |interval: ChartInterval| {
        let label = interval.as_str();
        let pressed = move || dash.with(|d| d.chart.interval == interval).to_string();
        let choose = move |_| {
            if let Some(request) = dash.try_update(|d| d.chart.set_interval(interval)).flatten() {
                fetch_history(dash, request);
            }
        };
        view! {
            <button class="seg" data-testid=format!("interval-{label}") aria-pressed=pressed on:click=choose>{label}</button>
        }
    };
    let overlay_toggle = move |label: &'static str,
                               id: &'static str,
                               get: fn(&Overlays) -> bool,
                               set: fn(&mut Overlays, bool)| {
        view! {
            <label class="toggle">
                <input type="checkbox" data-testid=id prop:checked=move || overlays.with(get)
                    on:change=move |ev| overlays.update(|o| set(o, event_target_checked(&ev))) />
                {label}
            </label>
        }
    };
    view! {
        <section class="panel chart-panel" data-testid="chart-panel" aria-label="Chart">
            <div class="panel-head">
                <div class="chart-title">
                    <h2 class="panel-title" data-testid="chart-symbol">{title}</h2>
                    <span class="muted chart-name">{name}</span>
                    <span class="chart-quote">{quote}</span>
                </div>
                <div class="chart-tools">
                    <div class="segmented" role="group" aria-label="Interval">
                        {ChartInterval::ALL.into_iter().map(interval_button).collect_view()}
                    </div>
                    {overlay_toggle("SMA", "overlay-sma", |o| o.sma, |o, v| o.sma = v)}
                    {overlay_toggle("EMA", "overlay-ema", |o| o.ema, |o, v| o.ema = v)}
                    {overlay_toggle("BB", "overlay-bollinger", |o| o.bollinger, |o, v| o.bollinger = v)}
                </div>
            </div>
            <div class="chart-body">
                <canvas node_ref=canvas class="chart-canvas" data-testid="chart-canvas"
                    aria-label="Candlestick chart with volume, RSI and MACD"></canvas>
                <span class="chart-note muted">{load}</span>
            </div>
        </section>
    }
}
