//! A local stand-in for Alpha Vantage on port 0. It serves the real sample
//! responses from `tests/fixtures/alphavantage` plus the failure bodies
//! Alpha Vantage really sends (all with HTTP 200), chosen by symbol:
//!
//! | symbol  | answer |
//! |---------|--------|
//! | `BAD`   | `{"Error Message": ...}` |
//! | `LIMIT` | a rate-limit `Note` the first time, then data |
//! | `HTML`  | an HTML error page |
//! | `JUNK`  | truncated JSON |
//! | `SLOW`  | data after 3 s |
//! | `E500`  | HTTP 500 |
//! | `POISON`| daily bars with a close of 1e308 on 2024-04-15 |
//! | `DAILYCAP` | the daily-quota `Information`, quoting the API key as Alpha Vantage does |
//! | other   | 30 daily bars ending at a close of `100 + symbol length` |
//!
//! Functions: TIME_SERIES_DAILY (generated: there is no recorded daily
//! sample), TIME_SERIES_INTRADAY (the recorded sample, relabelled with the
//! symbol and interval asked), GLOBAL_QUOTE, OVERVIEW, SYMBOL_SEARCH (the
//! recorded samples). Anything else gets Alpha Vantage's "Invalid API call".
//! A request without the key gets the "apikey is invalid" `Information`.
//!
//! The integration tests run it in process; the browser tests run it as
//! `examples/fake_alphavantage.rs`, which also serves `GET /requests`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;

pub const API_KEY: &str = "test-key-5f3a9c";

/// One request as the fake saw it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Seen {
    pub function: String,
    pub symbol: String,
    /// Whether it carried the key.
    pub key_ok: bool,
}

#[derive(Clone, Default)]
pub struct FakeAlphaVantage {
    /// Every request, in order.
    pub requests: Arc<Mutex<Vec<Seen>>>,
}

impl FakeAlphaVantage {
    /// Serves on a free port; returns the base URL.
    pub async fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let router = self.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}/query")
    }

    /// `/query` (any other path too, as Alpha Vantage's base URL may or may
    /// not end in it) and `GET /requests`, what it has seen.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/requests", get(|State(fake): State<FakeAlphaVantage>| async move { Json(fake.seen()) }))
            .fallback(answer)
            .with_state(self.clone())
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.requests.lock().expect("lock").clone()
    }

    /// Requests with the key that asked `function` about `symbol`.
    pub fn count(&self, function: &str, symbol: &str) -> usize {
        let requests = self.requests.lock().expect("lock");
        requests.iter().filter(|r| r.key_ok && r.function == function && r.symbol == symbol).count()
    }
}

/// The close of the last bar the fake serves for `symbol`.
pub fn latest_close(symbol: &str) -> f64 {
    100.0 + symbol.len() as f64
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/alphavantage/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn daily(symbol: &str) -> String {
    let mut days = Vec::new();
    for i in 0..30 {
        let close = latest_close(symbol) - (29 - i) as f64 * 0.5;
        days.push(format!(
            r#""2024-04-{:02}": {{"1. open": "{:.4}", "2. high": "{:.4}", "3. low": "{:.4}", "4. close": "{:.4}", "5. volume": "{}"}}"#,
            i + 1,
            close - 0.25,
            close + 1.0,
            close - 1.0,
            close,
            1_000_000 + i * 1000
        ));
    }
    format!(
        r#"{{"Meta Data": {{"1. Information": "Daily Prices", "2. Symbol": "{symbol}", "5. Time Zone": "US/Eastern"}},
            "Time Series (Daily)": {{{}}}}}"#,
        days.join(",")
    )
}

/// The recorded 1min sample, relabelled for `symbol` and `interval`.
fn intraday(symbol: &str, interval: &str) -> String {
    let text = fixture("mock_time_series.json");
    let text = relabel(&text, "2. Symbol", symbol);
    relabel(&text, "4. Interval", interval)
        .replace("Intraday (1min)", &format!("Intraday ({interval})"))
        .replace(r#""Time Series (1min)""#, &format!(r#""Time Series ({interval})""#))
}

/// `text` with the string value of `"key": "..."` replaced by `value`.
fn relabel(text: &str, key: &str, value: &str) -> String {
    let field = format!(r#""{key}": ""#);
    let Some(start) = text.find(&field).map(|at| at + field.len()) else { return text.to_owned() };
    let end = text[start..].find('"').map_or(text.len(), |len| start + len);
    format!("{}{value}{}", &text[..start], &text[end..])
}

async fn answer(
    State(fake): State<FakeAlphaVantage>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let function = query.get("function").cloned().unwrap_or_default();
    let symbol = query.get("symbol").or(query.get("keywords")).cloned().unwrap_or_default();
    let key_ok = query.get("apikey").map(String::as_str) == Some(API_KEY);
    fake.requests.lock().expect("lock").push(Seen {
        function: function.clone(),
        symbol: symbol.clone(),
        key_ok,
    });
    if !key_ok {
        return r#"{"Information": "the parameter apikey is invalid or missing."}"#.into_response();
    }
    let seen = fake.count(&function, &symbol);
    match (function.as_str(), symbol.as_str()) {
        (_, "BAD") => r#"{"Error Message": "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."}"#.into_response(),
        (_, "LIMIT") if seen == 1 => r#"{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."}"#.into_response(),
        (_, "DAILYCAP") => format!(r#"{{"Information": "We have detected your API key as {API_KEY} and our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}}"#).into_response(),
        (_, "E500") => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response(),
        (_, "HTML") => Html("<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>").into_response(),
        (_, "JUNK") => r#"{"Meta Data": {"2. Symbol": "JUNK"}, "Time Series (Daily)": {"2024-04-01": {"1. open""#.into_response(),
        ("TIME_SERIES_DAILY", "SLOW") => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            daily("SLOW").into_response()
        }
        ("TIME_SERIES_DAILY", "POISON") => {
            let poisoned = daily("POISON").replacen(r#""4. close": "98.5000""#, r#""4. close": "1e308""#, 1);
            poisoned.into_response()
        }
        ("TIME_SERIES_DAILY", symbol) => daily(symbol).into_response(),
        ("TIME_SERIES_INTRADAY", symbol) => {
            let interval = query.get("interval").map_or("1min", String::as_str);
            intraday(symbol, interval).into_response()
        }
        ("GLOBAL_QUOTE", _) => fixture("global_quote.json").into_response(),
        ("OVERVIEW", symbol) => fixture("mock_company_overview.json")
            .replace(r#""Symbol": "IBM""#, &format!(r#""Symbol": "{symbol}""#))
            .into_response(),
        ("SYMBOL_SEARCH", _) => fixture("symbol_search.json").into_response(),
        _ => r#"{"Error Message": "Invalid API call."}"#.into_response(),
    }
}
