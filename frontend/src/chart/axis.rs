//! What every pane shares: the value axis on the right and the widest body.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::paint::{self, Area, DrawResult};
use super::scale::{Rect, YScale};
use super::theme::ChartTheme;

/// Half the widest body (and volume bar) in pixels.
pub(crate) fn max_half_width(theme: &ChartTheme) -> i32 {
    theme.px(12.0)
}

/// Horizontal grid lines and right-hand labels at round values of `scale`
/// inside `pane`.
pub(crate) fn draw_value_axis<DB: DrawingBackend>(
    root: &Area<DB>,
    pane: Rect,
    scale: &YScale,
    ticks: &[f64],
    label: impl Fn(f64) -> String,
    theme: &ChartTheme,
) -> DrawResult<DB> {
    let margin = theme.px(6.0);
    let mut last_label = i32::MAX;
    for &value in ticks.iter().rev() {
        let y = scale.y(value);
        if y < pane.y0 + margin || y > pane.y1 - margin || (y - last_label).abs() < theme.px(12.0) {
            continue;
        }
        last_label = y;
        paint::hline(root, pane.x0, pane.x1, y, theme.grid.to_rgba())?;
        let at = (pane.x1 + theme.px(6.0), y);
        paint::text(
            root,
            &label(value),
            at,
            (HPos::Left, VPos::Center),
            10.0,
            theme.axis_text.to_rgba(),
            theme,
        )?;
    }
    Ok(())
}
