//! The throughput sparkline: ticks per second over the last minute.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::draw_value_axis;
use super::paint::{self, DrawResult};
use marquee_shared::format::compact;

use super::scale::{Rect, YScale, nice_ticks};
use super::theme::ChartTheme;

/// How many samples (seconds) the chart spans.
pub const THROUGHPUT_WINDOW: usize = 60;

/// Where the plot sits in a `width` × `height` area: the title above,
/// labels to the right.
pub(crate) fn throughput_plot(width: u32, height: u32, theme: &ChartTheme) -> Rect {
    let (w, h) = (width as i32, height as i32);
    let x0 = theme.px(6.0);
    let y0 = theme.px(18.0).min(h / 3);
    Rect { x0, y0, x1: (w - theme.px(44.0)).max(x0 + 2), y1: (h - theme.px(4.0)).max(y0 + 2) }
}

/// The top of the y scale: 110% of the largest sample, at least 1.
pub(crate) fn throughput_ceiling(samples: &[f64]) -> f64 {
    let max = samples.iter().copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
    (max * 1.1).max(1.0)
}

/// Draws `samples` (ticks per second, one a second, oldest first) as a
/// filled line, the newest at the right edge; only the last
/// [`THROUGHPUT_WINDOW`] are drawn, fewer start part way across.
pub fn draw_throughput<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    samples: &[f64],
    theme: &ChartTheme,
) -> DrawResult<DB> {
    root.fill(&theme.background)?;
    let (w, h) = root.dim_in_pixel();
    let plot = throughput_plot(w, h, theme);
    let samples = &samples[samples.len().saturating_sub(THROUGHPUT_WINDOW)..];
    let scale = YScale { lo: 0.0, hi: throughput_ceiling(samples), top: plot.y0, bottom: plot.y1 };

    let ticks = nice_ticks(0.0, scale.hi, 2);
    draw_value_axis(root, plot, &scale, &ticks, compact, theme)?;
    let axis = theme.axis_text.mix(0.35);
    paint::hline(root, plot.x0, plot.x1, plot.y1, axis)?;
    paint::vline(root, plot.x1, plot.y0, plot.y1 + 1, axis)?;

    let offset = THROUGHPUT_WINDOW - samples.len();
    let step = f64::from(plot.width() - 1) / (THROUGHPUT_WINDOW - 1) as f64;
    let points: Vec<(i32, i32)> = samples
        .iter()
        .enumerate()
        .map(|(j, &v)| {
            let x = plot.x0 + ((offset + j) as f64 * step).round() as i32;
            let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
            (x, scale.y(v))
        })
        .collect();
    if let (Some(&(first_x, _)), Some(&(last_x, _))) = (points.first(), points.last())
        && points.len() >= 2
    {
        let base = scale.y(0.0);
        let mut area = points.clone();
        area.extend([(last_x, base), (first_x, base)]);
        root.draw(&Polygon::new(area, theme.throughput.mix(0.18).filled()))?;
        root.draw(&PathElement::new(points, theme.throughput.stroke_width(theme.px(1.5) as u32)))?;
    }

    let mut items = vec![("ticks/s".to_owned(), theme.axis_text)];
    if let Some(&last) = samples.last().filter(|v| v.is_finite()) {
        items.push((compact(last), theme.throughput));
    }
    paint::legend(root, (plot.x0, theme.px(3.0)), &items, theme)
}
