//! REST query strings, path parameters and bodies, through the API's own
//! extractors and parameter checks: whatever a client sends is answered
//! with a 4xx and a stable code, never a 5xx, and what passes is in range.

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use futures_util::FutureExt;
use marquee_shared::{FetchRequest, SpeedRequest};
use serde::de::DeserializeOwned;
use tower::ServiceExt;

use super::{Seeds, fuzz, inputs::cases};
use crate::gateway::api::ApiError;
use crate::gateway::api::extract::{self, Json, Path, Query};
use crate::gateway::api::history::BarParams;
use crate::gateway::api::import::ImportParams;
use crate::gateway::api::market::LimitParams;
use crate::gateway::api::params;
use crate::ingest::fetch::{self, MAX_SYMBOLS};

/// A client's mistake: a 4xx with one of `codes`.
fn refused(err: &ApiError, codes: &[&str]) {
    assert!(
        err.status().is_client_error() && codes.contains(&err.code()),
        "{err:?}, expected one of {codes:?}"
    );
}

/// The bytes as a URI would carry them: URI characters as they are (stray
/// `%` included), the rest percent-encoded, as a client library would.
fn uri_part(bytes: &[u8], keep: &[u8]) -> String {
    let mut part = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            part.push(char::from(byte));
        } else {
            part.push_str(&format!("%{byte:02X}"));
        }
    }
    part
}

fn query<T: DeserializeOwned>(parts: &mut Parts) -> Option<T> {
    let read = Query::<T>::from_request_parts(parts, &()).now_or_never();
    match read.expect("a query string is read without waiting") {
        Ok(Query(value)) => Some(value),
        Err(err) => {
            refused(&err, &["bad_query"]);
            None
        }
    }
}

fn limit_in_range(raw: Option<usize>, default: usize, max: usize) {
    match params::limit(raw, default, max) {
        Ok(n) => assert!((1..=max).contains(&n), "limit {n} from {raw:?}"),
        Err(err) => refused(&err, &["bad_limit"]),
    }
}

fn time_bound(name: &str, raw: Option<&str>) {
    if let Err(err) = params::time_bound(name, raw) {
        refused(&err, &["bad_time"]);
    }
}

fn symbol(raw: &str) {
    match params::symbol(raw) {
        Ok(symbol) => assert_eq!(params::symbol(&symbol).ok().as_ref(), Some(&symbol), "from {raw:?}"),
        Err(err) => refused(&err, &["bad_symbol"]),
    }
}

fn query_string(bytes: &[u8]) {
    let query_string = uri_part(bytes, b"-._~!$&'()*+,;=:@/?%");
    // A request line the HTTP layer would refuse never reaches the extractors.
    let Ok(request) = Request::get(format!("/api/v1/bars/IBM?{query_string}")).body(Body::empty()) else {
        return;
    };
    let (mut parts, _) = request.into_parts();
    if let Some(bars) = query::<BarParams>(&mut parts) {
        limit_in_range(bars.limit, 100, 5_000);
        time_bound("from", bars.from.as_deref());
        time_bound("to", bars.to.as_deref());
    }
    if let Some(recent) = query::<LimitParams>(&mut parts) {
        limit_in_range(recent.limit, 50, 1_000);
    }
    if let Some(ImportParams { symbol: Some(raw), .. }) = query::<ImportParams>(&mut parts) {
        symbol(&raw);
    }
}

#[test]
fn query_strings() {
    let seeds = Seeds::new(
        [
            (
                "bars",
                b"interval=5m&from=2024-05-01&to=2024-05-02T10:00:00Z&limit=100&indicators=true".to_vec(),
            ),
            (
                "nanoseconds",
                b"interval=1min&from=1700000000000000000&to=&limit=5000&indicators=false".to_vec(),
            ),
            ("limit", b"limit=1".to_vec()),
            ("import", b"symbol=brk.b".to_vec()),
            ("encoded", b"symbol=%20ibm%20&from=2024-05-01T00%3A00%3A00%2B02%3A00".to_vec()),
        ],
        &["interval", "from", "to", "limit", "indicators", "symbol", "=true", "=false", "=0", "=5001"],
    );
    fuzz("rest::query_strings", cases(seeds), query_string);
}

async fn quote(Path(raw): Path<String>) -> Result<String, ApiError> {
    params::symbol(&raw)
}

thread_local! {
    /// A route with a symbol in its path, as the API's read endpoints have.
    static ROUTER: Router = Router::new().route("/quotes/{symbol}", get(quote));
}

fn path_segment(bytes: &[u8]) {
    let segment = uri_part(bytes, b"-._~!$&'()*+,;=:@%");
    let Ok(request) = Request::get(format!("/quotes/{segment}")).body(Body::empty()) else { return };
    let router = ROUTER.with(Router::clone);
    let answered = router.oneshot(request).now_or_never().expect("a path is read without waiting");
    let response = answered.unwrap_or_else(|never| match never {});
    let status = response.status();
    // An error quotes the parameter back, escaped: up to 10 bytes for each byte of it.
    let body = axum::body::to_bytes(response.into_body(), 10 * segment.len() + 1024).now_or_never();
    let body = body.expect("a whole body").expect("a body within bounds");
    match status {
        StatusCode::OK => {
            let symbol = std::str::from_utf8(&body).expect("UTF-8");
            assert_eq!(params::symbol(symbol).ok().as_deref(), Some(symbol), "from {segment:?}");
        }
        // An empty segment matches no route.
        StatusCode::NOT_FOUND => assert!(segment.is_empty(), "404 for {segment:?}"),
        _ => {
            let error: marquee_shared::ApiError = serde_json::from_slice(&body).expect("a JSON error");
            let code = error.error.code;
            assert!(
                status == StatusCode::BAD_REQUEST && ["bad_path", "bad_symbol"].contains(&code.as_str()),
                "{status} {code} for {segment:?}"
            );
        }
    }
}

#[test]
fn path_parameters() {
    let seeds = Seeds::new(
        [("symbol", b"IBM".to_vec()), ("dotted", b"brk.b".to_vec()), ("encoded", b"%E2%82%AC%20x".to_vec())],
        &["%FF", "%C3%A9", "%2F", ".."],
    );
    fuzz("rest::path_parameters", cases(seeds), path_segment);
}

fn json<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let request = Request::post("/api/v1/fetch")
        .header("content-type", "application/json")
        .body(Body::from(bytes.to_vec()))
        .expect("a request");
    let read = Json::<T>::from_request(request, &()).now_or_never();
    match read.expect("a whole body is read without waiting") {
        Ok(Json(value)) => Some(value),
        Err(err) => {
            refused(&err, &["bad_body"]);
            None
        }
    }
}

fn body(bytes: &[u8]) {
    match extract::utf8(bytes) {
        Ok(text) => assert_eq!(text.as_ptr(), bytes.as_ptr(), "the text is the body itself"),
        Err(err) => {
            refused(&err, &["bad_encoding"]);
            assert!(std::str::from_utf8(bytes).is_err());
        }
    }
    if let Some(request) = json::<FetchRequest>(bytes)
        && let Ok(symbols) = fetch::validate(&request.symbols)
    {
        assert!((1..=MAX_SYMBOLS).contains(&symbols.len()), "{symbols:?}");
        let unique: std::collections::BTreeSet<_> = symbols.iter().collect();
        assert_eq!(unique.len(), symbols.len(), "{symbols:?}");
        for s in &symbols {
            assert_eq!(params::symbol(s).ok().as_ref(), Some(s));
        }
    }
    if let Some(SpeedRequest { speed }) = json::<SpeedRequest>(bytes) {
        assert!(speed.is_finite(), "{speed}");
    }
}

#[test]
fn bodies() {
    let seeds = Seeds::new(
        [
            ("fetch", br#"{"symbols":["IBM","msft","IBM"],"outputsize":"full","intraday":"5min"}"#.to_vec()),
            ("fetch compact", br#"{"symbols":["BRK.B"]}"#.to_vec()),
            ("speed", br#"{"speed":2.5}"#.to_vec()),
        ],
        &["symbols", "outputsize", "compact", "full", "intraday", "1min", "60min", "speed"],
    );
    fuzz("rest::bodies", cases(seeds), body);
}
