//! Fetching from Alpha Vantage (a local stand-in) into the store, and the
//! threshold that starts the simulation.

use std::time::Duration;

use marquee::config::Secret;
use marquee::ingest::alphavantage::{
    AlphaVantageClient, AlphaVantageError, ClientSettings, IntradayInterval,
};
use marquee_shared::{
    ApiError, DataSource, FetchJob, FetchState, OutputSize, SimulationState, SymbolSummary, Tick,
};
use serde_json::json;

use crate::fake_alphavantage::{API_KEY, FakeAlphaVantage, latest_close};
use crate::helpers::{TestApp, config, spawn_app};

async fn app_with_alphavantage(fake: &FakeAlphaVantage) -> TestApp {
    let mut config = config(0);
    config.load_demo = false;
    config.alphavantage.url = fake.start().await;
    config.alphavantage.requests_per_minute = std::num::NonZeroU32::new(6_000).expect("non-zero");
    config.alphavantage.backoff = Duration::from_millis(50);
    config.alphavantage.timeout = Duration::from_secs(1);
    config.alphavantage.retries = 2;
    config.secrets.alphavantage_api_key = Some(Secret::new(API_KEY));
    spawn_app(config).await
}

async fn fetch(app: &TestApp, symbols: &[&str]) -> FetchJob {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/fetch"))
        .json(&json!({ "symbols": symbols }))
        .send()
        .await
        .expect("POST /api/v1/fetch");
    assert_eq!(response.status(), 202);
    let job: FetchJob = response.json().await.expect("job");
    for _ in 0..200 {
        let now: FetchJob = app.get_json(&format!("/api/v1/fetch/{}", job.id), 200).await;
        if now.finished {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fetch job {} did not finish", job.id);
}

async fn simulation(app: &TestApp) -> SimulationState {
    app.get_json("/api/v1/simulation", 200).await
}

#[tokio::test]
async fn fetching_five_symbols_stores_them_and_starts_the_simulation_near_their_closes() {
    crate::logs::capture();
    let fake = FakeAlphaVantage::default();
    let app = app_with_alphavantage(&fake).await;
    let symbols = ["IBM", "MSFT", "AAPL", "KO", "NVDA"];
    let job = fetch(&app, &symbols).await;
    for entry in &job.entries {
        assert_eq!(entry.state, FetchState::Stored { records: 30 }, "{}", entry.symbol);
    }
    let stored: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    assert_eq!(stored.len(), 5);
    assert!(stored.iter().all(|s| s.source == DataSource::AlphaVantage));
    let company: marquee_shared::Company = app.get_json("/api/v1/companies/KO", 200).await;
    assert_eq!(company.exchange, "NYSE");

    let mut first_ticks = Vec::new();
    for symbol in symbols {
        let mut ticks: Vec<Tick> = Vec::new();
        for _ in 0..100 {
            ticks = app.get_json(&format!("/api/v1/ticks/{symbol}?limit=10000"), 200).await;
            if !ticks.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let first = ticks.first().unwrap_or_else(|| panic!("no ticks for {symbol}"));
        let close = latest_close(symbol);
        assert!(
            (first.price / close - 1.0).abs() < 0.01,
            "{symbol}: first tick {} vs close {close}",
            first.price
        );
        first_ticks.push(first.clone());
    }
    assert!(matches!(simulation(&app).await, SimulationState::Running { symbols: 5, .. }));
    app.stop().await.expect("clean stop");
    crate::logs::assert_absent(API_KEY);
}

#[tokio::test]
async fn three_symbols_wait_and_two_more_start_the_simulation() {
    let fake = FakeAlphaVantage::default();
    let app = app_with_alphavantage(&fake).await;
    fetch(&app, &["IBM", "MSFT", "AAPL"]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(simulation(&app).await, SimulationState::Waiting { have: 3, need: 5 });
    let ticks: Vec<Tick> = app.get_json("/api/v1/ticks/IBM", 200).await;
    assert!(ticks.is_empty());

    fetch(&app, &["KO", "NVDA"]).await;
    for _ in 0..100 {
        if matches!(simulation(&app).await, SimulationState::Running { symbols: 5, .. }) {
            app.stop().await.expect("clean stop");
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the fifth symbol did not start the simulation");
}

#[tokio::test]
async fn one_bad_symbol_fails_alone_and_a_rate_limit_is_retried() {
    let fake = FakeAlphaVantage::default();
    let app = app_with_alphavantage(&fake).await;
    let job = fetch(&app, &["IBM", "BAD", "LIMIT", "HTML", "POISON"]).await;
    let state = |symbol: &str| job.entries.iter().find(|e| e.symbol == symbol).map(|e| e.state.clone());
    assert_eq!(state("IBM"), Some(FetchState::Stored { records: 30 }));
    assert_eq!(state("LIMIT"), Some(FetchState::Stored { records: 30 }));
    assert_eq!(fake.count("TIME_SERIES_DAILY", "LIMIT"), 2, "rate-limited once, then retried");
    assert!(matches!(state("BAD"), Some(FetchState::Failed { reason }) if reason.contains("rejected")));
    assert!(matches!(state("HTML"), Some(FetchState::Failed { reason }) if reason.contains("malformed")));
    let poisoned =
        "Alpha Vantage sent an unusable value for 2024-04-15: close 1e308 is above the ceiling 1e9";
    assert_eq!(state("POISON"), Some(FetchState::Failed { reason: poisoned.into() }));
    let _: marquee_shared::ApiError = app.get_json("/api/v1/bars/POISON", 404).await;
    let events: Vec<marquee_shared::Event> = app.get_json("/api/v1/events?limit=100", 200).await;
    assert_eq!(events.iter().filter(|e| e.kind.name() == "ingest_error").count(), 3);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn fetch_requests_are_validated() {
    let fake = FakeAlphaVantage::default();
    let app = app_with_alphavantage(&fake).await;
    let client = reqwest::Client::new();
    let too_many: Vec<String> = (0..51).map(|i| format!("S{i}")).collect();
    let cases = [
        (json!({"symbols": []}), 422),
        (json!({"symbols": too_many}), 422),
        (json!({"symbols": ["IBM", "not a symbol"]}), 422),
        (json!({"symbols": ["IBM"], "outputsize": "huge"}), 422),
        (json!({"tickers": ["IBM"]}), 422),
    ];
    for (body, status) in cases {
        let response = client.post(app.url("/api/v1/fetch")).json(&body).send().await.expect("post");
        assert_eq!(response.status().as_u16(), status, "{body}");
        let error: ApiError = response.json().await.expect("JSON error");
        assert!(!error.error.message.is_empty());
    }
    let not_json =
        client.post(app.url("/api/v1/fetch")).header("content-type", "application/json").body("{").send();
    assert_eq!(not_json.await.expect("post").status(), 400);
    let _: ApiError = app.get_json("/api/v1/fetch/no-such-job", 404).await;
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn without_a_key_fetch_says_what_is_missing() {
    let app = spawn_app(config(5)).await;
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/fetch"))
        .json(&json!({"symbols": ["IBM"]}))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 409, "a feature without its key, not a server failure");
    let error: ApiError = response.json().await.expect("json");
    assert_eq!(error.error.code, "no_api_key");
    assert!(error.error.message.contains("ALPHAVANTAGE_API_KEY"));
    app.stop().await.expect("clean stop");
}

fn client(url: String, timeout: Duration) -> AlphaVantageClient {
    AlphaVantageClient::new(ClientSettings {
        base_url: url,
        api_key: Secret::new(API_KEY),
        requests_per_minute: std::num::NonZeroU32::new(6_000).expect("non-zero"),
        timeout,
        max_retries: 1,
        retry_backoff: Duration::from_millis(10),
    })
    .expect("client")
}

#[tokio::test]
async fn the_client_parses_every_call_and_types_every_failure() {
    crate::logs::capture();
    let fake = FakeAlphaVantage::default();
    let av = client(fake.start().await, Duration::from_millis(500));

    let quote = av.global_quote("MSFT").await.expect("quote");
    assert_eq!(quote.price, 112.13);
    let intraday =
        av.intraday("MSFT", IntradayInterval::OneMin, OutputSize::Compact).await.expect("intraday");
    assert!(intraday.bars.len() >= 20);
    assert_eq!(
        av.overview("IBM").await.expect("overview").name,
        "International Business Machines Corporation"
    );
    assert_eq!(av.search("BA").await.expect("search")[0].symbol, "BA");

    assert!(matches!(av.daily("BAD", OutputSize::Compact).await, Err(AlphaVantageError::Rejected(_))));
    assert!(matches!(av.daily("HTML", OutputSize::Compact).await, Err(AlphaVantageError::Malformed(_))));
    assert!(matches!(av.daily("JUNK", OutputSize::Compact).await, Err(AlphaVantageError::Malformed(_))));
    assert!(matches!(av.daily("SLOW", OutputSize::Compact).await, Err(AlphaVantageError::Timeout)));
    assert_eq!(av.daily("E500", OutputSize::Compact).await, Err(AlphaVantageError::Http(500)));
    assert_eq!(fake.count("TIME_SERIES_DAILY", "E500"), 2, "a server error is retried (once, here)");

    let dead = client("http://127.0.0.1:9/query".into(), Duration::from_millis(500));
    let err = dead.daily("IBM", OutputSize::Compact).await.expect_err("nobody listens on port 9");
    assert!(matches!(err, AlphaVantageError::Transport(_)), "{err:?}");
    assert!(err.to_string().to_lowercase().contains("connection refused"), "the cause is named: {err}");
    assert!(!err.to_string().contains(API_KEY), "{err}");

    let wrong_key = AlphaVantageClient::new(ClientSettings {
        base_url: fake.start().await,
        api_key: Secret::new("wrong"),
        requests_per_minute: std::num::NonZeroU32::new(6_000).expect("non-zero"),
        timeout: Duration::from_secs(1),
        max_retries: 0,
        retry_backoff: Duration::from_millis(10),
    })
    .expect("client");
    assert!(matches!(wrong_key.daily("IBM", OutputSize::Compact).await, Err(AlphaVantageError::Refused(_))));
    crate::logs::assert_absent(API_KEY);
}

/// The daily quota is spent once: its reply is not retried, and no request
/// is sent for any symbol until the next UTC day.
#[tokio::test]
async fn a_used_up_daily_quota_is_not_retried_and_stops_every_request_until_the_next_day() {
    crate::logs::capture();
    let fake = FakeAlphaVantage::default();
    let av = client(fake.start().await, Duration::from_millis(500));
    let err = av.daily("DAILYCAP", OutputSize::Compact).await.expect_err("quota used up");
    assert!(matches!(err, AlphaVantageError::DailyLimit { .. }), "{err:?}");
    assert_eq!(fake.count("TIME_SERIES_DAILY", "DAILYCAP"), 1, "not retried (max_retries is 1 here)");
    let text = err.to_string();
    assert!(text.contains("daily request quota is used up") && text.contains(" UTC (in "), "{text}");
    assert!(!text.contains(API_KEY), "the key Alpha Vantage quotes is redacted: {text}");

    let after = av.daily("IBM", OutputSize::Compact).await.expect_err("still used up");
    assert!(matches!(after, AlphaVantageError::DailyLimit { .. }), "{after:?}");
    assert_eq!(fake.count("TIME_SERIES_DAILY", "IBM"), 0, "no request spent on a used-up quota");
    crate::logs::assert_absent(API_KEY);
}

/// Jobs do not queue behind one another: a symbol that hangs holds only its slot.
#[tokio::test]
async fn a_slow_symbol_never_holds_up_another_job() {
    let fake = FakeAlphaVantage::default();
    let app = app_with_alphavantage(&fake).await;
    let client = reqwest::Client::new();
    let submit = |symbols: serde_json::Value| {
        client.post(app.url("/api/v1/fetch")).json(&json!({ "symbols": symbols })).send()
    };
    let slow: FetchJob = submit(json!(["SLOW"])).await.expect("post").json().await.expect("job");
    let quick = fetch(&app, &["KO"]).await;
    assert!(matches!(quick.entries[0].state, FetchState::Stored { .. }), "{quick:?}");
    let still: FetchJob = app.get_json(&format!("/api/v1/fetch/{}", slow.id), 200).await;
    assert!(!still.finished, "KO finished while SLOW (3 s per try) was still being fetched");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn intraday_bars_are_fetched_on_request_and_served_by_interval() {
    let fake = FakeAlphaVantage::default();
    let app = app_with_alphavantage(&fake).await;
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/fetch"))
        .json(&json!({"symbols": ["IBM"], "intraday": "1min"}))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 202);
    let job: FetchJob = response.json().await.expect("job");
    let mut done = job.clone();
    for _ in 0..200 {
        done = app.get_json(&format!("/api/v1/fetch/{}", job.id), 200).await;
        if done.finished {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let intraday: Vec<marquee_shared::Bar> =
        app.get_json("/api/v1/bars/IBM?interval=1min&limit=1000", 200).await;
    assert!(intraday.len() >= 20, "{} intraday bars", intraday.len());
    assert!(intraday.windows(2).all(|w| w[1].ts - w[0].ts == 60_000_000_000), "one bar a minute");
    assert_eq!(done.entries[0].state, FetchState::Stored { records: 30 + intraday.len() as u64 });
    let daily: Vec<marquee_shared::Bar> = app.get_json("/api/v1/bars/IBM?interval=1d", 200).await;
    assert_eq!(daily.len(), 30);
    app.stop().await.expect("clean stop");
}
