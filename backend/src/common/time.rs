//! Wall-clock time as the wire wants it.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch, UTC. A clock before 1970 reads as 0.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A time as people write it: ns since the epoch, an RFC 3339 time, or a
/// date (its UTC midnight); as ns since the epoch. `None` when it is none
/// of these (or outside what an `i64` of ns holds).
pub fn parse_instant(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if let Ok(ns) = raw.parse::<i64>() {
        return Some(ns);
    }
    let timestamp = raw.parse::<jiff::Timestamp>().ok().or_else(|| {
        let date = raw.parse::<jiff::civil::Date>().ok()?;
        date.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
    })?;
    i64::try_from(timestamp.as_nanosecond()).ok()
}

/// ns since the epoch as an RFC 3339 time in UTC, to the second when it
/// has no fraction (`2026-12-07T10:00:00Z`).
pub fn format_rfc3339(ns: i64) -> String {
    match jiff::Timestamp::from_nanosecond(i128::from(ns)) {
        Ok(time) => time.to_string(),
        Err(_) => ns.to_string(),
    }
}
