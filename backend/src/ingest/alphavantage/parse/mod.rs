//! Alpha Vantage's numbered-key JSON into typed values. Pure functions over
//! the response body; the HTTP client lives beside this.
//!
//! Alpha Vantage answers HTTP 200 for failures too, so every body is first
//! checked for its `Error Message` / `Note` / `Information` envelope.

use std::collections::BTreeMap;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use marquee_shared::{Bar, DataSource};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::AlphaVantageError;

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
        let lower = info.to_ascii_lowercase();
        return Err(if lower.contains("rate limit") || lower.contains("requests per") {
            AlphaVantageError::RateLimited(info)
        } else {
            AlphaVantageError::Refused(info)
        });
    }
    if !value.is_object() {
        return Err(AlphaVantageError::Malformed("expected a JSON object".into()));
    }
    Ok(value)
}

fn typed<T: DeserializeOwned>(value: Value, what: &str) -> Result<T> {
    serde_json::from_value(value).map_err(|err| AlphaVantageError::Malformed(format!("{what}: {err}")))
}

fn number(field: &str, text: &str) -> Result<f64> {
    let trimmed = text.trim().trim_end_matches('%');
    match trimmed.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err(AlphaVantageError::Malformed(format!("{field} is not a number: {text:?}"))),
    }
}

/// A price: a number above zero (a quote of `0` or `-5` is not one, however
/// it parses).
fn price(field: &str, text: &str) -> Result<f64> {
    match number(field, text)? {
        p if p > 0.0 => Ok(p),
        _ => Err(AlphaVantageError::Malformed(format!("{field} is not a price: {text:?}"))),
    }
}

fn count(field: &str, text: &str) -> Result<u64> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| AlphaVantageError::Malformed(format!("{field} is not a count: {text:?}")))
}

fn date(field: &str, text: &str) -> Result<Date> {
    text.trim()
        .parse::<Date>()
        .map_err(|_| AlphaVantageError::Malformed(format!("{field} is not a date: {text:?}")))
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
    let Some((_, series)) = object.iter().find(|(k, _)| k.starts_with("Time Series")) else {
        return Err(if object.is_empty() {
            AlphaVantageError::UnknownSymbol(symbol.to_owned())
        } else {
            AlphaVantageError::Malformed("no \"Time Series\" in the response".into())
        });
    };
    let raw: BTreeMap<String, RawBar> = typed(series.clone(), "time series")?;
    let mut stamped = raw
        .into_iter()
        .map(|(stamp, bar)| {
            let bar = Bar {
                symbol: symbol.to_owned(),
                source: DataSource::AlphaVantage,
                ts: bar_start(&stamp, &zone)?,
                open: number("open", &bar.open)?,
                high: number("high", &bar.high)?,
                low: number("low", &bar.low)?,
                close: number("close", &bar.close)?,
                volume: count("volume", &bar.volume)?,
            };
            Ok((stamp, bar))
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
    for bar in &bars {
        if !(bar.low <= bar.open.min(bar.close) && bar.high >= bar.open.max(bar.close) && bar.low > 0.0) {
            return Err(AlphaVantageError::Malformed(format!("inconsistent bar at {}: {bar:?}", bar.ts)));
        }
    }
    Ok(Series { symbol: symbol.to_owned(), bars })
}

/// `2017-12-18` (midnight UTC) or `2017-12-18 14:56:00` (in `zone`) as ns since the epoch.
fn bar_start(stamp: &str, zone: &TimeZone) -> Result<i64> {
    let bad = || AlphaVantageError::Malformed(format!("bad bar time {stamp:?}"));
    let timestamp = if stamp.len() == 10 {
        let day = stamp.parse::<Date>().map_err(|_| bad())?;
        day.to_zoned(TimeZone::UTC).map_err(|_| bad())?.timestamp()
    } else {
        let local = stamp.parse::<DateTime>().map_err(|_| bad())?;
        local.to_zoned(zone.clone()).map_err(|_| bad())?.timestamp()
    };
    i64::try_from(timestamp.as_nanosecond()).map_err(|_| bad())
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
    Ok(GlobalQuote {
        symbol: raw.symbol,
        open: price("open", &raw.open)?,
        high: price("high", &raw.high)?,
        low: price("low", &raw.low)?,
        price: price("price", &raw.price)?,
        volume: count("volume", &raw.volume)?,
        latest_trading_day: date("latest trading day", &raw.latest_trading_day)?,
        previous_close: price("previous close", &raw.previous_close)?,
        change: number("change", &raw.change)?,
        change_percent: number("change percent", &raw.change_percent)?,
    })
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
