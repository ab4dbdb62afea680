//! The candlestick chart: price pane with overlays, then volume, RSI and
//! MACD panes, one shared x axis of equally spaced bars.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{draw_value_axis, max_half_width};
use super::paint::{self, Area, DrawResult};
use super::panes;
use super::scale::{Rect, Slots, YScale, decimals_for, nice_step, nice_ticks};
use super::{Candle, ChartTheme, Overlays, TimeFormat};

/// What an empty chart says.
pub const WAITING: &str = "waiting for bars…";

/// Where each pane sits, in pixels of the drawing area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub price: Rect,
    pub volume: Rect,
    pub rsi: Rect,
    pub macd: Rect,
    /// The top of the time labels, below the last pane.
    pub time_y: i32,
}

/// Splits a `width` × `height` area: price 58%, volume, RSI and MACD 14%
/// each; value labels to the right, time labels at the bottom.
pub(crate) fn layout(width: u32, height: u32, theme: &ChartTheme) -> Layout {
    let (w, h) = (width as i32, height as i32);
    let (x0, x1) = (theme.px(6.0), (w - theme.px(64.0)).max(theme.px(6.0) + 1));
    let (top, bottom) = (theme.px(4.0), (h - theme.px(18.0)).max(theme.px(4.0) + 4));
    let inner = bottom - top;
    let price_h = inner * 58 / 100;
    let sub_h = inner * 14 / 100;
    let pane = |y0: i32, y1: i32| Rect { x0, y0, x1, y1 };
    let (p1, v1, r1) = (top + price_h, top + price_h + sub_h, top + price_h + 2 * sub_h);
    Layout {
        price: pane(top, p1),
        volume: pane(p1, v1),
        rsi: pane(v1, r1),
        macd: pane(r1, bottom),
        time_y: bottom + theme.px(4.0),
    }
}

/// The pixels of one candle: its wick (high to low) and body (open to close,
/// at least one pixel high, so a doji shows as a line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CandleGeometry {
    pub body: Rect,
    pub wick: Rect,
    /// Close at or above open.
    pub up: bool,
}

pub(crate) fn candle_geometry(
    candle: &Candle,
    i: usize,
    slots: &Slots,
    scale: &YScale,
    theme: &ChartTheme,
) -> CandleGeometry {
    let wick_width = theme.px(1.0);
    let x = slots.center(i);
    let half = slots.body_half_width(max_half_width(theme));
    let (y_open, y_close) = (scale.y(candle.open), scale.y(candle.close));
    let body_top = y_open.min(y_close);
    let body_bottom = y_open.max(y_close).max(body_top + 1);
    let high = scale.y(candle.high.max(candle.open).max(candle.close));
    let low = scale.y(candle.low.min(candle.open).min(candle.close)).max(high + 1);
    let wick_x0 = x - (wick_width - 1) / 2;
    CandleGeometry {
        body: Rect { x0: x - half, y0: body_top, x1: x + half + 1, y1: body_bottom },
        wick: Rect { x0: wick_x0, y0: high, x1: wick_x0 + wick_width, y1: low },
        up: candle.close >= candle.open,
    }
}

/// The visible bars: the newest ones that fit at three pixels a bar or more.
pub(crate) fn visible<'a>(candles: &'a [Candle], layout: &Layout, theme: &ChartTheme) -> &'a [Candle] {
    let fit = (layout.price.width() / theme.px(3.0)).max(1) as usize;
    &candles[candles.len().saturating_sub(fit)..]
}

/// Draws the whole candlestick chart onto `root`. Bars are equally spaced
/// by index (gaps in time are not drawn); only the newest that fit are drawn.
/// Empty input draws the background and [`WAITING`].
pub fn draw_candles<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    candles: &[Candle],
    overlays: Overlays,
    time: TimeFormat,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    if candles.is_empty() {
        return paint::placeholder(root, WAITING, theme);
    }
    root.fill(&theme.background)?;
    let (w, h) = root.dim_in_pixel();
    let layout = layout(w, h, theme);
    let candles = visible(candles, &layout, theme);
    let slots = Slots { x0: layout.price.x0, width: layout.price.width(), n: candles.len() };

    draw_time_axis(root, candles, &slots, &layout, time, theme)?;
    draw_price_pane(root, candles, &slots, layout.price, overlays, theme)?;
    draw_live_boundary(root, candles, &slots, &layout, theme)?;
    panes::draw_volume(root, candles, &slots, layout.volume, theme)?;
    panes::draw_rsi(root, candles, &slots, layout.rsi, theme)?;
    panes::draw_macd(root, candles, &slots, layout.macd, theme)
}

/// Pane borders, vertical grid lines and a few time labels, newest bar
/// always labelled.
fn draw_time_axis<DB: DrawingBackend>(
    root: &Area<DB>,
    candles: &[Candle],
    slots: &Slots,
    layout: &Layout,
    time: TimeFormat,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    let grid = theme.grid.to_rgba();
    let (top, bottom, x1) = (layout.price.y0, layout.macd.y1, layout.price.x1);
    for y in [layout.volume.y0, layout.rsi.y0, layout.macd.y0, bottom] {
        paint::hline(root, slots.x0, x1, y, theme.axis_text.mix(0.35))?;
    }
    paint::vline(root, x1, top, bottom + 1, theme.axis_text.mix(0.35))?;

    const SIZE: f64 = 10.0;
    let sample = time.format(0);
    let label_w = paint::text_width(&sample, SIZE, theme);
    let step = (f64::from(label_w + theme.px(50.0)) / slots.slot_width()).ceil().max(1.0) as usize;
    let (width, _) = root.dim_in_pixel();
    for i in (0..candles.len()).rev().step_by(step) {
        let x = slots.center(i);
        paint::vline(root, x, top, bottom, grid)?;
        if x - label_w / 2 < 0 || x + label_w / 2 > width as i32 {
            continue;
        }
        let label = candles[i].context.unwrap_or(time).format(candles[i].start);
        let at = (x, layout.time_y);
        paint::text(root, &label, at, (HPos::Center, VPos::Top), SIZE, theme.axis_text.to_rgba(), theme)?;
    }
    Ok(())
}

/// Where the stored history shown for context ends and the live bars begin:
/// a line across the panes, "history" to its left and "live" to its right.
fn draw_live_boundary<DB: DrawingBackend>(
    root: &Area<DB>,
    candles: &[Candle],
    slots: &Slots,
    layout: &Layout,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    let Some(first_live) = candles.windows(2).position(|w| w[0].context.is_some() && w[1].context.is_none())
    else {
        return Ok(());
    };
    let x = (slots.center(first_live) + slots.center(first_live + 1)) / 2;
    let color = theme.axis_text.mix(0.8);
    paint::vline(root, x, layout.price.y0, layout.macd.y1, color)?;
    let y = layout.price.y0 + theme.px(4.0);
    const SIZE: f64 = 10.0;
    let gap = theme.px(4.0);
    let text = color.to_rgba();
    paint::text(root, "history", (x - gap, y), (HPos::Right, VPos::Top), SIZE, text, theme)?;
    paint::text(root, "live", (x + gap, y), (HPos::Left, VPos::Top), SIZE, text, theme)
}

/// The prices the scale must show: bars and the overlays drawn.
fn price_range(candles: &[Candle], overlays: Overlays) -> (f64, f64) {
    let mut range = (f64::INFINITY, f64::NEG_INFINITY);
    let mut add = |v: f64| {
        if v.is_finite() {
            range = (range.0.min(v), range.1.max(v));
        }
    };
    for c in candles {
        add(c.low);
        add(c.high);
        let i = &c.indicators;
        let extra = [
            (overlays.sma, i.sma20),
            (overlays.sma, i.sma50),
            (overlays.ema, i.ema12),
            (overlays.ema, i.ema26),
            (overlays.bollinger, i.bb_upper),
            (overlays.bollinger, i.bb_lower),
        ];
        extra.into_iter().filter_map(|(on, v)| v.filter(|_| on)).for_each(&mut add);
    }
    range
}

fn draw_price_pane<DB: DrawingBackend>(
    root: &Area<DB>,
    candles: &[Candle],
    slots: &Slots,
    pane: Rect,
    overlays: Overlays,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    let (lo, hi) = price_range(candles, overlays);
    let scale = YScale::padded(lo, hi, 0.04, pane.y0 + theme.px(20.0), pane.y1 - theme.px(4.0));
    let target = (pane.height() / theme.px(45.0)).max(2) as usize;
    let ticks = nice_ticks(scale.lo, scale.hi, target);
    let decimals = decimals_for(nice_step(scale.hi - scale.lo, target), 2);
    draw_value_axis(root, pane, &scale, &ticks, |v| format!("{v:.decimals$}"), theme)?;

    let line = |color: RGBColor| color.stroke_width(theme.px(1.0) as u32);
    let at = |i: usize, v: Option<f64>| v.map(|v| (slots.center(i), scale.y(v)));
    if overlays.bollinger {
        let upper: Vec<_> = candles.iter().enumerate().map(|(i, c)| at(i, c.indicators.bb_upper)).collect();
        let lower: Vec<_> = candles.iter().enumerate().map(|(i, c)| at(i, c.indicators.bb_lower)).collect();
        let band = upper.iter().zip(&lower).map(|(u, l)| u.zip(*l));
        for run in paint::runs(band).into_iter().filter(|run| run.len() >= 2) {
            let outline: Vec<_> = run.iter().map(|p| p.0).chain(run.iter().rev().map(|p| p.1)).collect();
            root.draw(&Polygon::new(outline, theme.bollinger.mix(theme.bollinger_fill_alpha).filled()))?;
        }
        paint::broken_line(root, upper, line(theme.bollinger))?;
        paint::broken_line(root, lower, line(theme.bollinger))?;
    }

    for (i, candle) in candles.iter().enumerate() {
        let g = candle_geometry(candle, i, slots, &scale, theme);
        let color = if g.up { theme.up } else { theme.down };
        paint::fill_rect(root, g.wick, color.to_rgba())?;
        if candle.forming {
            paint::fill_rect(root, g.body, color.mix(theme.forming_alpha))?;
            paint::stroke_rect(root, g.body, color.to_rgba(), 1)?;
        } else {
            paint::fill_rect(root, g.body, color.to_rgba())?;
        }
    }

    let mut legend = Vec::new();
    let lines = [
        (
            overlays.sma,
            "SMA 20",
            theme.sma20,
            (|c: &Candle| c.indicators.sma20) as fn(&Candle) -> Option<f64>,
        ),
        (overlays.sma, "SMA 50", theme.sma50, |c| c.indicators.sma50),
        (overlays.ema, "EMA 12", theme.ema12, |c| c.indicators.ema12),
        (overlays.ema, "EMA 26", theme.ema26, |c| c.indicators.ema26),
    ];
    for (_, name, color, value) in lines.into_iter().filter(|l| l.0) {
        let points = candles.iter().enumerate().map(|(i, c)| at(i, value(c)));
        paint::broken_line(root, points, line(color))?;
        legend.push((name.to_owned(), color));
    }
    if overlays.bollinger {
        legend.push(("BB 20 2".to_owned(), theme.bollinger));
    }

    if let Some(last) = candles.last() {
        draw_price_tag(root, pane, &scale, last, decimals, theme)?;
    }
    paint::legend(root, (pane.x0 + theme.px(4.0), pane.y0 + theme.px(4.0)), &legend, theme)
}

/// The newest close, on a tag of its candle's colour on the value axis.
fn draw_price_tag<DB: DrawingBackend>(
    root: &Area<DB>,
    pane: Rect,
    scale: &YScale,
    last: &Candle,
    decimals: usize,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    let y = scale.y(last.close);
    if !pane.contains_y(y) {
        return Ok(());
    }
    let color = if last.close >= last.open { theme.up } else { theme.down };
    let (w, _) = root.dim_in_pixel();
    let half = theme.px(8.0);
    paint::hline(root, pane.x0, pane.x1, y, color.mix(0.5))?;
    paint::fill_rect(
        root,
        Rect { x0: pane.x1 + 1, y0: y - half, x1: w as i32, y1: y + half },
        color.to_rgba(),
    )?;
    let label = format!("{:.decimals$}", last.close);
    let at = (pane.x1 + theme.px(6.0), y);
    paint::text(root, &label, at, (HPos::Left, VPos::Center), 10.0, theme.background.to_rgba(), theme)
}
