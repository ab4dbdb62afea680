//! CSV import through REST and through the `marquee import` command, and
//! `marquee fetch` against the local Alpha Vantage.

use std::process::Command;

use marquee::store::{SqliteStore, Store};
use marquee_shared::{ApiError, DataSource, SymbolSummary};

use crate::fake_alphavantage::{API_KEY, FakeAlphaVantage};
use crate::helpers::{config, spawn_app};

const GOOD: &str = "date,open,high,low,close,volume\n2024-05-01,10,11,9,10.5,100\n2024-05-02,10.5,12,10,11.5,200\n2024-05-03,11.5,12.5,11,12,300\n";
const BAD_LINE_3: &str =
    "date,open,high,low,close,volume\n2024-05-01,10,11,9,10.5,100\n2024-05-02,10.5,oops,10,11.5,200\n";

#[tokio::test]
async fn a_csv_upload_is_stored_whole_and_a_bad_one_not_at_all() {
    let mut config = config(0);
    config.load_demo = false;
    let app = spawn_app(config).await;
    let client = reqwest::Client::new();

    let bad = client.post(app.url("/api/v1/import?symbol=acme")).body(BAD_LINE_3).send().await.expect("post");
    assert_eq!(bad.status(), 422);
    let error: ApiError = bad.json().await.expect("json");
    assert!(error.error.message.contains("line 3"), "{}", error.error.message);
    let _: ApiError = app.get_json("/api/v1/bars/ACME", 404).await;

    let good = client.post(app.url("/api/v1/import?symbol=acme")).body(GOOD).send().await.expect("post");
    assert_eq!(good.status(), 200);
    let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    assert_eq!(symbols.len(), 1);
    assert_eq!(
        (symbols[0].symbol.as_str(), symbols[0].source, symbols[0].records),
        ("ACME", DataSource::Csv, 3)
    );
    assert_eq!(symbols[0].last, 12.0);

    let no_symbol = client.post(app.url("/api/v1/import")).body(GOOD).send().await.expect("post");
    assert_eq!(no_symbol.status(), 400);
    app.stop().await.expect("clean stop");
}

/// Hostile and damaged uploads on top of a good import: each is refused with
/// a message naming what is wrong, and the store is exactly as it was.
#[tokio::test]
async fn a_refused_upload_names_the_problem_and_changes_nothing() {
    let mut config = config(0);
    config.load_demo = false;
    let app = spawn_app(config).await;
    let client = reqwest::Client::new();
    let post = |body: Vec<u8>| client.post(app.url("/api/v1/import?symbol=acme")).body(body).send();
    assert_eq!(post(GOOD.into()).await.expect("post").status(), 200);
    let before: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    let bars_before: serde_json::Value = app.get_json("/api/v1/bars/ACME?limit=10", 200).await;

    const HEADER: &str = "date,open,high,low,close,volume\n";
    let row = |r: &str| format!("{HEADER}2024-06-03,10,11,9,10,5\n{r}\n").into_bytes();
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (row("2024-06-04,10,11,9,1e308,100"), 422, "line 3: close 1e308 is above the ceiling 1e9"),
        (row("2024-06-04,10,11,9,1e400,100"), 422, "line 3: close 1e400 is not a finite number"),
        (row("2024-06-04,10,11,9,-5,100"), 422, "line 3: close -5 is not a positive price"),
        (row("2024-06-04,10,11,9,NaN,100"), 422, "line 3: close NaN is not a finite number"),
        (row("2024-06-04,10,11,9,abc,100"), 422, "line 3: close \"abc\" is not a number"),
        (row("2024-06-04,10,9,11,10,100"), 422, "line 3: high 9 is below low 11"),
        (row("2024-06-03,10,11,9,10,100"), 422, "line 3: date 2024-06-03 appears twice (also on line 2)"),
        (row("2024-06-04,10,11,9,10,1e30"), 422, "line 3: volume 1e30 is above the ceiling 1e12"),
        (Vec::new(), 422, "the file has no data rows"),
        (b"date,open,high,low,close,volume\n2024-06-04,10,11,9,\xff,100\n".to_vec(), 400, "not UTF-8"),
    ];
    for (body, status, expected) in cases {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let response = post(body).await.expect("post");
        assert_eq!(response.status(), status, "{shown}");
        let error: ApiError = response.json().await.expect("json");
        assert!(error.error.message.contains(expected), "{shown}: {}", error.error.message);
    }
    let after: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    assert_eq!(after, before, "nothing half-stored");
    let bars_after: serde_json::Value = app.get_json("/api/v1/bars/ACME?limit=10", 200).await;
    assert_eq!(bars_after, bars_before);

    // A byte-order mark and CRLF line ends are normal: accepted.
    let windows = format!("\u{feff}{HEADER}2024-06-04,12,13,11,12.5,400\r\n").into_bytes();
    assert_eq!(post(windows).await.expect("post").status(), 200);
    let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    assert_eq!((symbols[0].records, symbols[0].last), (4, 12.5));
    app.stop().await.expect("clean stop");
}

/// A second source never mixes with the first: demo bars are replaced, real
/// ones only when asked.
#[tokio::test]
async fn an_import_replaces_demo_bars_and_refuses_to_mix_with_real_ones_unless_asked() {
    let fake = FakeAlphaVantage::default();
    let mut config = config(1);
    let demo = config.symbols[0].ticker;
    config.alphavantage.url = fake.start().await;
    config.alphavantage.requests_per_minute = std::num::NonZeroU32::new(6_000).expect("non-zero");
    config.secrets.alphavantage_api_key = Some(marquee::config::Secret::new(API_KEY));
    let app = spawn_app(config).await;
    let client = reqwest::Client::new();
    let source_of = |symbols: &[SymbolSummary], symbol: &str| {
        symbols.iter().find(|s| s.symbol == symbol).map(|s| (s.source, s.records))
    };

    // A demo symbol: the CSV replaces its synthetic year.
    let mut symbols: Vec<SymbolSummary> = Vec::new();
    for _ in 0..200 {
        symbols = app.get_json("/api/v1/symbols", 200).await;
        if !symbols.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(source_of(&symbols, demo).map(|s| s.0), Some(DataSource::Synthetic));
    let over_demo =
        client.post(app.url(&format!("/api/v1/import?symbol={demo}"))).body(GOOD).send().await.expect("post");
    assert_eq!(over_demo.status(), 200);
    let reply: serde_json::Value = over_demo.json().await.expect("json");
    assert_eq!(reply["replaced"], "synthetic", "{reply}");
    let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    assert_eq!(source_of(&symbols, demo), Some((DataSource::Csv, 3)), "only the CSV's bars remain");

    // IBM fetched from Alpha Vantage: a CSV is refused, then replaces it when asked.
    let fetched = client
        .post(app.url("/api/v1/fetch"))
        .json(&serde_json::json!({ "symbols": ["IBM"] }))
        .send()
        .await
        .expect("fetch");
    assert_eq!(fetched.status(), 202);
    for _ in 0..200 {
        let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
        if source_of(&symbols, "IBM").is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let mixed = client.post(app.url("/api/v1/import?symbol=IBM")).body(GOOD).send().await.expect("post");
    assert_eq!(mixed.status(), 409);
    let error: ApiError = mixed.json().await.expect("json");
    assert!(error.error.message.contains("IBM holds Alpha Vantage daily bars"), "{}", error.error.message);
    let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    assert_eq!(source_of(&symbols, "IBM"), Some((DataSource::AlphaVantage, 30)), "nothing changed");
    let replace =
        client.post(app.url("/api/v1/import?symbol=IBM&replace=true")).body(GOOD).send().await.expect("post");
    assert_eq!(replace.status(), 200);
    let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    assert_eq!(source_of(&symbols, "IBM"), Some((DataSource::Csv, 3)));
    app.stop().await.expect("clean stop");
}

fn marquee() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_marquee"));
    command.env_remove("ALPHAVANTAGE_API_KEY").env("RUST_LOG", "warn");
    command
}

#[tokio::test]
async fn the_import_command_stores_a_file_and_refuses_a_bad_one_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.csv");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&good, GOOD).expect("write");
    std::fs::write(&bad, BAD_LINE_3).expect("write");
    let data = dir.path().join("data");

    let refused = marquee()
        .arg("import")
        .arg(&bad)
        .args(["--symbol", "ACME", "--data-dir"])
        .arg(&data)
        .output()
        .expect("run");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("line 3") && stderr.contains("nothing was stored"), "{stderr}");

    let done = marquee()
        .arg("import")
        .arg(&good)
        .args(["--symbol", "ACME", "--data-dir"])
        .arg(&data)
        .output()
        .expect("run");
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));

    let store = SqliteStore::open(&data).expect("store");
    let symbols = store.symbols().await.expect("symbols");
    assert_eq!(symbols.len(), 1);
    assert_eq!((symbols[0].records, symbols[0].source), (3, DataSource::Csv));
}

/// Runs `marquee fetch SYMBOLS...` against the local Alpha Vantage, off the runtime.
async fn fetch_command(url: &str, data: &std::path::Path, symbols: &[&str]) -> std::process::Output {
    let mut command = marquee();
    command
        .arg("fetch")
        .args(symbols)
        .args(["--alphavantage-url", url, "--alphavantage-rpm", "6000", "--alphavantage-backoff-ms", "10"])
        .arg("--data-dir")
        .arg(data)
        .env("ALPHAVANTAGE_API_KEY", API_KEY);
    tokio::task::spawn_blocking(move || command.output().expect("run")).await.expect("join")
}

#[tokio::test]
async fn the_fetch_command_fetches_into_the_store_and_reports_failures() {
    let fake = FakeAlphaVantage::default();
    let url = fake.start().await;
    let dir = tempfile::tempdir().expect("tempdir");

    let ok = fetch_command(&url, dir.path(), &["IBM", "KO"]).await;
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let store = SqliteStore::open(dir.path()).expect("store");
    let symbols: Vec<String> =
        store.symbols().await.expect("symbols").into_iter().map(|s| s.symbol).collect();
    assert_eq!(symbols, ["IBM", "KO"]);

    let failed = fetch_command(&url, dir.path(), &["MSFT", "BAD"]).await;
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("1 of 2 symbols failed"), "{stderr}");
    assert!(!stderr.contains(API_KEY));
    assert_eq!(store.symbols().await.expect("symbols").len(), 3, "MSFT was stored despite BAD");

    let no_key = marquee().args(["fetch", "IBM", "--data-dir"]).arg(dir.path()).output().expect("run");
    assert!(!no_key.status.success());
    assert!(String::from_utf8_lossy(&no_key.stderr).contains("ALPHAVANTAGE_API_KEY"));
}
