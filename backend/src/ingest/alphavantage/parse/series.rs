//! `TIME_SERIES_DAILY` and `TIME_SERIES_INTRADAY`: bars by date, each
//! checked, in the order sent.

use std::collections::HashSet;
use std::fmt;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use marquee_shared::{Bar, DataSource, Validate, validate};
use serde::Deserialize;
use serde::de::{Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};

use serde_json::Value;

use super::{AlphaVantageError, Result, envelope};
use crate::ingest::cells;

/// A `TIME_SERIES_*` response, oldest bar first. Each bar's `ts` is its
/// start in ns since the epoch, UTC (daily bars: midnight UTC of the date).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub symbol: String,
    pub bars: Vec<Bar>,
}

#[derive(Deserialize)]
struct RawBar {
    #[serde(rename = "1. open")]
    open: String,
    #[serde(rename = "2. high")]
    high: String,
    #[serde(rename = "3. low")]
    low: String,
    #[serde(rename = "4. close")]
    close: String,
    #[serde(rename = "5. volume")]
    volume: String,
}

/// `TIME_SERIES_DAILY` and `TIME_SERIES_INTRADAY`. Intraday stamps are in the
/// time zone the metadata names (US/Eastern); they are converted to UTC.
/// Every bar is held to [`marquee_shared::validate`]'s limits: one poisoned
/// value refuses the reply, naming its date.
pub fn time_series(body: &str, symbol: &str) -> Result<Series> {
    let value = envelope(body)?;
    let object =
        value.as_object().ok_or_else(|| AlphaVantageError::Malformed("expected an object".into()))?;
    let meta = object.get("Meta Data").and_then(Value::as_object);
    let zone_name = meta
        .and_then(|m| m.iter().find(|(k, _)| k.ends_with("Time Zone")).map(|(_, v)| v))
        .and_then(Value::as_str)
        .unwrap_or("US/Eastern");
    let zone = TimeZone::get(zone_name)
        .map_err(|_| AlphaVantageError::Malformed(format!("unknown time zone {zone_name:?}")))?;
    if !object.keys().any(|k| k.starts_with("Time Series")) {
        return Err(if object.is_empty() {
            AlphaVantageError::UnknownSymbol(symbol.to_owned())
        } else {
            AlphaVantageError::Malformed("no \"Time Series\" in the response".into())
        });
    }
    // Read again for the series alone, as sent: a map would keep the last
    // of two entries for one date and hide the repeat.
    let entries = serde_json::from_str::<SeriesOnly>(cells::without_byte_order_mark(body))
        .map_err(|err| AlphaVantageError::Malformed(format!("time series: {err}")))?
        .0;
    let mut stamped = entries
        .into_iter()
        .map(|(stamp, raw)| match bar(&stamp, &raw, &zone, symbol) {
            Ok(bar) => Ok((stamp, bar)),
            Err(problem) => Err(AlphaVantageError::Invalid { at: stamp, problem }),
        })
        .collect::<Result<Vec<_>>>()?;
    stamped.sort_by_key(|(_, bar)| bar.ts);
    // Two stamps for one time (`13:40` and `13:40:00`) would store one bar
    // over the other.
    if let Some(pair) = stamped.windows(2).find(|w| w[0].1.ts == w[1].1.ts) {
        let (first, second) = (&pair[0].0, &pair[1].0);
        return Err(AlphaVantageError::Malformed(format!(
            "bar times {first:?} and {second:?} are the same time"
        )));
    }
    let bars: Vec<Bar> = stamped.into_iter().map(|(_, bar)| bar).collect();
    Ok(Series { symbol: symbol.to_owned(), bars })
}

/// One entry of a series as a checked bar, or what is wrong with it.
fn bar(stamp: &str, raw: &RawBar, zone: &TimeZone, symbol: &str) -> std::result::Result<Bar, String> {
    let bar = Bar {
        symbol: symbol.to_owned(),
        source: DataSource::AlphaVantage,
        ts: bar_start(stamp, zone)?,
        open: cells::number("open", &raw.open)?,
        high: cells::number("high", &raw.high)?,
        low: cells::number("low", &raw.low)?,
        close: cells::number("close", &raw.close)?,
        volume: cells::volume("volume", &raw.volume)?,
    };
    bar.validate().map_err(|invalid| invalid.to_string())?;
    Ok(bar)
}

/// `2017-12-18` (midnight UTC) or `2017-12-18 14:56:00` (in `zone`) as ns
/// since the epoch, within the accepted times.
fn bar_start(stamp: &str, zone: &TimeZone) -> std::result::Result<i64, String> {
    let bad = || format!("{stamp:?} is not a date or a date and time");
    let timestamp = if stamp.len() == 10 {
        let day = stamp.parse::<Date>().map_err(|_| bad())?;
        day.to_zoned(TimeZone::UTC).map_err(|_| bad())?.timestamp()
    } else {
        let local = stamp.parse::<DateTime>().map_err(|_| bad())?;
        local.to_zoned(zone.clone()).map_err(|_| bad())?.timestamp()
    };
    i64::try_from(timestamp.as_nanosecond())
        .ok()
        .and_then(|ts| validate::timestamp("date", ts).ok())
        .ok_or_else(|| format!("{stamp} is out of range (accepted: 1970-01-01 to 2199-12-31)"))
}

/// The entries of a reply's `Time Series (...)` object in the order sent;
/// everything else in the reply is skipped.
struct SeriesOnly(Vec<(String, RawBar)>);

impl<'de> Deserialize<'de> for SeriesOnly {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Reply;
        impl<'de> Visitor<'de> for Reply {
            type Value = SeriesOnly;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an Alpha Vantage reply")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<SeriesOnly, A::Error> {
                let mut series = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key.starts_with("Time Series") && series.is_none() {
                        series = Some(map.next_value::<Entries>()?.0);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(SeriesOnly(series.unwrap_or_default()))
            }
        }
        deserializer.deserialize_map(Reply)
    }
}

/// Bars by date, refusing a date given twice (JSON lets an object repeat a
/// key; which of the two is right cannot be known).
struct Entries(Vec<(String, RawBar)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct ByDate;
        impl<'de> Visitor<'de> for ByDate {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of bars by date")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Entries, A::Error> {
                let mut seen = HashSet::new();
                let mut entries = Vec::new();
                while let Some((stamp, bar)) = map.next_entry::<String, RawBar>()? {
                    if !seen.insert(stamp.clone()) {
                        return Err(A::Error::custom(format!("the date {stamp} appears twice")));
                    }
                    entries.push((stamp, bar));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(ByDate)
    }
}
