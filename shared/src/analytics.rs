use serde::{Deserialize, Serialize};

use crate::OhlcvBar;

/// Indicator values after a closed bar; `None` until warmed up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Indicators {
    pub sma20: Option<f64>,
    pub sma50: Option<f64>,
    pub ema12: Option<f64>,
    pub ema26: Option<f64>,
    pub rsi14: Option<f64>,
    pub macd: Option<f64>,
    pub macd_signal: Option<f64>,
    pub macd_hist: Option<f64>,
    pub bb_upper: Option<f64>,
    pub bb_middle: Option<f64>,
    pub bb_lower: Option<f64>,
}

/// A closed bar with the indicators computed up to and including it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalyzedBar {
    #[serde(flatten)]
    pub bar: OhlcvBar,
    pub indicators: Indicators,
}

/// What an anomaly alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A tick's log return far outside the recent distribution (z-score).
    PriceJump,
    /// A closed bar's volume far above the recent mean.
    VolumeSpike,
    /// RSI(14) crossed above 70.
    RsiOverbought,
    /// RSI(14) crossed below 30.
    RsiOversold,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::PriceJump => "price_jump",
            AlertKind::VolumeSpike => "volume_spike",
            AlertKind::RsiOverbought => "rsi_overbought",
            AlertKind::RsiOversold => "rsi_oversold",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// An anomaly: `value` crossed `threshold` at event time `ts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub symbol: String,
    pub kind: AlertKind,
    pub severity: Severity,
    pub value: f64,
    pub threshold: f64,
    pub ts: i64,
}

impl Alert {
    /// What crossed what, for people: "price jump, z = +5.2 (|z| ≥ 4)".
    pub fn describe(&self) -> String {
        match self.kind {
            AlertKind::PriceJump => {
                format!("price jump, z = {:+.1} (|z| ≥ {:.0})", self.value, self.threshold.abs())
            }
            AlertKind::VolumeSpike => {
                format!("volume spike, {:.1}× the mean (≥ {:.0}×)", self.value, self.threshold)
            }
            AlertKind::RsiOverbought => format!("RSI {:.1} crossed above {:.0}", self.value, self.threshold),
            AlertKind::RsiOversold => format!("RSI {:.1} crossed below {:.0}", self.value, self.threshold),
        }
    }
}

/// The body of `GET /api/v1/bars/{symbol}`: stored history (`1d`, intraday
/// `1min`..`60min`) or bars built from live ticks (`1m`, `5m`, `15m`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum BarSeries {
    Live(Vec<AnalyzedBar>),
    /// Stored bars with indicators (`indicators=true`).
    Indicated(Vec<IndicatedBar>),
    Stored(Vec<crate::Bar>),
}

/// A stored bar with the indicators of its series up to and including it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatedBar {
    #[serde(flatten)]
    pub bar: crate::Bar,
    pub indicators: Indicators,
}

/// Indicators at one closed bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatorPoint {
    pub start: i64,
    pub close: f64,
    pub indicators: Indicators,
}

/// The body of `GET /api/v1/indicators/{symbol}?interval=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatorSeries {
    pub symbol: String,
    /// As asked for: `1m`, `5m`, `15m` (live bars), `1d` (daily history) or
    /// `1min` .. `60min` (fetched intraday history).
    pub interval: String,
    /// After the latest closed bar; `None` before the first bar closes.
    pub latest: Option<Indicators>,
    /// Closed bars of the window asked for, oldest first.
    pub series: Vec<IndicatorPoint>,
}
