//! Alpha Vantage's numbered-key JSON into typed values. Pure functions over
//! the response body; the HTTP client lives beside this.
//!
//! Alpha Vantage answers HTTP 200 for failures too, so every body is first
//! checked for its `Error Message` / `Note` / `Information` envelope.

use std::collections::HashSet;
use std::fmt;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use marquee_shared::{Bar, DataSource, Validate, validate};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::error::AlphaVantageError;
use crate::ingest::cells;

/// A `TIME_SERIES_*` response, oldest bar first. Each bar's `ts` is its
/// start in ns since the epoch, UTC (daily bars: midnight UTC of the date).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub symbol: String,
    pub bars: Vec<Bar>,
}

/// A `GLOBAL_QUOTE` response.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalQuote {
    pub symbol: String,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub price: f64,
    pub volume: u64,
    pub latest_trading_day: Date,
    pub previous_close: f64,
    pub change: f64,
    pub change_percent: f64,
}

/// The fields of an `OVERVIEW` response Marquee keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub symbol: String,
    pub name: String,
    pub description: String,
    pub exchange: String,
    pub currency: String,
    pub sector: String,
    pub industry: String,
    pub market_cap: Option<u64>,
}

/// One `SYMBOL_SEARCH` match.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchMatch {
    pub symbol: String,
    pub name: String,
    pub kind: String,
    pub region: String,
    pub currency: String,
    pub match_score: f64,
}

type Result<T> = std::result::Result<T, AlphaVantageError>;

/// Parses the body as JSON and turns an error envelope into its typed error.
fn envelope(body: &str) -> Result<Value> {
    let body = cells::without_byte_order_mark(body);
    let value: Value = serde_json::from_str(body).map_err(|err| {
        let start: String = body.trim_start().chars().take(40).collect();
        AlphaVantageError::Malformed(format!("not JSON ({err}); body starts {start:?}"))
    })?;
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    if let Some(message) = text("Error Message") {
        return Err(AlphaVantageError::Rejected(message));
    }
    if let Some(note) = text("Note") {
        return Err(AlphaVantageError::RateLimited(note));
    }
    if let Some(info) = text("Information") {
        return Err(information(info));
    }
    if !value.is_object() {
        return Err(AlphaVantageError::Malformed("expected a JSON object".into()));
    }
    Ok(value)
}

/// An `"Information"` reply: the daily quota ("25 requests per day"), the
/// per-minute or per-second limit (worth a retry), or a refusal (a premium
/// endpoint, an invalid key).
fn information(info: String) -> AlphaVantageError {
    let lower = info.to_ascii_lowercase();
    let per_minute = ["per minute", "per second", "spreading out", "more sparingly"];
    if per_minute.iter().any(|p| lower.contains(p)) {
        AlphaVantageError::RateLimited(info)
    } else if lower.contains("per day") || lower.contains("daily rate limit") {
        AlphaVantageError::DailyLimit { message: info, resumes: "the next day".into() }
    } else if lower.contains("rate limit") || lower.contains("requests per") {
        AlphaVantageError::RateLimited(info)
    } else {
        AlphaVantageError::Refused(info)
    }
}

fn typed<T: DeserializeOwned>(value: Value, what: &str) -> Result<T> {
    serde_json::from_value(value).map_err(|err| AlphaVantageError::Malformed(format!("{what}: {err}")))
}

fn number(field: &str, text: &str) -> Result<f64> {
    let trimmed = text.trim().trim_end_matches('%');
    match trimmed.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err(AlphaVantageError::Malformed(format!(
            "{field} is not a number: {}",
            marquee_shared::validate::quoted(text)
        ))),
    }
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

#[derive(Deserialize)]
struct RawQuote {
    #[serde(rename = "01. symbol")]
    symbol: String,
    #[serde(rename = "02. open")]
    open: String,
    #[serde(rename = "03. high")]
    high: String,
    #[serde(rename = "04. low")]
    low: String,
    #[serde(rename = "05. price")]
    price: String,
    #[serde(rename = "06. volume")]
    volume: String,
    #[serde(rename = "07. latest trading day")]
    latest_trading_day: String,
    #[serde(rename = "08. previous close")]
    previous_close: String,
    #[serde(rename = "09. change")]
    change: String,
    #[serde(rename = "10. change percent")]
    change_percent: String,
}

/// `GLOBAL_QUOTE`. An unknown symbol comes back as `{"Global Quote": {}}`.
pub fn global_quote(body: &str, symbol: &str) -> Result<GlobalQuote> {
    let mut value = envelope(body)?;
    let quote = value.get_mut("Global Quote").map(Value::take).unwrap_or(Value::Null);
    if quote.as_object().is_none_or(|o| o.is_empty()) {
        return Err(AlphaVantageError::UnknownSymbol(symbol.to_owned()));
    }
    let raw: RawQuote = typed(quote, "global quote")?;
    let checked = || -> std::result::Result<GlobalQuote, String> {
        let quote = GlobalQuote {
            symbol: raw.symbol.clone(),
            open: cells::price("open", &raw.open)?,
            high: cells::price("high", &raw.high)?,
            low: cells::price("low", &raw.low)?,
            price: cells::price("price", &raw.price)?,
            volume: cells::volume("volume", &raw.volume)?,
            latest_trading_day: raw
                .latest_trading_day
                .trim()
                .parse::<Date>()
                .map_err(|_| format!("latest trading day {:?} is not a date", raw.latest_trading_day))?,
            previous_close: cells::price("previous close", &raw.previous_close)?,
            change: cells::number("change", &raw.change)?,
            change_percent: cells::number("change percent", raw.change_percent.trim().trim_end_matches('%'))?,
        };
        validate::ohlc(quote.open, quote.high, quote.low, quote.price)
            .map_err(|invalid| invalid.to_string())?;
        Ok(quote)
    };
    checked().map_err(|problem| AlphaVantageError::Invalid { at: raw.latest_trading_day.clone(), problem })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawOverview {
    symbol: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    exchange: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    industry: String,
    #[serde(default)]
    market_capitalization: Option<String>,
}

/// `OVERVIEW`. An unknown symbol comes back as `{}`.
pub fn overview(body: &str, symbol: &str) -> Result<Overview> {
    let value = envelope(body)?;
    if value.as_object().is_some_and(|o| o.is_empty()) {
        return Err(AlphaVantageError::UnknownSymbol(symbol.to_owned()));
    }
    let raw: RawOverview = typed(value, "company overview")?;
    Ok(Overview {
        symbol: raw.symbol,
        name: raw.name,
        description: raw.description,
        exchange: raw.exchange,
        currency: raw.currency,
        sector: raw.sector,
        industry: raw.industry,
        // "None" and "-" are how Alpha Vantage says it does not know.
        market_cap: raw.market_capitalization.and_then(|m| m.parse().ok()),
    })
}

#[derive(Deserialize)]
struct RawSearch {
    #[serde(rename = "bestMatches")]
    best_matches: Vec<RawMatch>,
}

#[derive(Deserialize)]
struct RawMatch {
    #[serde(rename = "1. symbol")]
    symbol: String,
    #[serde(rename = "2. name")]
    name: String,
    #[serde(rename = "3. type")]
    kind: String,
    #[serde(rename = "4. region")]
    region: String,
    #[serde(rename = "8. currency")]
    currency: String,
    #[serde(rename = "9. matchScore")]
    match_score: String,
}

/// `SYMBOL_SEARCH`, best match first.
pub fn symbol_search(body: &str) -> Result<Vec<SearchMatch>> {
    let raw: RawSearch = typed(envelope(body)?, "symbol search")?;
    raw.best_matches
        .into_iter()
        .map(|m| {
            Ok(SearchMatch {
                match_score: number("match score", &m.match_score)?,
                symbol: m.symbol,
                name: m.name,
                kind: m.kind,
                region: m.region,
                currency: m.currency,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
