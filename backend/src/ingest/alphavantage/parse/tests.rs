use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/alphavantage/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn intraday_series_is_parsed_oldest_first_in_utc() {
    let series = time_series(&fixture("mock_time_series.json"), "MSFT").expect("series");
    assert_eq!(series.symbol, "MSFT");
    assert!(series.bars.len() >= 20, "{} bars", series.bars.len());
    assert!(series.bars.windows(2).all(|w| w[0].ts < w[1].ts));
    let last = series.bars.last().expect("a bar");
    // 2017-12-18 14:56:00 US/Eastern (EST, UTC-5) = 19:56:00 UTC.
    let expected: i64 = "2017-12-18T19:56:00Z".parse::<jiff::Timestamp>().expect("ts").as_nanosecond() as i64;
    assert_eq!(last.ts, expected);
    assert_eq!((last.open, last.high, last.low, last.close, last.volume), (86.49, 86.5, 86.475, 86.5, 10494));
}

#[test]
fn daily_series_dates_are_midnight_utc() {
    let body = r#"{"Meta Data": {"2. Symbol": "IBM"}, "Time Series (Daily)": {
        "2024-05-02": {"1. open": "10", "2. high": "12", "3. low": "9", "4. close": "11", "5. volume": "100"},
        "2024-05-01": {"1. open": "9", "2. high": "10", "3. low": "8", "4. close": "10", "5. volume": "50"}}}"#;
    let series = time_series(body, "IBM").expect("series");
    let first: i64 = "2024-05-01T00:00:00Z".parse::<jiff::Timestamp>().expect("ts").as_nanosecond() as i64;
    assert_eq!(series.bars.iter().map(|b| b.ts).collect::<Vec<_>>(), [first, first + 86_400 * 1_000_000_000]);
}

#[test]
fn global_quote_fixture() {
    let quote = global_quote(&fixture("global_quote.json"), "MSFT").expect("quote");
    assert_eq!(quote.symbol, "MSFT");
    assert_eq!(quote.price, 112.13);
    assert_eq!(quote.volume, 29_062_853);
    assert_eq!(quote.latest_trading_day.to_string(), "2018-10-05");
    assert_eq!(quote.change_percent, -0.5852);
}

#[test]
fn overview_fixture() {
    let company = overview(&fixture("mock_company_overview.json"), "IBM").expect("overview");
    assert_eq!(company.name, "International Business Machines Corporation");
    assert_eq!((company.exchange.as_str(), company.sector.as_str()), ("NYSE", "Technology"));
    assert_eq!(company.market_cap, Some(114_234_572_800));
}

#[test]
fn symbol_search_fixture() {
    let matches = symbol_search(&fixture("symbol_search.json")).expect("search");
    assert_eq!(matches[0].symbol, "BA");
    assert_eq!(matches[0].match_score, 1.0);
    assert!(matches.iter().any(|m| m.currency == "HKD"));
}

#[test]
fn error_envelopes_become_typed_errors() {
    let rejected = r#"{"Error Message": "Invalid API call. Please retry or visit the documentation."}"#;
    assert!(matches!(time_series(rejected, "X"), Err(AlphaVantageError::Rejected(_))));
    let note = r#"{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute."}"#;
    assert!(matches!(global_quote(note, "X"), Err(AlphaVantageError::RateLimited(_))));
    let limit = r#"{"Information": "Our standard API rate limit is 25 requests per day."}"#;
    assert!(matches!(overview(limit, "X"), Err(AlphaVantageError::RateLimited(_))));
    let premium = r#"{"Information": "This is a premium endpoint."}"#;
    assert!(matches!(overview(premium, "X"), Err(AlphaVantageError::Refused(_))));
}

#[test]
fn unknown_symbols_and_garbage_are_told_apart() {
    assert_eq!(overview("{}", "NOPE"), Err(AlphaVantageError::UnknownSymbol("NOPE".into())));
    assert_eq!(
        global_quote(r#"{"Global Quote": {}}"#, "NOPE"),
        Err(AlphaVantageError::UnknownSymbol("NOPE".into()))
    );
    assert_eq!(time_series("{}", "NOPE"), Err(AlphaVantageError::UnknownSymbol("NOPE".into())));
    for body in ["<html><body>502 Bad Gateway</body></html>", "", "[1,2]", r#"{"Time Series (Daily)": 7}"#] {
        assert!(matches!(time_series(body, "X"), Err(AlphaVantageError::Malformed(_))), "{body:?}");
    }
    let bad_number = r#"{"Time Series (Daily)": {"2024-05-01": {"1. open": "abc", "2. high": "1", "3. low": "1", "4. close": "1", "5. volume": "1"}}}"#;
    assert!(
        matches!(time_series(bad_number, "X"), Err(AlphaVantageError::Malformed(m)) if m.contains("open"))
    );
    let inconsistent = r#"{"Time Series (Daily)": {"2024-05-01": {"1. open": "5", "2. high": "4", "3. low": "1", "4. close": "2", "5. volume": "1"}}}"#;
    assert!(matches!(time_series(inconsistent, "X"), Err(AlphaVantageError::Malformed(_))));
}

/// Found by fuzzing (`fuzz::alphavantage::global_quote`): a quote of 0 or
/// below parsed as a price.
#[test]
fn a_quote_without_a_positive_price_is_malformed() {
    let quote = fixture("global_quote.json");
    for (field, bad) in [("02. open", "0"), ("05. price", "-112.13"), ("08. previous close", "-0")] {
        let mut value: serde_json::Value = serde_json::from_str(&quote).expect("json");
        value["Global Quote"][field] = serde_json::Value::from(bad);
        let parsed = global_quote(&value.to_string(), "MSFT");
        assert!(
            matches!(&parsed, Err(AlphaVantageError::Malformed(m)) if m.contains("not a price")),
            "{field} {bad}: {parsed:?}"
        );
    }
}

/// Found by fuzzing (`fuzz::alphavantage::time_series`): two stamps for
/// one time parsed as two bars at the same `ts`, one of which the store
/// would silently drop.
#[test]
fn two_bars_at_the_same_time_are_malformed() {
    let bar = r#"{"1. open": "10", "2. high": "12", "3. low": "9", "4. close": "11", "5. volume": "100"}"#;
    let body =
        format!(r#"{{"Time Series (1min)": {{"2017-12-18 13:40": {bar}, "2017-12-18 13:40:00": {bar}}}}}"#);
    let parsed = time_series(&body, "MSFT");
    assert!(matches!(&parsed, Err(AlphaVantageError::Malformed(m)) if m.contains("same time")), "{parsed:?}");
}
