//! Drawing primitives in pixel coordinates over any plotters backend.
//!
//! Horizontal and vertical lines are 1-pixel filled rectangles rather than
//! strokes: a canvas stroke on an integer coordinate straddles two pixels and
//! blurs, a filled rectangle does not.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::scale::Rect;
use super::theme::ChartTheme;

/// What every drawing function returns.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

pub(crate) type Area<DB> = DrawingArea<DB, Shift>;

pub(crate) const FONT: &str = "sans-serif";

/// A filled rectangle covering `x0..x1` by `y0..y1`.
pub(crate) fn fill_rect<DB: DrawingBackend>(area: &Area<DB>, r: Rect, color: RGBAColor) -> DrawResult<DB> {
    if r.x1 <= r.x0 || r.y1 <= r.y0 {
        return Ok(());
    }
    area.draw(&Rectangle::new([(r.x0, r.y0), (r.x1, r.y1)], color.filled()))
}

/// The outline of a rectangle, `width` pixels wide.
pub(crate) fn stroke_rect<DB: DrawingBackend>(
    area: &Area<DB>,
    r: Rect,
    color: RGBAColor,
    width: u32,
) -> DrawResult<DB> {
    area.draw(&Rectangle::new([(r.x0, r.y0), (r.x1, r.y1)], color.stroke_width(width)))
}

/// A horizontal line one pixel high.
pub(crate) fn hline<DB: DrawingBackend>(
    area: &Area<DB>,
    x0: i32,
    x1: i32,
    y: i32,
    color: RGBAColor,
) -> DrawResult<DB> {
    fill_rect(area, Rect { x0, y0: y, x1, y1: y + 1 }, color)
}

/// A vertical line one pixel wide.
pub(crate) fn vline<DB: DrawingBackend>(
    area: &Area<DB>,
    x: i32,
    y0: i32,
    y1: i32,
    color: RGBAColor,
) -> DrawResult<DB> {
    fill_rect(area, Rect { x0: x, y0, x1: x + 1, y1 }, color)
}

/// Polylines through `points`, broken wherever a point is `None`; runs of
/// fewer than two points draw nothing.
pub(crate) fn broken_line<DB: DrawingBackend>(
    area: &Area<DB>,
    points: impl IntoIterator<Item = Option<(i32, i32)>>,
    style: ShapeStyle,
) -> DrawResult<DB> {
    for run in runs(points) {
        if run.len() >= 2 {
            area.draw(&PathElement::new(run, style))?;
        }
    }
    Ok(())
}

/// The maximal runs of consecutive `Some` points.
pub(crate) fn runs<T>(points: impl IntoIterator<Item = Option<T>>) -> Vec<Vec<T>> {
    let mut runs = vec![Vec::new()];
    for point in points {
        match point {
            Some(p) => runs.last_mut().map_or((), |run| run.push(p)),
            None if runs.last().is_some_and(|run| !run.is_empty()) => runs.push(Vec::new()),
            None => {}
        }
    }
    runs.retain(|run| !run.is_empty());
    runs
}

/// Text of `size` CSS pixels anchored at `(x, y)`.
pub(crate) fn text<DB: DrawingBackend>(
    area: &Area<DB>,
    s: &str,
    (x, y): (i32, i32),
    (h, v): (HPos, VPos),
    size: f64,
    color: RGBAColor,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    let style = (FONT, theme.font_size(size)).into_font().color(&color).pos(Pos::new(h, v));
    area.draw(&Text::new(s.to_owned(), (x, y), style))
}

/// About the width in pixels `s` takes at `size` CSS pixels: 0.6 em a
/// character, a little over a sans-serif's average. Estimated rather than
/// measured, because plotters measures text on wasm32 by adding a `<span>`
/// to the page and reading its size, a forced layout per call, every redraw.
pub(crate) fn text_width(s: &str, size: f64, theme: &ChartTheme) -> i32 {
    (s.chars().count() as f64 * theme.font_size(size) * 0.6).ceil() as i32
}

/// Labels drawn left to right from `(x, y)` in their own colours, a gap
/// apart: a pane's title and legend.
pub(crate) fn legend<DB: DrawingBackend>(
    area: &Area<DB>,
    (x, y): (i32, i32),
    items: &[(String, RGBColor)],
    theme: &ChartTheme,
) -> DrawResult<DB> {
    const SIZE: f64 = 11.0;
    let mut x = x;
    for (label, color) in items {
        text(area, label, (x, y), (HPos::Left, VPos::Top), SIZE, color.to_rgba(), theme)?;
        x += text_width(label, SIZE, theme) + theme.px(8.0);
    }
    Ok(())
}

/// The background and a centred message: what a chart with nothing to show draws.
pub(crate) fn placeholder<DB: DrawingBackend>(
    area: &Area<DB>,
    message: &str,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    area.fill(&theme.background)?;
    let (w, h) = area.dim_in_pixel();
    let centre = (w as i32 / 2, h as i32 / 2);
    text(area, message, centre, (HPos::Center, VPos::Center), 13.0, theme.axis_text.to_rgba(), theme)
}
