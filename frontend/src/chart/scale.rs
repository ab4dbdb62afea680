//! Pixel geometry shared by the charts: rectangles, value-to-pixel scales,
//! equally spaced slots and "nice" tick values. Pure.

/// A pixel rectangle, `x0..x1` by `y0..y1` (exclusive ends), relative to the
/// drawing area's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Rect {
    pub fn width(&self) -> i32 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> i32 {
        self.y1 - self.y0
    }

    pub fn contains_y(&self, y: i32) -> bool {
        (self.y0..self.y1).contains(&y)
    }
}

/// Maps values in `lo..=hi` linearly onto pixel rows, `hi` at `top`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct YScale {
    pub lo: f64,
    pub hi: f64,
    pub top: i32,
    pub bottom: i32,
}

impl YScale {
    /// A scale over `lo..=hi` widened by `pad` (a fraction of the range) on
    /// each side; a flat or empty range is widened around its value.
    pub fn padded(lo: f64, hi: f64, pad: f64, top: i32, bottom: i32) -> Self {
        let (lo, hi) = if lo.is_finite() && hi.is_finite() && lo <= hi { (lo, hi) } else { (0.0, 1.0) };
        let range = hi - lo;
        let (lo, hi) = if range > f64::EPSILON * hi.abs().max(1.0) {
            (lo - range * pad, hi + range * pad)
        } else {
            let half = (hi.abs() * 0.01).max(0.01);
            (lo - half, hi + half)
        };
        Self { lo, hi, top, bottom }
    }

    /// The pixel row of `value`.
    pub fn y(&self, value: f64) -> i32 {
        let t = (self.hi - value) / (self.hi - self.lo);
        (f64::from(self.top) + t * f64::from(self.bottom - self.top)).round() as i32
    }
}

/// `n` equally wide slots across `x0..x0 + width`, one per bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Slots {
    pub x0: i32,
    pub width: i32,
    pub n: usize,
}

impl Slots {
    /// The pixel column at the middle of slot `i`.
    pub fn center(&self, i: usize) -> i32 {
        self.x0 + ((i as f64 + 0.5) * self.slot_width()).floor() as i32
    }

    pub fn slot_width(&self) -> f64 {
        f64::from(self.width) / self.n.max(1) as f64
    }

    /// Half a body's width, so bodies are `2 * half + 1` pixels wide (odd,
    /// centred on the wick), fill about 70% of a slot, and at most
    /// `2 * max_half + 1` (a few wide bars look like bars, not blocks).
    pub fn body_half_width(&self, max_half: i32) -> i32 {
        (((self.slot_width() * 0.7 - 1.0) / 2.0).floor().max(0.0) as i32).min(max_half)
    }
}

/// Up to about `target` round values (steps of 1, 2, 2.5 or 5 times a power
/// of ten) within `lo..=hi`, ascending.
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let step = nice_step(hi - lo, target);
    if !(step.is_finite() && step > 0.0) {
        return Vec::new();
    }
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// The round step that splits `range` into about `target` parts.
pub(crate) fn nice_step(range: f64, target: usize) -> f64 {
    let raw = range / target.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return 0.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let nice = match norm {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 2.5 => 2.5,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    };
    nice * magnitude
}

/// Decimals needed to tell ticks `step` apart, at least `min`.
pub(crate) fn decimals_for(step: f64, min: usize) -> usize {
    if !(step.is_finite() && step > 0.0) {
        return min;
    }
    let needed = (-step.log10() + 0.999).floor().max(0.0) as usize;
    // 2.5, 0.25…: one more digit than the power of ten suggests.
    let quarter = ((step / 10f64.powi(-(needed as i32))) % 1.0).abs() > 1e-6;
    (needed + usize::from(quarter)).clamp(min, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_ticks(0.0, 10.0, 5), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(98.3, 112.7, 4), [100.0, 105.0, 110.0]);
        assert_eq!(nice_ticks(-1.3, 1.1, 3), [-1.0, 0.0, 1.0]);
        assert_eq!(nice_step(1.0, 4), 0.25);
        assert!(nice_ticks(5.0, 5.0, 4).is_empty());
        assert_eq!((decimals_for(0.25, 0), decimals_for(0.5, 2), decimals_for(2.5, 0)), (2, 2, 1));
        assert_eq!((decimals_for(10.0, 0), decimals_for(0.001, 2)), (0, 3));
    }

    #[test]
    fn scales_map_values_to_rows() {
        let s = YScale { lo: 0.0, hi: 100.0, top: 10, bottom: 110 };
        assert_eq!((s.y(100.0), s.y(0.0), s.y(25.0)), (10, 110, 85));
        let flat = YScale::padded(50.0, 50.0, 0.1, 0, 100);
        assert!(flat.lo < 50.0 && flat.hi > 50.0 && flat.y(50.0) == 50);
        let padded = YScale::padded(90.0, 110.0, 0.05, 0, 100);
        assert_eq!((padded.lo, padded.hi), (89.0, 111.0));
    }

    #[test]
    fn slots_share_the_width() {
        let slots = Slots { x0: 10, width: 100, n: 4 };
        assert_eq!((0..4).map(|i| slots.center(i)).collect::<Vec<_>>(), [22, 47, 72, 97]);
        assert_eq!(slots.body_half_width(100), 8); // 25 px slots: 17 px bodies
        assert_eq!(slots.body_half_width(3), 3);
        assert_eq!(Slots { x0: 0, width: 100, n: 100 }.body_half_width(10), 0);
    }
}
