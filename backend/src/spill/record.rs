//! The spill file's records: one tick per line,
//! `<CRC-32 of the JSON, 8 hex digits> <the tick as JSON>\n`, its floats
//! as decimal strings: Rust prints the shortest decimal that reads back to
//! the same `f64` and reads it back exactly, where serde_json may read a
//! float one ULP off. A replayed tick is stored exactly as it was made.
//!
//! Lines, because JSON never holds a raw newline: a damaged record ends at
//! its newline and the next one is read as usual. The checksum finds a
//! record that was torn (a crash mid-write) or changed on disk; the JSON
//! then passes `shared::validate` like any value from outside. Whatever
//! fails is reported (line and reason) and skipped; nothing here panics.

use std::fmt;

use marquee_shared::{Tick, Validate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A tick as the spill writes it.
#[derive(Serialize, Deserialize)]
struct Record {
    symbol: String,
    seq: u64,
    ts: i64,
    #[serde(with = "exact")]
    price: f64,
    /// A plain JSON number: a spill written when sizes were whole reads the same.
    size: f64,
    #[serde(with = "exact")]
    change: f64,
    #[serde(with = "exact")]
    change_pct: f64,
}

/// An `f64` as the decimal string that reads back to exactly it.
mod exact {
    use super::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        let text = <&str>::deserialize(deserializer)?;
        text.parse().map_err(|_| serde::de::Error::custom(format!("{text:?} is not a number")))
    }
}

/// Appends `tick` as one record to `out`.
pub fn encode(tick: &Tick, out: &mut Vec<u8>) {
    let record = Record {
        symbol: tick.symbol.clone(),
        seq: tick.seq,
        ts: tick.ts,
        price: tick.price,
        size: tick.size,
        change: tick.change,
        change_pct: tick.change_pct,
    };
    // Plain numbers, strings and a symbol: it always serialises.
    let json = serde_json::to_vec(&record).unwrap_or_default();
    out.extend_from_slice(format!("{:08x} ", crc32fast::hash(&json)).as_bytes());
    out.extend_from_slice(&json);
    out.push(b'\n');
}

/// What a spill file held: the ticks read, and the records skipped.
#[derive(Debug, Default, PartialEq)]
pub struct Decoded {
    pub ticks: Vec<Tick>,
    pub skipped: Vec<Skipped>,
}

/// A record that was not read, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// 1-based line number in the file.
    pub line: usize,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The last record has no newline: the writer stopped mid-record.
    Torn,
    /// No `<checksum> ` prefix.
    NoChecksum,
    /// The checksum does not match the bytes.
    Checksum,
    /// The bytes match their checksum but are no tick.
    Malformed(String),
    /// A tick with a value outside its limits.
    Invalid(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Torn => f.write_str("torn record at the end of the file (no newline)"),
            Reason::NoChecksum => f.write_str("no checksum"),
            Reason::Checksum => f.write_str("checksum mismatch"),
            Reason::Malformed(err) => write!(f, "not a tick: {err}"),
            Reason::Invalid(err) => write!(f, "impossible tick: {err}"),
        }
    }
}

/// Reads every record of a spill file's bytes.
pub fn decode(bytes: &[u8]) -> Decoded {
    let mut decoded = Decoded::default();
    let mut rest = bytes;
    let mut line = 0;
    while !rest.is_empty() {
        line += 1;
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            decoded.skipped.push(Skipped { line, reason: Reason::Torn });
            break;
        };
        match record(&rest[..end]) {
            Ok(tick) => decoded.ticks.push(tick),
            Err(reason) => decoded.skipped.push(Skipped { line, reason }),
        }
        rest = &rest[end + 1..];
    }
    decoded
}

fn record(line: &[u8]) -> Result<Tick, Reason> {
    let (sum, json) = match line.split_first_chunk::<9>() {
        Some((prefix, json)) if prefix[8] == b' ' => (&prefix[..8], json),
        _ => return Err(Reason::NoChecksum),
    };
    let sum = std::str::from_utf8(sum)
        .ok()
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or(Reason::NoChecksum)?;
    if crc32fast::hash(json) != sum {
        return Err(Reason::Checksum);
    }
    let record: Record = serde_json::from_slice(json).map_err(|e| Reason::Malformed(e.to_string()))?;
    let Record { symbol, seq, ts, price, size, change, change_pct } = record;
    let tick = Tick { symbol, seq, ts, price, size, change, change_pct };
    tick.validate().map_err(|e| Reason::Invalid(e.to_string()))?;
    Ok(tick)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(symbol: &str, seq: u64) -> Tick {
        Tick {
            symbol: symbol.into(),
            seq,
            ts: 1_700_000_000_000_000_000 + seq as i64,
            price: 101.25,
            size: 300.0,
            change: 1.25,
            change_pct: 1.25,
        }
    }

    fn encoded(ticks: &[Tick]) -> Vec<u8> {
        let mut out = Vec::new();
        ticks.iter().for_each(|t| encode(t, &mut out));
        out
    }

    #[test]
    fn ticks_come_back_as_written() {
        let ticks = [tick("AAPL", 1), tick("AAPL", 2), tick("MSFT", 7)];
        let bytes = encoded(&ticks);
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 3, "one line per tick");
        assert_eq!(decode(&bytes), Decoded { ticks: ticks.to_vec(), skipped: vec![] });
    }

    #[test]
    fn floats_come_back_to_the_last_bit() {
        let mut awkward = tick("A", 1);
        for price in [228.49821746914097, 0.1 + 0.2, 1e-8, 999_999_999.999_999_9, f64::MIN_POSITIVE * 1e300] {
            awkward.price = price;
            awkward.change = -price / 3.0;
            awkward.change_pct = price.sqrt();
            let decoded = decode(&encoded(std::slice::from_ref(&awkward)));
            let back = &decoded.ticks[0];
            assert_eq!(
                (back.price.to_bits(), back.change.to_bits(), back.change_pct.to_bits()),
                (price.to_bits(), awkward.change.to_bits(), awkward.change_pct.to_bits()),
                "{price}"
            );
        }
    }

    #[test]
    fn an_empty_file_holds_nothing() {
        assert_eq!(decode(b""), Decoded::default());
    }

    #[test]
    fn a_torn_last_record_is_skipped_and_the_rest_read() {
        let bytes = encoded(&[tick("A", 1), tick("A", 2)]);
        // Every cut inside the second record: the first survives, the second is torn.
        let second = bytes.iter().position(|&b| b == b'\n').expect("newline") + 1;
        for cut in second + 1..bytes.len() {
            let decoded = decode(&bytes[..cut]);
            assert_eq!(decoded.ticks, [tick("A", 1)], "cut at {cut}");
            assert_eq!(decoded.skipped, [Skipped { line: 2, reason: Reason::Torn }], "cut at {cut}");
        }
    }

    #[test]
    fn a_changed_byte_fails_its_checksum_and_only_that_record_is_lost() {
        let mut bytes = encoded(&[tick("A", 1), tick("A", 2), tick("A", 3)]);
        let second = bytes.iter().position(|&b| b == b'\n').expect("newline") + 1;
        // "101.25" becomes "101.35" in the second record.
        let price = second + bytes[second..].windows(6).position(|w| w == b"101.25").expect("price");
        bytes[price + 4] = b'3';
        let decoded = decode(&bytes);
        assert_eq!(decoded.ticks, [tick("A", 1), tick("A", 3)]);
        assert_eq!(decoded.skipped, [Skipped { line: 2, reason: Reason::Checksum }]);
    }

    #[test]
    fn garbage_and_impossible_ticks_are_refused_with_a_reason() {
        let json = |value: &str| format!("{:08x} {value}\n", crc32fast::hash(value.as_bytes()));
        let record = encoded(&[tick("A", 1)]);
        let mut bad_seq: serde_json::Value = serde_json::from_slice(&record[9..]).expect("json");
        bad_seq["seq"] = serde_json::json!(0);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"\n");
        bytes.extend_from_slice(b"zzzzzzzz {}\n");
        bytes.extend_from_slice(json("{\"symbol\":1}").as_bytes());
        bytes.extend_from_slice(json(&bad_seq.to_string()).as_bytes());
        bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
        let decoded = decode(&bytes);
        assert!(decoded.ticks.is_empty());
        let reasons: Vec<_> = decoded.skipped.iter().map(|s| (s.line, s.reason.clone())).collect();
        assert!(matches!(reasons[0], (1, Reason::NoChecksum)), "{reasons:?}");
        assert!(matches!(reasons[1], (2, Reason::NoChecksum)), "{reasons:?}");
        assert!(matches!(reasons[2], (3, Reason::Malformed(_))), "{reasons:?}");
        assert!(matches!(&reasons[3], (4, Reason::Invalid(why)) if why.contains("seq")), "{reasons:?}");
        assert!(matches!(reasons[4], (5, Reason::NoChecksum)), "{reasons:?}");
    }
}
