use super::*;

#[test]
fn outside_input_is_quoted_and_cut() {
    assert_eq!(quoted("a b"), "\"a b\"");
    let long = quoted(&"X".repeat(10_000));
    assert_eq!(long, format!("{:?} (and 9976 more characters)", "X".repeat(24)));
}
use crate::{BarInterval, DataSource};

fn tick() -> Tick {
    Tick {
        symbol: "AAPL".into(),
        seq: 1,
        ts: 1_763_900_000_000_000_000,
        price: 189.25,
        size: 300.0,
        change: -1.5,
        change_pct: -0.79,
    }
}

fn bar(open: f64, high: f64, low: f64, close: f64) -> Bar {
    Bar {
        symbol: "IBM".into(),
        ts: 1_714_521_600_000_000_000,
        open,
        high,
        low,
        close,
        volume: 100,
        source: DataSource::Csv,
    }
}

fn message(result: Result<(), Invalid>) -> String {
    result.err().map(|e| e.to_string()).unwrap_or_default()
}

#[test]
fn limits_are_the_documented_ones() {
    assert_eq!(MAX_TS / 1_000_000_000 / 86_400, 84_006, "days from 1970 to 2200");
    assert_eq!(MAX_SEQ, 9_007_199_254_740_991);
    assert!((MAX_PRICE * MAX_VOLUME as f64 * 1e6).is_finite(), "a million prints at the limits");
    assert!(MAX_VOLUME.checked_mul(1_000_000).is_some(), "a million prints' volume fits a u64");
}

#[test]
fn prices_are_finite_positive_and_within_the_ceiling() {
    assert_eq!(price("close", 1e9), Ok(1e9));
    assert_eq!(price("close", 1e-8), Ok(1e-8));
    let refused = |v: f64| price("close", v).map(drop).err().map(|e| e.to_string());
    assert_eq!(refused(1e308).as_deref(), Some("close 1e308 is above the ceiling 1e9"));
    assert_eq!(refused(f64::NAN).as_deref(), Some("close NaN is not a finite number"));
    assert_eq!(refused(f64::INFINITY).as_deref(), Some("close inf is not a finite number"));
    assert_eq!(refused(-5.0).as_deref(), Some("close -5 is not a positive price (allowed: 1e-8 to 1e9)"));
    assert_eq!(refused(1e-9).as_deref(), Some("close 1e-9 is below the floor 1e-8 (allowed: 1e-8 to 1e9)"));
    assert_eq!(clamp_price(1e308), Some(MAX_PRICE));
    assert_eq!(clamp_price(0.0), Some(MIN_PRICE));
    assert_eq!(clamp_price(f64::NAN), None);
}

#[test]
fn volumes_are_whole_and_bounded() {
    assert_eq!(volume_from_f64("volume", 2e2), Ok(200));
    assert_eq!(volume_from_f64("volume", 1e12), Ok(MAX_VOLUME));
    let refused = |v: f64| volume_from_f64("volume", v).map(drop).err().map(|e| e.to_string());
    assert_eq!(refused(1e30).as_deref(), Some("volume 1e30 is above the ceiling 1e12"));
    assert_eq!(
        refused(-5.0).as_deref(),
        Some("volume -5 is negative (allowed: whole numbers from 0 to 1e12)")
    );
    assert_eq!(
        refused(1.5).as_deref(),
        Some("volume 1.5 is not a whole number (allowed: whole numbers from 0 to 1e12)")
    );
    assert!(volume("size", u64::MAX).is_err());
}

#[test]
fn times_seqs_and_symbols_have_ranges() {
    assert!(timestamp("ts", 0).is_ok() && timestamp("ts", MAX_TS - 1).is_ok());
    assert!(timestamp("ts", -1).is_err() && timestamp("ts", MAX_TS).is_err());
    assert_eq!(
        seq(u64::MAX).map_err(|e| e.to_string()),
        Err("seq 18446744073709551615 is outside 1 to 9007199254740991 (2^53 - 1)".into())
    );
    assert!(seq(0).is_err() && seq(1).is_ok() && seq(MAX_SEQ).is_ok());
    for good in ["BRK.B", "BTC-USD", "BINANCE:BTCUSDT", "FAKEPACA"] {
        assert!(symbol(good).is_ok(), "{good:?}");
    }
    for bad in ["", "ibm", "-X", "A-VERY-LONG-SYMBOL-OF-25C", "A B", "A/B", ":X"] {
        assert!(symbol(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn bars_must_be_consistent() {
    assert_eq!(bar(10.0, 11.0, 9.0, 10.5).validate(), Ok(()));
    assert_eq!(message(bar(10.0, 9.0, 10.0, 10.0).validate()), "high 9 is below low 10");
    assert_eq!(
        message(bar(12.0, 11.0, 9.0, 10.0).validate()),
        "open 12 is outside the bar's range, low 9 to high 11"
    );
    assert_eq!(message(bar(10.0, 11.0, 9.0, 1e308).validate()), "close 1e308 is above the ceiling 1e9");
    let live = OhlcvBar {
        symbol: "IBM".into(),
        interval: BarInterval::OneMinute,
        start: 0,
        open: 10.0,
        high: 11.0,
        low: 9.0,
        close: 10.0,
        volume: f64::MAX,
        vwap: 12.0,
        trades: u64::MAX,
    };
    assert_eq!(message(live.validate()), "vwap 12 is outside the bar's range, low 9 to high 11");
    let indicators = Indicators { sma20: Some(f64::INFINITY), ..Indicators::default() };
    assert_eq!(message(indicators.validate()), "sma20 inf is not a finite number");
    assert_eq!(Indicators::default().validate(), Ok(()), "not warmed up is fine");
}

#[test]
fn ticks_check_every_field() {
    assert_eq!(tick().validate(), Ok(()));
    let hostile = [
        Tick { seq: u64::MAX, ..tick() },
        Tick { seq: 0, ..tick() },
        Tick { size: 1e15, ..tick() },
        Tick { size: -0.5, ..tick() },
        Tick { size: f64::NAN, ..tick() },
        Tick { price: 1e308, ..tick() },
        Tick { ts: -1, ..tick() },
        Tick { change_pct: f64::NAN, ..tick() },
        Tick { symbol: "not a symbol".into(), ..tick() },
    ];
    for t in hostile {
        assert!(t.validate().is_err(), "{t:?}");
    }
}
