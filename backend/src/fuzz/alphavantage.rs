//! Alpha Vantage replies: global quote, intraday and daily series, company
//! overview and symbol search, seeded with the real sample responses and
//! the failure envelopes Alpha Vantage answers HTTP 200 with.

use std::sync::Arc;

use marquee_shared::DataSource;

use super::{Seeds, fixture, fuzz, inputs::cases};
use crate::ingest::alphavantage::parse;

/// The envelopes every reply may be instead (rate limit, refusal, error).
fn envelopes() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("error message", br#"{"Error Message": "Invalid API call."}"#.to_vec()),
        ("note", br#"{"Note": "Our standard API call frequency is 5 calls per minute."}"#.to_vec()),
        (
            "information",
            br#"{"Information": "Our standard API rate limit is 25 requests per day."}"#.to_vec(),
        ),
    ]
}

fn seeds(own: Vec<(&'static str, Vec<u8>)>, words: &[&str]) -> Arc<Seeds> {
    Seeds::new(own.into_iter().chain(envelopes()), words)
}

/// The body as the client reads it: text (it refuses bytes that are not
/// UTF-8 before parsing; the replacement characters stand in for them).
fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn global_quote_reply(bytes: &[u8]) {
    let Ok(quote) = parse::global_quote(&text(bytes), "MSFT") else { return };
    for (field, price) in [
        ("open", quote.open),
        ("high", quote.high),
        ("low", quote.low),
        ("price", quote.price),
        ("previous close", quote.previous_close),
    ] {
        assert!(price.is_finite() && price > 0.0, "{field} {price} accepted: {quote:?}");
    }
    assert!(quote.change.is_finite() && quote.change_percent.is_finite(), "{quote:?}");
}

#[test]
fn global_quote() {
    let seeds =
        seeds(vec![("global_quote.json", fixture("alphavantage/global_quote.json"))], &["Global Quote"]);
    fuzz("alphavantage::global_quote", cases(seeds), global_quote_reply);
}

fn time_series_reply(bytes: &[u8]) {
    let Ok(series) = parse::time_series(&text(bytes), "MSFT") else { return };
    assert_eq!(series.symbol, "MSFT");
    for pair in series.bars.windows(2) {
        assert!(pair[0].ts < pair[1].ts, "bars out of order or twice at one time: {pair:?}");
    }
    for bar in &series.bars {
        let prices = [bar.open, bar.high, bar.low, bar.close];
        assert!(prices.iter().all(|p| p.is_finite() && *p > 0.0), "{bar:?}");
        assert!(bar.low <= bar.open.min(bar.close) && bar.high >= bar.open.max(bar.close), "{bar:?}");
        assert_eq!((bar.symbol.as_str(), bar.source), ("MSFT", DataSource::AlphaVantage));
    }
}

/// Three days of `TIME_SERIES_DAILY`, and the intraday sample cut to three bars
/// (small seeds run faster; the whole sample is a seed too).
fn short_series() -> Vec<(&'static str, Vec<u8>)> {
    let daily = br#"{"Meta Data": {"1. Information": "Daily Prices", "2. Symbol": "IBM", "5. Time Zone": "US/Eastern"},
        "Time Series (Daily)": {
        "2024-05-03": {"1. open": "11", "2. high": "12.5", "3. low": "10.75", "4. close": "12", "5. volume": "300"},
        "2024-05-02": {"1. open": "10", "2. high": "12", "3. low": "9", "4. close": "11", "5. volume": "100"},
        "2024-05-01": {"1. open": "9", "2. high": "10", "3. low": "8", "4. close": "10", "5. volume": "50"}}}"#;
    let intraday = br#"{"Meta Data": {"2. Symbol": "MSFT", "6. Time Zone": "US/Eastern"},
        "Time Series (5min)": {
        "2017-12-18 14:55:00": {"1. open": "86.49", "2. high": "86.5", "3. low": "86.475", "4. close": "86.5", "5. volume": "10494"},
        "2017-12-18 14:50:00": {"1. open": "86.48", "2. high": "86.5", "3. low": "86.47", "4. close": "86.49", "5. volume": "7532"},
        "2017-11-05 01:30:00": {"1. open": "83", "2. high": "84", "3. low": "82.5", "4. close": "83.5", "5. volume": "1"}}}"#;
    vec![("daily series", daily.to_vec()), ("intraday series", intraday.to_vec())]
}

#[test]
fn time_series() {
    let mut own = short_series();
    own.push(("mock_time_series.json", fixture("alphavantage/mock_time_series.json")));
    let seeds = seeds(own, &["Time Series (Daily)", "Time Series (1min)", "6. Time Zone", "Meta Data"]);
    fuzz("alphavantage::time_series", cases(seeds), time_series_reply);
}

fn overview_reply(bytes: &[u8]) {
    if let Err(err) = parse::overview(&text(bytes), "IBM") {
        // Every refusal explains itself (and formatting it never panics).
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn overview() {
    let seeds = seeds(
        vec![("mock_company_overview.json", fixture("alphavantage/mock_company_overview.json"))],
        &["None"],
    );
    fuzz("alphavantage::overview", cases(seeds), overview_reply);
}

fn symbol_search_reply(bytes: &[u8]) {
    let Ok(matches) = parse::symbol_search(&text(bytes)) else { return };
    assert!(matches.iter().all(|m| m.match_score.is_finite()), "{matches:?}");
}

#[test]
fn symbol_search() {
    let seeds =
        seeds(vec![("symbol_search.json", fixture("alphavantage/symbol_search.json"))], &["bestMatches"]);
    fuzz("alphavantage::symbol_search", cases(seeds), symbol_search_reply);
}
