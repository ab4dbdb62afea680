//! Browser-side safety: a page on another site cannot drive the server
//! through a visitor's browser, with or without a token configured, and a
//! name rebound to 127.0.0.1 does not make it same-origin.

use futures_util::StreamExt;
use marquee_shared::{ServerMessage, SimulationState};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::{RawBody, TestApp, assert_error, config, spawn_app};

async fn simulation(app: &TestApp) -> SimulationState {
    app.get_json("/api/v1/simulation", 200).await
}

async fn running(app: &TestApp) {
    for _ in 0..100 {
        if matches!(simulation(app).await, SimulationState::Running { .. }) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the simulation never ran");
}

#[tokio::test]
async fn a_cross_origin_post_is_refused_and_changes_nothing() {
    let app = spawn_app(config(5)).await;
    running(&app).await;
    for origin in ["https://evil.example", "null", "http://127.0.0.1:1"] {
        let answer = app.raw("POST", "/api/v1/simulation/stop", &[("Origin", origin)], RawBody::None).await;
        assert_error(&answer, 403, "forbidden_origin", &format!("a stop from {origin}"));
    }
    // An import from another site is refused before its body is read.
    let csv = [("Origin", "https://evil.example"), ("Content-Type", "text/csv")];
    let body = RawBody::Full(b"date,open,high,low,close,volume\n2024-01-02,1,1,1,1,1\n".to_vec());
    let answer = app.raw("POST", "/api/v1/import?symbol=EVIL", &csv, body).await;
    assert_error(&answer, 403, "forbidden_origin", "a cross-origin import");
    assert!(matches!(simulation(&app).await, SimulationState::Running { .. }), "still running");
    let stored = reqwest::get(app.url("/api/v1/bars/EVIL?interval=1d")).await.expect("GET bars");
    assert_eq!(stored.status(), 404, "nothing imported");

    // The dashboard's own page, and a client that is not a browser, may.
    let own = format!("http://{}", app.addr);
    let answer =
        app.raw("POST", "/api/v1/simulation/pause", &[("Origin", own.as_str())], RawBody::None).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let answer = app.raw("POST", "/api/v1/simulation/resume", &[], RawBody::None).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_cross_origin_websocket_is_refused() {
    let app = spawn_app(config(5)).await;
    let url = format!("ws://{}/ws", app.addr);
    let mut request = url.as_str().into_client_request().expect("request");
    request.headers_mut().insert("origin", HeaderValue::from_static("https://evil.example"));
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("a cross-origin WebSocket was not refused: {:?}", other.map(|(_, r)| r.status())),
    }

    let mut request = url.as_str().into_client_request().expect("request");
    let own = HeaderValue::from_str(&format!("http://{}", app.addr)).expect("origin");
    request.headers_mut().insert("origin", own);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("same-origin WebSocket");
    let first = ws.next().await.expect("a message").expect("a frame");
    let first: ServerMessage = serde_json::from_str(first.to_text().expect("text")).expect("JSON");
    assert!(matches!(first, ServerMessage::Snapshot { .. }), "{first:?}");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_name_rebound_to_loopback_is_refused_and_allowed_origins_pass() {
    let mut config = config(5);
    config.allowed_origins = vec!["https://ops.example.com".into()];
    let app = spawn_app(config).await;
    running(&app).await;
    let port = app.addr.port();
    // DNS rebinding: the attacker's name now points at 127.0.0.1, so its page
    // is same-origin with the server; the Host header still gives it away.
    let host = format!("evil.example:{port}");
    let origin = format!("http://evil.example:{port}");
    let rebound = [("Host", host.as_str()), ("Origin", origin.as_str())];
    let answer = app.raw("POST", "/api/v1/simulation/pause", &rebound, RawBody::None).await;
    assert_error(&answer, 403, "forbidden_origin", "a rebound name");
    let answer = app.raw("GET", "/ws", &rebound, RawBody::None).await;
    assert_error(&answer, 403, "forbidden_origin", "a rebound name on /ws");

    let localhost = format!("localhost:{port}");
    let local_origin = format!("http://localhost:{port}");
    let local = [("Host", localhost.as_str()), ("Origin", local_origin.as_str())];
    let answer = app.raw("POST", "/api/v1/simulation/pause", &local, RawBody::None).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));

    let ops = [("Origin", "https://ops.example.com")];
    let answer = app.raw("POST", "/api/v1/simulation/resume", &ops, RawBody::None).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn the_bearer_scheme_is_read_in_any_case() {
    let mut config = config(5);
    config.secrets.operator_token = Some(marquee::config::Secret::new("open-sesame"));
    let app = spawn_app(config).await;
    running(&app).await;
    let steps =
        [("pause", "bearer open-sesame"), ("resume", "BEARER open-sesame"), ("pause", "Bearer open-sesame")];
    for (action, authorization) in steps {
        let path = format!("/api/v1/simulation/{action}");
        let answer = app.raw("POST", &path, &[("Authorization", authorization)], RawBody::None).await;
        assert_eq!(answer.status, 200, "{authorization}: {}", String::from_utf8_lossy(&answer.body));
    }
    let answer = app
        .raw("POST", "/api/v1/simulation/pause", &[("Authorization", "Basic open-sesame")], RawBody::None)
        .await;
    assert_error(&answer, 401, "unauthorized", "another scheme");
    app.stop().await.expect("clean stop");
}

#[test]
fn a_server_reachable_from_the_network_without_a_token_refuses_to_start() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut output = std::process::Command::new(env!("CARGO_BIN_EXE_marquee"))
        .args(["serve", "--listen", "0.0.0.0:0", "--static-dir", "/nonexistent"])
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("MARQUEE_OPERATOR_TOKEN")
        .env_remove("MARQUEE_INSECURE_OPEN")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run marquee");
    // A server that does start would never exit: give it 20 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while output.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            output.kill().ok();
            panic!("marquee started listening on 0.0.0.0 without a token");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = output.wait_with_output().expect("exit");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it started: {stderr}");
    assert!(stderr.contains("MARQUEE_OPERATOR_TOKEN") && stderr.contains("--insecure-open"), "{stderr}");
}
