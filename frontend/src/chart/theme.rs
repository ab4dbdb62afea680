//! Chart colours and the one size factor (for high-DPI canvases).

use plotters::style::RGBColor;

/// Colours of every chart, and `scale`, the factor applied to fonts, margins
/// and line widths (1.0 when one canvas pixel is one CSS pixel).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartTheme {
    pub background: RGBColor,
    pub grid: RGBColor,
    pub axis_text: RGBColor,
    /// Candles, volume bars and MACD histogram bars where close >= open (or the bar is >= 0).
    pub up: RGBColor,
    pub down: RGBColor,
    pub sma20: RGBColor,
    pub sma50: RGBColor,
    pub ema12: RGBColor,
    pub ema26: RGBColor,
    pub bollinger: RGBColor,
    /// Opacity of the fill between the Bollinger bands.
    pub bollinger_fill_alpha: f64,
    /// Opacity of volume and MACD histogram bars.
    pub volume_alpha: f64,
    /// Opacity of the body of the bar still forming.
    pub forming_alpha: f64,
    pub rsi: RGBColor,
    pub macd: RGBColor,
    pub signal: RGBColor,
    pub throughput: RGBColor,
    pub scale: f64,
}

impl ChartTheme {
    /// Near-black, GitHub-dark-like background with a trading palette.
    pub fn dark() -> Self {
        Self {
            background: RGBColor(0x0d, 0x11, 0x17),
            grid: RGBColor(0x21, 0x26, 0x2d),
            axis_text: RGBColor(0x8b, 0x94, 0x9e),
            up: RGBColor(0x26, 0xa6, 0x9a),
            down: RGBColor(0xef, 0x53, 0x50),
            sma20: RGBColor(0xf0, 0xb4, 0x29),
            sma50: RGBColor(0x58, 0xa6, 0xff),
            ema12: RGBColor(0xff, 0x7a, 0xb2),
            ema26: RGBColor(0xbc, 0x8c, 0xff),
            bollinger: RGBColor(0x7d, 0x85, 0x90),
            bollinger_fill_alpha: 0.07,
            volume_alpha: 0.5,
            forming_alpha: 0.35,
            rsi: RGBColor(0xa5, 0xd6, 0xff),
            macd: RGBColor(0x58, 0xa6, 0xff),
            signal: RGBColor(0xf0, 0x88, 0x3e),
            throughput: RGBColor(0x3f, 0xb9, 0x50),
            scale: 1.0,
        }
    }

    /// White background, darker lines for contrast.
    pub fn light() -> Self {
        Self {
            background: RGBColor(0xff, 0xff, 0xff),
            grid: RGBColor(0xea, 0xee, 0xf2),
            axis_text: RGBColor(0x57, 0x60, 0x6a),
            up: RGBColor(0x08, 0x99, 0x81),
            down: RGBColor(0xf2, 0x36, 0x45),
            sma20: RGBColor(0xbf, 0x87, 0x00),
            sma50: RGBColor(0x09, 0x69, 0xda),
            ema12: RGBColor(0xbf, 0x39, 0x89),
            ema26: RGBColor(0x82, 0x50, 0xdf),
            bollinger: RGBColor(0x6e, 0x77, 0x81),
            bollinger_fill_alpha: 0.06,
            volume_alpha: 0.45,
            forming_alpha: 0.3,
            rsi: RGBColor(0x82, 0x50, 0xdf),
            macd: RGBColor(0x09, 0x69, 0xda),
            signal: RGBColor(0xbc, 0x4c, 0x00),
            throughput: RGBColor(0x1a, 0x7f, 0x37),
            scale: 1.0,
        }
    }

    /// The same colours with sizes multiplied by `scale` (e.g. the device
    /// pixel ratio); values that are not finite and positive mean 1.0.
    pub fn scaled(&self, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 { scale } else { 1.0 };
        Self { scale, ..self.clone() }
    }

    /// `px` CSS pixels in canvas pixels, at least 1.
    pub(crate) fn px(&self, px: f64) -> i32 {
        ((px * self.scale).round() as i32).max(1)
    }

    /// A font size in canvas pixels.
    pub(crate) fn font_size(&self, px: f64) -> f64 {
        px * self.scale
    }
}

impl Default for ChartTheme {
    fn default() -> Self {
        Self::dark()
    }
}
