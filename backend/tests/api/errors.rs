//! The REST edge keeps its promises: every mistake a client can make gets a
//! 4xx with a JSON `{"error": {"code", "message"}}` (the dashboard's files
//! get a plain 404), bodies are bounded per route, and the operator token is
//! checked before a byte of the body is read.

use std::time::{Duration, Instant};

use crate::helpers::{RawBody, TestApp, assert_error, config, spawn_app};
use marquee::config::Secret;
use marquee::gateway::api::{CONTROL_BODY, IMPORT_BODY};

const JSON: Option<&str> = Some("application/json");

/// A request (method, target, Content-Type, body) and the status and error
/// code it must get.
type Row = (&'static str, String, Option<&'static str>, RawBody, u16, &'static str);

/// A server with a built dashboard, so static paths reach the file server.
async fn app_with_dashboard(mut config: marquee::Config) -> (TestApp, tempfile::TempDir) {
    let dist = tempfile::tempdir().expect("tempdir");
    std::fs::write(dist.path().join("index.html"), "<html>dashboard</html>").expect("index");
    config.static_dir = dist.path().to_path_buf();
    (spawn_app(config).await, dist)
}

#[test]
fn the_documented_body_limits() {
    assert_eq!(IMPORT_BODY, 16 * 1024 * 1024);
    assert_eq!(CONTROL_BODY, 64 * 1024);
}

#[tokio::test]
async fn every_route_answers_a_bad_request_with_a_json_error() {
    crate::logs::capture();
    let (app, _dist) = app_with_dashboard(config(5)).await;
    let json = |text: &str| RawBody::Full(text.as_bytes().to_vec());
    let over_control =
        || RawBody::Full(format!("{{\"speed\": 2, \"pad\": \"{}\"}}", "x".repeat(CONTROL_BODY)).into_bytes());
    let announced = |bytes: usize| RawBody::Stalled { announced: bytes as u64, sent: 0 };
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        // Reads: wrong method, bad paths, bad query values.
        ("POST", "/api/v1/symbols".into(), None, RawBody::None, 405, "method_not_allowed"),
        ("GET", "/api/v1/quotes/%FF".into(), None, RawBody::None, 400, "bad_path"),
        ("GET", "/api/v1/quotes/%ZZ".into(), None, RawBody::None, 400, "bad_symbol"),
        ("GET", "/api/v1/quotes/NOSUCH".into(), None, RawBody::None, 404, "unknown_symbol"),
        ("DELETE", "/api/v1/quotes/AAPL".into(), None, RawBody::None, 405, "method_not_allowed"),
        ("GET", "/api/v1/bars/%FF".into(), None, RawBody::None, 400, "bad_path"),
        ("GET", "/api/v1/bars/AAPL?limit=-1".into(), None, RawBody::None, 400, "bad_query"),
        ("GET", "/api/v1/bars/AAPL?limit=abc".into(), None, RawBody::None, 400, "bad_query"),
        ("GET", "/api/v1/bars/AAPL?limit=0".into(), None, RawBody::None, 400, "bad_limit"),
        ("GET", "/api/v1/bars/AAPL?indicators=maybe".into(), None, RawBody::None, 400, "bad_query"),
        ("GET", "/api/v1/bars/AAPL?interval=7m".into(), None, RawBody::None, 400, "bad_interval"),
        ("GET", "/api/v1/bars/AAPL?from=yesterday".into(), None, RawBody::None, 400, "bad_time"),
        ("GET", "/api/v1/bars/AAPL?to=soon".into(), None, RawBody::None, 400, "bad_time"),
        ("GET", "/api/v1/companies/%FF".into(), None, RawBody::None, 400, "bad_path"),
        ("GET", "/api/v1/companies/A%20B".into(), None, RawBody::None, 400, "bad_symbol"),
        ("GET", "/api/v1/ticks/%FF".into(), None, RawBody::None, 400, "bad_path"),
        ("GET", "/api/v1/ticks/AAPL?limit=abc".into(), None, RawBody::None, 400, "bad_query"),
        ("GET", "/api/v1/events?limit=-1".into(), None, RawBody::None, 400, "bad_query"),
        ("GET", "/api/v1/events?limit=1000000".into(), None, RawBody::None, 400, "bad_limit"),
        ("GET", "/api/v1/indicators/%FF".into(), None, RawBody::None, 400, "bad_path"),
        ("GET", "/api/v1/indicators/AAPL?limit=abc".into(), None, RawBody::None, 400, "bad_query"),
        ("GET", "/api/v1/indicators/AAPL?interval=1w".into(), None, RawBody::None, 400, "bad_interval"),
        ("GET", "/api/v1/alerts?limit=abc".into(), None, RawBody::None, 400, "bad_query"),
        ("DELETE", "/api/v1/simulation".into(), None, RawBody::None, 405, "method_not_allowed"),
        // Fetch jobs.
        ("POST", "/api/v1/fetch".into(), JSON, json("{\"symbols\": [\"IBM\""), 400, "bad_body"),
        ("POST", "/api/v1/fetch".into(), Some("text/plain"), json("{\"symbols\": [\"IBM\"]}"), 415, "bad_body"),
        ("POST", "/api/v1/fetch".into(), None, json("{\"symbols\": [\"IBM\"]}"), 415, "bad_body"),
        ("POST", "/api/v1/fetch".into(), JSON, json("{}"), 422, "bad_body"),
        ("POST", "/api/v1/fetch".into(), JSON, json("{\"symbols\": \"IBM\"}"), 422, "bad_body"),
        ("POST", "/api/v1/fetch".into(), JSON, announced(CONTROL_BODY + 1), 413, "too_large"),
        ("POST", "/api/v1/fetch".into(), JSON, RawBody::Chunked(CONTROL_BODY + 1), 413, "too_large"),
        ("GET", "/api/v1/fetch".into(), None, RawBody::None, 405, "method_not_allowed"),
        ("GET", "/api/v1/fetch/%FF".into(), None, RawBody::None, 400, "bad_path"),
        ("GET", "/api/v1/fetch/no-such-job".into(), None, RawBody::None, 404, "unknown_job"),
        ("POST", "/api/v1/fetch/no-such-job".into(), None, RawBody::None, 405, "method_not_allowed"),
        // Imports.
        ("POST", "/api/v1/import".into(), Some("text/csv"), json("date,close\n"), 400, "bad_symbol"),
        ("POST", "/api/v1/import?symbol=ACME".into(), Some("text/csv"), RawBody::Full(b"date,open\n2024-05-01,\xff\xfe\n".to_vec()), 400, "bad_encoding"),
        ("POST", "/api/v1/import?symbol=ACME".into(), Some("text/csv"), announced(IMPORT_BODY + 1), 413, "too_large"),
        ("POST", "/api/v1/import?symbol=ACME".into(), Some("text/csv"), RawBody::Chunked(IMPORT_BODY + 1), 413, "too_large"),
        ("GET", "/api/v1/import".into(), None, RawBody::None, 405, "method_not_allowed"),
        // Simulation actions and speed.
        ("POST", "/api/v1/simulation/%FF".into(), None, RawBody::None, 400, "bad_path"),
        ("POST", "/api/v1/simulation/jump".into(), None, RawBody::None, 404, "not_found"),
        ("POST", "/api/v1/simulation/pause".into(), JSON, over_control(), 413, "too_large"),
        ("GET", "/api/v1/simulation/pause".into(), None, RawBody::None, 405, "method_not_allowed"),
        ("PUT", "/api/v1/simulation/speed".into(), JSON, json("{\"speed\": "), 400, "bad_body"),
        ("PUT", "/api/v1/simulation/speed".into(), JSON, json("{\"speed\": \"fast\"}"), 422, "bad_body"),
        ("PUT", "/api/v1/simulation/speed".into(), JSON, json("{}"), 422, "bad_body"),
        ("PUT", "/api/v1/simulation/speed".into(), Some("text/plain"), json("{\"speed\": 2}"), 415, "bad_body"),
        ("PUT", "/api/v1/simulation/speed".into(), JSON, over_control(), 413, "too_large"),
        ("PUT", "/api/v1/simulation/speed".into(), JSON, RawBody::Chunked(CONTROL_BODY + 1), 413, "too_large"),
        ("POST", "/api/v1/simulation/speed".into(), JSON, json("{\"speed\": 2}"), 405, "method_not_allowed"),
        // No such endpoint.
        ("GET", "/api/v1/nothing-here".into(), None, RawBody::None, 404, "not_found"),
        ("GET", "/api/v1/quotes".into(), None, RawBody::None, 404, "not_found"),
        ("GET", "/api/v1/quotes/AAPL/more".into(), None, RawBody::None, 404, "not_found"),
        ("GET", format!("/api/v1/{}", "a".repeat(300)), None, RawBody::None, 404, "not_found"),
        ("GET", "/api/v2/symbols".into(), None, RawBody::None, 404, "not_found"),
        ("GET", "/api".into(), None, RawBody::None, 404, "not_found"),
        // The server's own routes.
        ("POST", "/health".into(), None, RawBody::None, 405, "method_not_allowed"),
        ("DELETE", "/metrics".into(), None, RawBody::None, 405, "method_not_allowed"),
        ("POST", "/ws".into(), None, RawBody::None, 405, "method_not_allowed"),
        ("GET", "/ws".into(), None, RawBody::None, 400, "not_websocket"),
    ];
    for (method, target, content_type, body, status, code) in rows {
        let what = format!("{method} {}", &target[..target.len().min(80)]);
        let headers: Vec<(&str, &str)> = content_type.map(|c| ("Content-Type", c)).into_iter().collect();
        let answer = app.raw(method, &target, &headers, body).await;
        assert_error(&answer, status, code, &what);
        if status == 405 {
            assert!(answer.header("allow").is_some_and(|a| !a.is_empty()), "{what}: no Allow header");
        }
    }

    // The dashboard's files: a path no file can have is 404, never a 500.
    let impossible = [
        format!("/{}", "a".repeat(300)),
        format!("/assets/{}.js", "b".repeat(300)),
        "/ab".repeat(2_000),
        "/%FF".into(),
        "/a%00b".into(),
    ];
    for target in impossible {
        let answer = app.raw("GET", &target, &[], RawBody::None).await;
        assert_eq!(answer.status, 404, "GET {}", &target[..target.len().min(80)]);
    }
    let index = app.raw("GET", "/symbols/AAPL", &[], RawBody::None).await;
    assert_eq!((index.status, index.body.as_slice()), (200, b"<html>dashboard</html>".as_slice()));

    app.stop().await.expect("clean stop");
    // A client's mistake is not the server's error.
    crate::logs::assert_absent("Failed to read file");
    crate::logs::assert_absent("internal error while serving a request");
    crate::logs::assert_absent("cannot read a dashboard file");
}

#[tokio::test]
async fn the_operator_token_is_checked_before_the_body_is_read() {
    let mut config = config(5);
    config.secrets.operator_token = Some(Secret::new("open-sesame"));
    let app = spawn_app(config).await;
    let csv = [("Content-Type", "text/csv")];
    let with_token = [("Content-Type", "text/csv"), ("Authorization", "Bearer open-sesame")];
    // 100 MB announced, 4 KiB sent, then silence: only an answer that does
    // not wait for the body comes back in time.
    let stalled = || RawBody::Stalled { announced: 100_000_000, sent: 4096 };

    let started = Instant::now();
    let denied = app.raw("POST", "/api/v1/import?symbol=ACME", &csv, stalled()).await;
    assert!(started.elapsed() < Duration::from_secs(1), "401 took {:?}", started.elapsed());
    assert_error(&denied, 401, "unauthorized", "an import without the token");

    let started = Instant::now();
    let too_large = app.raw("POST", "/api/v1/import?symbol=ACME", &with_token, stalled()).await;
    assert!(started.elapsed() < Duration::from_secs(1), "413 took {:?}", started.elapsed());
    assert_error(&too_large, 413, "too_large", "an import with the token, over 16 MiB");
    let announced = RawBody::Stalled { announced: IMPORT_BODY as u64 + 1, sent: 0 };
    let just_over = app.raw("POST", "/api/v1/import?symbol=ACME", &with_token, announced).await;
    assert_error(&just_over, 413, "too_large", "an import one byte over 16 MiB");

    // The token comes first on every operator route, whatever the body.
    let json = [("Content-Type", "application/json")];
    let malformed = || RawBody::Full(b"{\"speed\": ".to_vec());
    for (method, path) in [
        ("POST", "/api/v1/fetch"),
        ("PUT", "/api/v1/simulation/speed"),
        ("POST", "/api/v1/simulation/pause"),
        ("POST", "/api/v1/simulation/%FF"),
    ] {
        let answer = app.raw(method, path, &json, malformed()).await;
        assert_error(&answer, 401, "unauthorized", &format!("{method} {path} without the token"));
    }
    // With it, the body is read and judged.
    let json_with_token = [("Content-Type", "application/json"), ("Authorization", "Bearer open-sesame")];
    let answer = app.raw("PUT", "/api/v1/simulation/speed", &json_with_token, malformed()).await;
    assert_error(&answer, 400, "bad_body", "malformed JSON with the token");
    // Reads stay open, and a wrong method is 405 whoever asks.
    let answer = app.raw("GET", "/api/v1/import", &[], RawBody::None).await;
    assert_error(&answer, 405, "method_not_allowed", "GET /api/v1/import");
    app.stop().await.expect("clean stop");
}
