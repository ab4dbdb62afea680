//! The spill file, read at start from a disk that may have been cut off
//! mid-write or changed: every record is a valid tick or reported with its
//! line, lines are numbered in order, and what is read writes back to the
//! same records.

use marquee_shared::{Tick, Validate};

use super::{Seeds, fuzz, inputs::cases};
use crate::spill::record::{decode, encode};

fn spill_file(bytes: &[u8]) {
    let decoded = decode(bytes);
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + usize::from(!bytes.ends_with(b"\n"));
    let lines = if bytes.is_empty() { 0 } else { lines };
    assert_eq!(decoded.ticks.len() + decoded.skipped.len(), lines, "every line read or reported");
    assert!(decoded.skipped.windows(2).all(|w| w[0].line < w[1].line), "{:?}", decoded.skipped);
    for tick in &decoded.ticks {
        assert!(tick.validate().is_ok(), "an impossible tick came through: {tick:?}");
    }
    let mut written = Vec::new();
    decoded.ticks.iter().for_each(|tick| encode(tick, &mut written));
    assert_eq!(decode(&written).ticks, decoded.ticks, "read back differently");
}

fn records(ticks: &[Tick]) -> Vec<u8> {
    let mut out = Vec::new();
    ticks.iter().for_each(|tick| encode(tick, &mut out));
    out
}

#[test]
fn spill() {
    let tick = |symbol: &str, seq: u64, price: f64| Tick {
        symbol: symbol.into(),
        seq,
        ts: 1_700_000_000_000_000_000 + seq as i64,
        price,
        size: 100.0,
        change: price - 100.0,
        change_pct: (price - 100.0) / 100.0,
    };
    let whole =
        records(&[tick("AAPL", 1, 101.5), tick("AAPL", 2, 228.49821746914097), tick("MSFT", 9, 1e-8)]);
    let torn = whole[..whole.len() - 7].to_vec();
    let seeds = Seeds::new(
        [("three ticks", whole), ("torn at the end", torn), ("one", records(&[tick("KO", 1, 60.0)]))],
        &[
            "\"seq\"",
            "\"price\"",
            "\"1e308\"",
            "\"NaN\"",
            "\"inf\"",
            "18446744073709551615",
            "00000000 ",
            "\n",
        ],
    );
    fuzz("spill::file", cases(seeds), spill_file);
}
