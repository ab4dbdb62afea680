//! The panes under the price: volume, RSI(14) and MACD(12, 26, 9).

use plotters::prelude::*;

use super::Candle;
use super::axis::{draw_value_axis, max_half_width};
use super::paint::{self, Area, DrawResult};
use marquee_shared::format::compact;

use super::scale::{Rect, Slots, YScale, decimals_for, nice_step, nice_ticks};
use super::theme::ChartTheme;

/// The pane's title (and latest values) at its top-left.
fn title<DB: DrawingBackend>(
    root: &Area<DB>,
    pane: Rect,
    items: Vec<(String, RGBColor)>,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    paint::legend(root, (pane.x0 + theme.px(4.0), pane.y0 + theme.px(3.0)), &items, theme)
}

/// The body colour of a candle.
fn candle_color(candle: &Candle, theme: &ChartTheme) -> RGBColor {
    if candle.close >= candle.open { theme.up } else { theme.down }
}

/// A bar from `value` to `base` in slot `i`, at least one pixel tall.
fn bar(slots: &Slots, i: usize, scale: &YScale, value: f64, base: f64, theme: &ChartTheme) -> Rect {
    let (x, half) = (slots.center(i), slots.body_half_width(max_half_width(theme)));
    let (y_value, y_base) = (scale.y(value), scale.y(base));
    let (y0, y1) =
        if y_value <= y_base { (y_value.min(y_base - 1), y_base) } else { (y_base, y_value.max(y_base + 1)) };
    Rect { x0: x - half, y0, x1: x + half + 1, y1 }
}

fn last_value(candles: &[Candle], f: impl Fn(&Candle) -> Option<f64>) -> Option<f64> {
    candles.iter().rev().find_map(f)
}

/// Volume bars coloured like their candles, from zero to 110% of the largest.
pub(crate) fn draw_volume<DB: DrawingBackend>(
    root: &Area<DB>,
    candles: &[Candle],
    slots: &Slots,
    pane: Rect,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    let max = candles.iter().map(|c| c.volume).fold(0.0, f64::max);
    let scale = YScale { lo: 0.0, hi: (max * 1.1).max(1.0), top: pane.y0 + theme.px(4.0), bottom: pane.y1 };
    let ticks = nice_ticks(0.0, scale.hi, 2);
    draw_value_axis(root, pane, &scale, &ticks, compact, theme)?;
    for (i, candle) in candles.iter().enumerate().filter(|(_, c)| c.volume > 0.0) {
        let alpha = if candle.forming { theme.volume_alpha * 0.5 } else { theme.volume_alpha };
        let rect = bar(slots, i, &scale, candle.volume, 0.0, theme);
        paint::fill_rect(root, rect, candle_color(candle, theme).mix(alpha))?;
    }
    let mut items = vec![("Vol".to_owned(), theme.axis_text)];
    if let Some(last) = candles.last() {
        items.push((compact(last.volume), candle_color(last, theme)));
    }
    title(root, pane, items, theme)
}

/// RSI(14) on a fixed 0–100 scale, with the 30–70 band marked.
pub(crate) fn draw_rsi<DB: DrawingBackend>(
    root: &Area<DB>,
    candles: &[Candle],
    slots: &Slots,
    pane: Rect,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    let scale = YScale { lo: 0.0, hi: 100.0, top: pane.y0 + theme.px(4.0), bottom: pane.y1 - theme.px(2.0) };
    let band = Rect { x0: pane.x0, y0: scale.y(70.0), x1: pane.x1, y1: scale.y(30.0) };
    paint::fill_rect(root, band, theme.rsi.mix(0.06))?;
    draw_value_axis(root, pane, &scale, &[30.0, 70.0], |v| format!("{v:.0}"), theme)?;
    for level in [30.0, 70.0] {
        paint::hline(root, pane.x0, pane.x1, scale.y(level), theme.rsi.mix(0.35))?;
    }
    let points =
        candles.iter().enumerate().map(|(i, c)| c.indicators.rsi14.map(|v| (slots.center(i), scale.y(v))));
    paint::broken_line(root, points, theme.rsi.stroke_width(theme.px(1.0) as u32))?;

    let mut items = vec![("RSI 14".to_owned(), theme.axis_text)];
    if let Some(rsi) = last_value(candles, |c| c.indicators.rsi14) {
        items.push((format!("{rsi:.1}"), theme.rsi));
    }
    title(root, pane, items, theme)
}

/// MACD and signal lines over the histogram (their difference), around zero.
pub(crate) fn draw_macd<DB: DrawingBackend>(
    root: &Area<DB>,
    candles: &[Candle],
    slots: &Slots,
    pane: Rect,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    let values =
        candles.iter().flat_map(|c| [c.indicators.macd, c.indicators.macd_signal, c.indicators.macd_hist]);
    let (lo, hi) = values
        .flatten()
        .filter(|v| v.is_finite())
        .fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let scale = YScale::padded(lo, hi, 0.1, pane.y0 + theme.px(4.0), pane.y1 - theme.px(2.0));
    let ticks = nice_ticks(scale.lo, scale.hi, 3);
    let decimals = decimals_for(nice_step(scale.hi - scale.lo, 3), 0);
    draw_value_axis(root, pane, &scale, &ticks, |v| format!("{v:.decimals$}"), theme)?;
    paint::hline(root, pane.x0, pane.x1, scale.y(0.0), theme.axis_text.mix(0.3))?;

    for (i, candle) in candles.iter().enumerate() {
        if let Some(hist) = candle.indicators.macd_hist.filter(|h| h.is_finite()) {
            let color = if hist >= 0.0 { theme.up } else { theme.down };
            paint::fill_rect(root, bar(slots, i, &scale, hist, 0.0, theme), color.mix(theme.volume_alpha))?;
        }
    }
    let width = theme.px(1.0) as u32;
    let line = |f: fn(&Candle) -> Option<f64>| {
        candles.iter().enumerate().map(move |(i, c)| f(c).map(|v| (slots.center(i), scale.y(v))))
    };
    paint::broken_line(root, line(|c| c.indicators.macd), theme.macd.stroke_width(width))?;
    paint::broken_line(root, line(|c| c.indicators.macd_signal), theme.signal.stroke_width(width))?;

    let mut items = vec![("MACD 12 26 9".to_owned(), theme.axis_text)];
    let shown = decimals.max(2);
    if let Some(macd) = last_value(candles, |c| c.indicators.macd) {
        items.push((format!("{macd:.shown$}"), theme.macd));
    }
    if let Some(signal) = last_value(candles, |c| c.indicators.macd_signal) {
        items.push((format!("{signal:.shown$}"), theme.signal));
    }
    title(root, pane, items, theme)
}
