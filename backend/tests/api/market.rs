//! The offline path of ingest → store → events → driver, through REST.

use std::time::Duration;

use marquee_shared::{
    ApiError, Bar, Company, DataSource, Event, Health, Quote, ServerMessage, SimulationState, SymbolSummary,
    Tick,
};

use crate::helpers::{TestApp, config, next_message, spawn_app, spawn_app_in};

/// Polls the simulation state until it satisfies `done`.
async fn wait_for_simulation(app: &TestApp, done: impl Fn(&SimulationState) -> bool) -> SimulationState {
    for _ in 0..100 {
        let state: SimulationState = app.get_json("/api/v1/simulation", 200).await;
        if done(&state) {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("simulation never reached the expected state");
}

async fn wait_for_ticks(app: &TestApp, symbol: &str, at_least: usize) -> Vec<Tick> {
    for _ in 0..100 {
        // 404 until the symbol is stored.
        let response =
            reqwest::get(app.url(&format!("/api/v1/ticks/{symbol}?limit=10000"))).await.expect("GET ticks");
        if response.status() == 200 {
            let ticks: Vec<Tick> = response.json().await.expect("ticks JSON");
            if ticks.len() >= at_least {
                return ticks;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {at_least} ticks stored for {symbol}");
}

#[tokio::test]
async fn with_no_api_key_the_demo_universe_is_stored_labelled_and_streamed() {
    let app = spawn_app(config(6)).await;
    wait_for_simulation(&app, |s| matches!(s, SimulationState::Running { symbols: 6, .. })).await;

    let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    assert_eq!(symbols.len(), 6);
    assert!(
        symbols.iter().all(|s| s.source == DataSource::Synthetic && s.records == 252 && s.name.is_some())
    );

    let company: Company = app.get_json("/api/v1/companies/aapl", 200).await;
    assert_eq!((company.name.as_str(), company.source), ("Apple Inc.", DataSource::Synthetic));

    let bars: Vec<Bar> = app.get_json("/api/v1/bars/AAPL?interval=1d&limit=10", 200).await;
    assert_eq!(bars.len(), 10);
    assert!(bars.windows(2).all(|w| w[0].ts < w[1].ts), "oldest first");
    let first_day = bars[0].ts;
    let later: Vec<Bar> =
        app.get_json(&format!("/api/v1/bars/AAPL?from={}&limit=500", bars[5].ts), 200).await;
    assert_eq!(later.len(), 5);
    assert!(later.iter().all(|b| b.ts > first_day));

    // With indicators: the same bars, warmed up on earlier ones (SMA 50 is
    // there from the first of the ten), equal to the SMA of the closes.
    let indicated: Vec<marquee_shared::IndicatedBar> =
        app.get_json("/api/v1/bars/AAPL?interval=1d&limit=10&indicators=true", 200).await;
    assert_eq!(indicated.iter().map(|b| b.bar.clone()).collect::<Vec<_>>(), bars);
    assert!(indicated.iter().all(|b| b.indicators.sma50.is_some() && b.indicators.macd.is_some()));
    let last20: Vec<Bar> = app.get_json("/api/v1/bars/AAPL?interval=1d&limit=20", 200).await;
    let sma20 = last20.iter().map(|b| b.close).sum::<f64>() / 20.0;
    let reported = indicated.last().and_then(|b| b.indicators.sma20).expect("sma20");
    assert!((reported - sma20).abs() < 1e-9 * sma20, "{reported} vs {sma20}");

    // Live quotes start from the stored close.
    let ticks = wait_for_ticks(&app, "AAPL", 3).await;
    let close = bars.last().map(|b| b.close).expect("a bar");
    assert!((ticks[0].price / close - 1.0).abs() < 0.01, "first tick {} vs close {close}", ticks[0].price);
    let quote: Quote = app.get_json("/api/v1/quotes/AAPL", 200).await;
    assert!(quote.live && quote.seq.is_some());

    let events: Vec<Event> = app.get_json("/api/v1/events?limit=100", 200).await;
    let kinds: Vec<_> = events.iter().map(|e| e.kind.name()).collect();
    for kind in ["symbol_data_loaded", "batch_complete", "threshold_reached", "simulation_started"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| **k == "symbol_data_loaded").count(), 6);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn below_the_threshold_nothing_streams_and_health_says_how_far() {
    let app = spawn_app(config(3)).await;
    let state = wait_for_simulation(&app, |s| matches!(s, SimulationState::Waiting { have: 3, .. })).await;
    assert_eq!(state, SimulationState::Waiting { have: 3, need: 5 });
    let health: Health = app.get_json("/health", 200).await;
    let driver = health.stages.iter().find(|s| s.name == "driver").expect("driver");
    assert_eq!(driver.detail, "waiting for data: 3/5 symbols");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ticks: Vec<Tick> = app.get_json("/api/v1/ticks/AAPL", 200).await;
    assert!(ticks.is_empty());

    // An operator may start it anyway, and stop it again.
    let client = reqwest::Client::new();
    let started: SimulationState = client
        .post(app.url("/api/v1/simulation/start"))
        .send()
        .await
        .expect("start")
        .json()
        .await
        .expect("json");
    assert!(matches!(started, SimulationState::Running { symbols: 3, .. }), "{started:?}");
    wait_for_ticks(&app, "AAPL", 1).await;
    let stopped: SimulationState = client
        .post(app.url("/api/v1/simulation/stop"))
        .send()
        .await
        .expect("stop")
        .json()
        .await
        .expect("json");
    assert_eq!(stopped, SimulationState::Stopped { symbols: 0 });
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn after_a_restart_data_is_intact_and_streaming_resumes_where_it_stopped() {
    let app = spawn_app(config(5)).await;
    wait_for_ticks(&app, "MSFT", 5).await;
    let data = app.data.clone();
    app.stop().await.expect("clean stop");

    let mut again = config(5);
    again.load_demo = false; // nothing new is loaded: the stored data must suffice
    let app = spawn_app_in(again, data).await;
    let before: Vec<Tick> = app.get_json("/api/v1/ticks/MSFT?limit=10000", 200).await;
    let last_seq = before.last().map(|t| t.seq).expect("ticks survived");
    wait_for_simulation(&app, |s| matches!(s, SimulationState::Running { symbols: 5, .. })).await;
    let after = wait_for_ticks(&app, "MSFT", before.len() + 3).await;
    let seqs: Vec<u64> = after.iter().map(|t| t.seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "seq continues without a gap or repeat: {seqs:?}");
    assert!(seqs.last().copied().unwrap_or(0) > last_seq);
    let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    assert_eq!(symbols.len(), 5);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn stopping_and_starting_at_once_makes_no_seq_twice_even_before_the_store_has_it() {
    let mut config = config(5);
    // The store lags far behind: ticks wait up to 10 s in the buffer.
    config.buffer.max_age = Duration::from_secs(10);
    config.buffer.batch = 100_000;
    config.buffer.capacity = 100_000;
    let app = spawn_app(config).await;
    wait_for_simulation(&app, |s| matches!(s, SimulationState::Running { .. })).await;
    let mut ws = app.connect().await;
    let mut seqs: Vec<u64> = Vec::new();
    while seqs.len() < 5 {
        if let Some(ServerMessage::Ticks { ticks }) = next_message(&mut ws).await {
            seqs.extend(ticks.iter().filter(|t| t.symbol == "MSFT").map(|t| t.seq));
        }
    }
    let client = reqwest::Client::new();
    for action in ["stop", "start"] {
        let response =
            client.post(app.url(&format!("/api/v1/simulation/{action}"))).send().await.expect(action);
        assert_eq!(response.status().as_u16(), 200, "{action}");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::time::Instant::now() < deadline {
        if let Some(ServerMessage::Ticks { ticks }) = next_message(&mut ws).await {
            seqs.extend(ticks.iter().filter(|t| t.symbol == "MSFT").map(|t| t.seq));
        }
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "one seq after another, none made twice: {seqs:?}");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn bad_requests_get_json_errors_with_the_right_status() {
    let app = spawn_app(config(5)).await;
    wait_for_simulation(&app, |s| matches!(s, SimulationState::Running { .. })).await;
    let cases = [
        ("/api/v1/quotes/NOPE", 404, "unknown_symbol"),
        ("/api/v1/companies/NOPE", 404, "unknown_symbol"),
        ("/api/v1/bars/NOPE", 404, "unknown_symbol"),
        ("/api/v1/ticks/NOPE", 404, "unknown_symbol"),
        ("/api/v1/quotes/bad%20symbol", 400, "bad_symbol"),
        ("/api/v1/bars/AAPL?interval=7m", 400, "bad_interval"),
        ("/api/v1/bars/AAPL?from=yesterday", 400, "bad_time"),
        ("/api/v1/ticks/AAPL?limit=0", 400, "bad_limit"),
        ("/api/v1/nothing-here", 404, "not_found"),
    ];
    for (path, status, code) in cases {
        let error: ApiError = app.get_json(path, status).await;
        assert_eq!(error.error.code, code, "{path}: {}", error.error.message);
    }
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn operator_endpoints_need_the_token_when_one_is_configured() {
    let mut config = config(5);
    config.secrets.operator_token = Some(marquee::config::Secret::new("open-sesame"));
    let app = spawn_app(config).await;
    wait_for_simulation(&app, |s| matches!(s, SimulationState::Running { .. })).await;
    let client = reqwest::Client::new();

    let denied = client.post(app.url("/api/v1/simulation/pause")).send().await.expect("pause");
    assert_eq!(denied.status(), 401);
    let error: ApiError = denied.json().await.expect("json");
    assert_eq!(error.error.code, "unauthorized");
    let wrong =
        client.post(app.url("/api/v1/simulation/pause")).bearer_auth("guess").send().await.expect("pause");
    assert_eq!(wrong.status(), 401);
    let speed =
        client.put(app.url("/api/v1/simulation/speed")).json(&serde_json::json!({"speed": 2})).send().await;
    assert_eq!(speed.expect("speed").status(), 401);

    let paused = client.post(app.url("/api/v1/simulation/pause")).bearer_auth("open-sesame").send().await;
    let paused: SimulationState = paused.expect("pause").json().await.expect("json");
    assert!(matches!(paused, SimulationState::Paused { .. }));
    let faster = client
        .put(app.url("/api/v1/simulation/speed"))
        .bearer_auth("open-sesame")
        .json(&serde_json::json!({"speed": 4}))
        .send()
        .await
        .expect("speed");
    assert_eq!(faster.status(), 200);
    let too_fast = client
        .put(app.url("/api/v1/simulation/speed"))
        .bearer_auth("open-sesame")
        .json(&serde_json::json!({"speed": 1000}))
        .send()
        .await
        .expect("speed");
    assert_eq!(too_fast.status(), 422);
    // Reads stay open to viewers.
    let _: SimulationState = app.get_json("/api/v1/simulation", 200).await;
    app.stop().await.expect("clean stop");
}

/// A store written before values were checked (a close of 1e308 as the
/// latest bar): indicators over it leave that row out instead of coming back
/// `null`, and the simulation starts from the last valid close.
#[tokio::test]
async fn a_store_poisoned_before_the_checks_is_screened() {
    const DAY: i64 = 86_400_000_000_000;
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
    let first = 19_844 * DAY; // 2024-05-01
    let mut bars: Vec<Bar> = (0..60)
        .map(|i| Bar {
            symbol: "ACME".into(),
            ts: first + i * DAY,
            open: 100.0,
            high: 101.0 + i as f64,
            low: 99.0,
            close: 100.0 + i as f64,
            volume: 1_000,
            source: DataSource::Csv,
        })
        .collect();
    let poisoned_ts = first + 60 * DAY;
    bars.push(Bar { ts: poisoned_ts, close: 1e308, high: 1e308, ..bars[59].clone() });
    {
        use marquee::store::Store;
        let store = marquee::store::SqliteStore::open(dir.path()).expect("store");
        store.upsert_daily_bars(bars).await.expect("stored as before the checks");
    }
    let mut config = config(0);
    config.load_demo = false;
    config.threshold = 1;
    let app = spawn_app_in(config, dir).await;

    let body: serde_json::Value =
        app.get_json("/api/v1/bars/ACME?interval=1d&limit=5&indicators=true", 200).await;
    let rows = body.as_array().expect("bars");
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|b| b["ts"].as_i64() != Some(poisoned_ts)), "the impossible bar is left out");
    for row in rows {
        for field in
            ["sma20", "sma50", "ema12", "ema26", "rsi14", "macd", "macd_signal", "bb_upper", "bb_lower"]
        {
            assert!(row["indicators"][field].is_f64(), "{field} is {} in {row}", row["indicators"][field]);
        }
    }
    let ticks = wait_for_ticks(&app, "ACME", 1).await;
    assert!((ticks[0].price / 159.0 - 1.0).abs() < 0.01, "from the last valid close: {}", ticks[0].price);
    app.stop().await.expect("clean stop");
}
