//! What a price, a volume, a time, a seq and a symbol may be: one set of
//! limits, checked wherever market data comes in (a CSV file, an Alpha
//! Vantage reply, a Kafka record, a row stored before these checks existed)
//! so that everything behind those doors can add, average and divide without
//! overflowing, and never sends `null` where the wire promises a number.
//!
//! The limits, and why they are where they are:
//! - A price lies in [`MIN_PRICE`, `MAX_PRICE`] = [1e-8, 1e9]. No listed
//!   instrument trades above 1e9 in its own currency (the dearest share,
//!   Berkshire Hathaway A, is under 1e6 USD), and 1e-8 is a satoshi, the
//!   smallest unit anything is quoted in. A floor above zero keeps every
//!   ratio of two prices (change %, log return) finite: at most 1e17.
//! - A trade's size is a number in [0, [`MAX_VOLUME`]] = [0, 1e12], a
//!   hundred times the busiest day any listed stock has had; fractional for
//!   coins (0.0165 BTC). A stored daily bar's volume is a whole number in the
//!   same range. Σ price·size over a million prints stays below 1e27, far
//!   from f64's 1.8e308, so running VWAP sums cannot overflow.
//! - A time (ns since the epoch) lies in [1970-01-01, 2200-01-01): the
//!   `i64` nanosecond range ends in 2262, and nothing we handle is older.
//! - A seq lies in [1, [`MAX_SEQ`]] = [1, 2^53 − 1]: a browser's JSON
//!   numbers are exact only up to 2^53, and a symbol ticking a million times
//!   a second takes 285 years to get there.
//!
//! The checks are pure functions and [`Validate`] impls for the wire types;
//! the errors ([`Invalid`]) say which field, which value and what is allowed.

use std::fmt;

use crate::{Alert, AnalyzedBar, Bar, Indicators, OhlcvBar, Quote, Tick};

/// The lowest price accepted (a satoshi).
pub const MIN_PRICE: f64 = 1e-8;
/// The highest price accepted.
pub const MAX_PRICE: f64 = 1e9;
/// The largest trade size or stored bar volume accepted.
pub const MAX_VOLUME: u64 = 1_000_000_000_000;
/// The earliest time accepted: 1970-01-01T00:00:00Z, in ns since the epoch.
pub const MIN_TS: i64 = 0;
/// The first time no longer accepted: 2200-01-01T00:00:00Z, in ns.
pub const MAX_TS: i64 = 7_258_118_400 * 1_000_000_000;
/// The largest seq accepted: 2^53 − 1, the largest integer a JavaScript
/// number holds exactly.
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// Why a value was refused. Its message names the field, the value and what
/// is allowed, so that whoever supplied it can fix it.
#[derive(Debug, Clone, PartialEq)]
pub enum Invalid {
    /// NaN or infinite.
    NotFinite { field: &'static str, value: f64 },
    /// A price at or below zero.
    NotPositive { field: &'static str, value: f64 },
    /// A price above zero but below [`MIN_PRICE`].
    BelowFloor { field: &'static str, value: f64 },
    /// A price above [`MAX_PRICE`].
    AboveCeiling { field: &'static str, value: f64 },
    /// A volume below zero.
    NegativeVolume { field: &'static str, value: f64 },
    /// A volume with a fractional part.
    FractionalVolume { field: &'static str, value: f64 },
    /// A volume above [`MAX_VOLUME`].
    VolumeAboveCeiling { field: &'static str, value: f64 },
    /// A time outside [`MIN_TS`, `MAX_TS`).
    Time { field: &'static str, value: i64 },
    /// A seq outside [1, [`MAX_SEQ`]].
    Seq { value: u64 },
    /// A bar whose high is below its low.
    HighBelowLow { high: f64, low: f64 },
    /// A bar's open, close or VWAP outside its [low, high].
    OutsideBar { field: &'static str, value: f64, low: f64, high: f64 },
    /// Not a ticker (see [`symbol`]).
    Symbol { value: String },
}

impl std::error::Error for Invalid {}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prices = format_args!("allowed: {} to {}", Shown(MIN_PRICE), Shown(MAX_PRICE));
        let volumes = format_args!("allowed: whole numbers from 0 to {}", Shown(MAX_VOLUME as f64));
        match self {
            Self::NotFinite { field, value } => write!(f, "{field} {} is not a finite number", Shown(*value)),
            Self::NotPositive { field, value } => {
                write!(f, "{field} {} is not a positive price ({prices})", Shown(*value))
            }
            Self::BelowFloor { field, value } => {
                write!(f, "{field} {} is below the floor {} ({prices})", Shown(*value), Shown(MIN_PRICE))
            }
            Self::AboveCeiling { field, value } => {
                write!(f, "{field} {} is above the ceiling {}", Shown(*value), Shown(MAX_PRICE))
            }
            Self::NegativeVolume { field, value } => {
                write!(f, "{field} {} is negative ({volumes})", Shown(*value))
            }
            Self::FractionalVolume { field, value } => {
                write!(f, "{field} {} is not a whole number ({volumes})", Shown(*value))
            }
            Self::VolumeAboveCeiling { field, value } => {
                write!(f, "{field} {} is above the ceiling {}", Shown(*value), Shown(MAX_VOLUME as f64))
            }
            Self::Time { field, value } => write!(
                f,
                "{field} {value} (ns since the epoch) is outside the accepted times, \
                 1970-01-01 to 2200-01-01"
            ),
            Self::Seq { value } => write!(f, "seq {value} is outside 1 to {MAX_SEQ} (2^53 - 1)"),
            Self::HighBelowLow { high, low } => {
                write!(f, "high {} is below low {}", Shown(*high), Shown(*low))
            }
            Self::OutsideBar { field, value, low, high } => write!(
                f,
                "{field} {} is outside the bar's range, low {} to high {}",
                Shown(*value),
                Shown(*low),
                Shown(*high)
            ),
            Self::Symbol { value } => {
                write!(f, "{value:?} is not a symbol: use 1 to 24 letters, digits, '.', '-' or ':'")
            }
        }
    }
}

/// A number as people read it: plain in the usual range, in exponent form
/// when very large or small (`1e308`, not 309 digits).
#[derive(Debug, Clone, Copy)]
struct Shown(f64);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        let magnitude = x.abs();
        if x.is_nan() {
            f.write_str("NaN")
        } else if x.is_infinite() {
            f.write_str(if x > 0.0 { "inf" } else { "-inf" })
        } else if x != 0.0 && !(1e-3..1e6).contains(&magnitude) {
            write!(f, "{x:e}")
        } else {
            write!(f, "{x}")
        }
    }
}

/// A price: finite and in [`MIN_PRICE`, `MAX_PRICE`].
pub fn price(field: &'static str, value: f64) -> Result<f64, Invalid> {
    if !value.is_finite() {
        Err(Invalid::NotFinite { field, value })
    } else if value <= 0.0 {
        Err(Invalid::NotPositive { field, value })
    } else if value < MIN_PRICE {
        Err(Invalid::BelowFloor { field, value })
    } else if value > MAX_PRICE {
        Err(Invalid::AboveCeiling { field, value })
    } else {
        Ok(value)
    }
}

/// A price made by arithmetic (the simulation's next step), brought into
/// [`MIN_PRICE`, `MAX_PRICE`]; `None` for NaN, which has no nearest price.
pub fn clamp_price(value: f64) -> Option<f64> {
    (!value.is_nan()).then(|| value.clamp(MIN_PRICE, MAX_PRICE))
}

/// A signed amount derived from prices (a change, a change %): finite.
pub fn finite(field: &'static str, value: f64) -> Result<f64, Invalid> {
    if value.is_finite() { Ok(value) } else { Err(Invalid::NotFinite { field, value }) }
}

/// A volume that arrived as a whole number.
pub fn volume(field: &'static str, value: u64) -> Result<u64, Invalid> {
    if value <= MAX_VOLUME {
        Ok(value)
    } else {
        Err(Invalid::VolumeAboveCeiling { field, value: value as f64 })
    }
}

/// A trade's size: finite, at least zero, at most [`MAX_VOLUME`].
pub fn quantity(field: &'static str, value: f64) -> Result<f64, Invalid> {
    if !value.is_finite() {
        Err(Invalid::NotFinite { field, value })
    } else if value < 0.0 {
        Err(Invalid::NegativeVolume { field, value })
    } else if value > MAX_VOLUME as f64 {
        Err(Invalid::VolumeAboveCeiling { field, value })
    } else {
        Ok(value)
    }
}

/// A volume that arrived as any number (a CSV cell such as `2e2`): finite,
/// not negative, whole and at most [`MAX_VOLUME`].
pub fn volume_from_f64(field: &'static str, value: f64) -> Result<u64, Invalid> {
    if !value.is_finite() {
        Err(Invalid::NotFinite { field, value })
    } else if value < 0.0 {
        Err(Invalid::NegativeVolume { field, value })
    } else if value.fract() != 0.0 {
        Err(Invalid::FractionalVolume { field, value })
    } else if value > MAX_VOLUME as f64 {
        Err(Invalid::VolumeAboveCeiling { field, value })
    } else {
        // Whole and at most 1e12: exact in a u64.
        Ok(value as u64)
    }
}

/// A time in ns since the epoch, in [`MIN_TS`, `MAX_TS`).
pub fn timestamp(field: &'static str, value: i64) -> Result<i64, Invalid> {
    if (MIN_TS..MAX_TS).contains(&value) { Ok(value) } else { Err(Invalid::Time { field, value }) }
}

/// A tick's seq, in [1, [`MAX_SEQ`]].
pub fn seq(value: u64) -> Result<u64, Invalid> {
    if (1..=MAX_SEQ).contains(&value) { Ok(value) } else { Err(Invalid::Seq { value }) }
}

/// The longest symbol accepted: a venue's pair with its exchange prefix
/// (`BINANCE:BTCUSDT`, `COINBASE:BTC-USD`) fits with room to spare.
pub const MAX_SYMBOL: usize = 24;

/// A ticker as stored and sent: 1 to [`MAX_SYMBOL`] of `A-Z 0-9 . - :`,
/// starting with a letter or digit (upper-case it first; see the backend's
/// `symbol`). Venue symbols are symbols too: `BTC-USD`, `BINANCE:BTCUSDT`.
pub fn symbol(value: &str) -> Result<&str, Invalid> {
    let valid = (1..=MAX_SYMBOL).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | ':'));
    if valid { Ok(value) } else { Err(Invalid::Symbol { value: value.to_owned() }) }
}

/// Open, high, low and close: each a price, high at or above low, open and
/// close between them.
pub fn ohlc(open: f64, high: f64, low: f64, close: f64) -> Result<(), Invalid> {
    price("open", open)?;
    price("high", high)?;
    price("low", low)?;
    price("close", close)?;
    if high < low {
        return Err(Invalid::HighBelowLow { high, low });
    }
    within("open", open, low, high)?;
    within("close", close, low, high)
}

fn within(field: &'static str, value: f64, low: f64, high: f64) -> Result<(), Invalid> {
    if (low..=high).contains(&value) { Ok(()) } else { Err(Invalid::OutsideBar { field, value, low, high }) }
}

/// A value that can be checked against the limits above.
pub trait Validate {
    /// `Ok` when every field is within its limits; else the first that is not.
    fn validate(&self) -> Result<(), Invalid>;
}

impl Validate for Tick {
    fn validate(&self) -> Result<(), Invalid> {
        symbol(&self.symbol)?;
        seq(self.seq)?;
        timestamp("ts", self.ts)?;
        price("price", self.price)?;
        quantity("size", self.size)?;
        finite("change", self.change)?;
        finite("change_pct", self.change_pct)?;
        Ok(())
    }
}

impl Validate for Bar {
    fn validate(&self) -> Result<(), Invalid> {
        symbol(&self.symbol)?;
        timestamp("ts", self.ts)?;
        ohlc(self.open, self.high, self.low, self.close)?;
        volume("volume", self.volume)?;
        Ok(())
    }
}

/// A live bar's volume and trade count are sums over valid ticks: any
/// finite volume of at least zero, any count (the builder saturates); its
/// prices are checked.
impl Validate for OhlcvBar {
    fn validate(&self) -> Result<(), Invalid> {
        symbol(&self.symbol)?;
        timestamp("start", self.start)?;
        ohlc(self.open, self.high, self.low, self.close)?;
        if !self.volume.is_finite() {
            return Err(Invalid::NotFinite { field: "volume", value: self.volume });
        }
        if self.volume < 0.0 {
            return Err(Invalid::NegativeVolume { field: "volume", value: self.volume });
        }
        price("vwap", self.vwap)?;
        within("vwap", self.vwap, self.low, self.high)
    }
}

/// `None` means "not warmed up yet"; a value that is there is finite.
impl Validate for Indicators {
    fn validate(&self) -> Result<(), Invalid> {
        let fields = [
            ("sma20", self.sma20),
            ("sma50", self.sma50),
            ("ema12", self.ema12),
            ("ema26", self.ema26),
            ("rsi14", self.rsi14),
            ("macd", self.macd),
            ("macd_signal", self.macd_signal),
            ("macd_hist", self.macd_hist),
            ("bb_upper", self.bb_upper),
            ("bb_middle", self.bb_middle),
            ("bb_lower", self.bb_lower),
        ];
        fields.into_iter().try_for_each(|(field, value)| value.map_or(Ok(()), |v| finite(field, v).map(drop)))
    }
}

impl Validate for AnalyzedBar {
    fn validate(&self) -> Result<(), Invalid> {
        self.bar.validate()?;
        self.indicators.validate()
    }
}

impl Validate for Alert {
    fn validate(&self) -> Result<(), Invalid> {
        symbol(&self.symbol)?;
        timestamp("ts", self.ts)?;
        finite("value", self.value)?;
        finite("threshold", self.threshold)?;
        Ok(())
    }
}

impl Validate for Quote {
    fn validate(&self) -> Result<(), Invalid> {
        symbol(&self.symbol)?;
        price("price", self.price)?;
        finite("change", self.change)?;
        finite("change_pct", self.change_pct)?;
        timestamp("ts", self.ts)?;
        self.seq.map_or(Ok(()), |s| seq(s).map(drop))
    }
}

/// Outside input as an error message shows it: quoted, and cut after 24
/// characters, so a message echoes enough to recognise the input and never
/// a whole hostile body.
pub fn quoted(raw: &str) -> String {
    const SHOWN: usize = 24;
    let shown: String = raw.chars().take(SHOWN).collect();
    let cut = raw.chars().count() - shown.chars().count();
    if cut > 0 { format!("{shown:?} (and {cut} more characters)") } else { format!("{shown:?}") }
}

#[cfg(test)]
mod tests;
