//! Chart drawing: pure functions over any plotters
//! [`DrawingBackend`](plotters::prelude::DrawingBackend), so the
//! browser draws on a `<canvas>` (plotters-canvas, wasm32 only) and tests
//! render SVG natively.
//!
//! - [`draw_candles`]: candlesticks with SMA/EMA/Bollinger overlays, volume,
//!   RSI(14) and MACD(12, 26, 9) panes.
//! - [`draw_throughput`]: ticks per second over the last minute.
//!
//! Everything is laid out in pixels by hand (`scale.rs`), not with plotters'
//! `ChartBuilder`: candles need pixel rules (odd body widths, one-pixel doji
//! bodies) and hand layout keeps every pane on the same x slots.

// Natively only the tests draw (the views draw on a browser canvas).
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code, unused_imports))]

mod axis;
mod candles;
mod paint;
mod panes;
mod scale;
mod theme;
mod throughput;
mod time;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

use marquee_shared::{AnalyzedBar, Bar, IndicatedBar, Indicators};
#[cfg(target_arch = "wasm32")]
use plotters::prelude::IntoDrawingArea;

// The views' API; until they draw charts, natively only the tests use it.
#[cfg(test)]
pub use candles::WAITING;
pub use candles::draw_candles;
pub use theme::ChartTheme;
#[cfg(test)]
pub use throughput::THROUGHPUT_WINDOW;
pub use throughput::draw_throughput;
pub use time::{TimeFormat, format_datetime};

/// One bar as the chart draws it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Candle {
    /// The bar's start, ns since the epoch (UTC).
    pub start: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub indicators: Indicators,
    /// Still forming: drawn translucent with an outline.
    pub forming: bool,
    /// A stored bar shown before the live ones for context (daily or
    /// fetched intraday history), labelled in its own time format; the
    /// chart marks where the live bars begin.
    pub context: Option<TimeFormat>,
}

impl Candle {
    /// A live bar and its indicators; `forming` when it has not closed yet.
    pub fn from_analyzed(bar: &AnalyzedBar, forming: bool) -> Self {
        let b = &bar.bar;
        Self {
            start: b.start,
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
            indicators: bar.indicators,
            forming,
            context: None,
        }
    }

    /// This stored bar as context before live bars, labelled with `time`.
    pub fn as_context(self, time: TimeFormat) -> Self {
        Self { context: Some(time), ..self }
    }
}

impl From<&IndicatedBar> for Candle {
    fn from(bar: &IndicatedBar) -> Self {
        Self { indicators: bar.indicators, ..Candle::from(&bar.bar) }
    }
}

impl From<&Bar> for Candle {
    /// A stored bar: closed, no indicators.
    fn from(bar: &Bar) -> Self {
        Self {
            start: bar.ts,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume as f64,
            indicators: Indicators::default(),
            forming: false,
            context: None,
        }
    }
}

/// Which indicator lines the price pane draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlays {
    /// SMA 20 and SMA 50.
    pub sma: bool,
    /// EMA 12 and EMA 26.
    pub ema: bool,
    /// Bollinger bands (20, 2): upper and lower lines and the fill between.
    pub bollinger: bool,
}

impl Default for Overlays {
    fn default() -> Self {
        Self { sma: true, ema: true, bollinger: true }
    }
}

/// Why drawing on a canvas failed, as text for the console.
#[cfg(target_arch = "wasm32")]
fn canvas_error<E: std::fmt::Display>(error: E) -> String {
    format!("chart: {error}")
}

/// A canvas backend on `canvas` at its attribute size, with the theme scaled
/// by how many canvas pixels there are per CSS pixel (the caller sets
/// `width`/`height` to the CSS size times `devicePixelRatio` for sharp
/// drawing, or to the CSS size).
#[cfg(target_arch = "wasm32")]
fn canvas_backend(
    canvas: &web_sys::HtmlCanvasElement,
    theme: &ChartTheme,
) -> Result<(plotters_canvas::CanvasBackend, ChartTheme), String> {
    let css_width = canvas.client_width();
    let ratio = if css_width > 0 { f64::from(canvas.width()) / f64::from(css_width) } else { 1.0 };
    let backend = plotters_canvas::CanvasBackend::with_canvas_object(canvas.clone())
        .ok_or_else(|| "chart: the canvas has no 2d context".to_owned())?;
    Ok((backend, theme.scaled(ratio * theme.scale)))
}

/// Draws [`draw_candles`] on `canvas`.
#[cfg(target_arch = "wasm32")]
pub fn draw_on_canvas(
    canvas: &web_sys::HtmlCanvasElement,
    candles: &[Candle],
    overlays: Overlays,
    time: TimeFormat,
    theme: &ChartTheme,
) -> Result<(), String> {
    let (backend, theme) = canvas_backend(canvas, theme)?;
    let root = backend.into_drawing_area();
    draw_candles(&root, candles, overlays, time, &theme).map_err(canvas_error)?;
    root.present().map_err(canvas_error)
}

/// Draws [`draw_throughput`] on `canvas`.
#[cfg(target_arch = "wasm32")]
pub fn draw_throughput_on_canvas(
    canvas: &web_sys::HtmlCanvasElement,
    samples: &[f64],
    theme: &ChartTheme,
) -> Result<(), String> {
    let (backend, theme) = canvas_backend(canvas, theme)?;
    let root = backend.into_drawing_area();
    draw_throughput(&root, samples, &theme).map_err(canvas_error)?;
    root.present().map_err(canvas_error)
}

/// Outside the browser there is no canvas: native builds (tests) never run
/// the views, so these only say so.
#[cfg(not(target_arch = "wasm32"))]
pub fn draw_on_canvas(
    _canvas: &web_sys::HtmlCanvasElement,
    _candles: &[Candle],
    _overlays: Overlays,
    _time: TimeFormat,
    _theme: &ChartTheme,
) -> Result<(), String> {
    Err(NO_CANVAS.to_owned())
}

#[cfg(not(target_arch = "wasm32"))]
pub fn draw_throughput_on_canvas(
    _canvas: &web_sys::HtmlCanvasElement,
    _samples: &[f64],
    _theme: &ChartTheme,
) -> Result<(), String> {
    Err(NO_CANVAS.to_owned())
}

#[cfg(not(target_arch = "wasm32"))]
const NO_CANVAS: &str = "canvas drawing needs a browser (wasm32)";
