//! TA-Lib's values for one series of closes (`tests/fixtures/talib`), read
//! by the indicator tests here and by the API's history tests, which
//! include this file by path. It needs nothing but serde.

use serde::Deserialize;

/// The closes and every indicator TA-Lib computed from them; `None` where
/// TA-Lib has NaN (warm-up).
#[derive(Debug, Deserialize)]
pub struct Reference {
    pub close: Vec<f64>,
    pub sma20: Vec<Option<f64>>,
    pub sma50: Vec<Option<f64>>,
    pub ema12: Vec<Option<f64>>,
    pub ema26: Vec<Option<f64>>,
    pub rsi14: Vec<Option<f64>>,
    pub macd: Vec<Option<f64>>,
    pub macd_signal: Vec<Option<f64>>,
    pub macd_hist: Vec<Option<f64>>,
    pub bb_upper: Vec<Option<f64>>,
    pub bb_middle: Vec<Option<f64>>,
    pub bb_lower: Vec<Option<f64>>,
}

/// The fixture, as committed.
pub fn reference() -> Reference {
    let path = format!("{}/tests/fixtures/talib/indicators.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("reference JSON")
}
