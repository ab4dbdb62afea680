//! Alpha Vantage's numbered-key JSON into typed values. Pure functions over
//! the response body; the HTTP client lives beside this.
//!
//! Alpha Vantage answers HTTP 200 for failures too, so every body is first
//! checked for its `Error Message` / `Note` / `Information` envelope.

use jiff::civil::Date;
use marquee_shared::validate;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::AlphaVantageError;
use crate::ingest::cells;

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

mod series;
#[cfg(test)]
mod tests;

pub use series::{Series, time_series};
