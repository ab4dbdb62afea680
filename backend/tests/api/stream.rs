//! The WebSocket protocol beyond plain streaming: subscriptions, resume
//! (across a restart too), rate limits and the once-a-second metrics.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use marquee::sources::demo_universe::SYMBOLS;
use marquee_shared::{Channel, ErrorCode, ServerMessage, SymbolSelection, Tick};

use crate::helpers::{TestApp, Ws, config, next_message, next_reply, send_text, spawn_app, spawn_app_in};

/// Every tick that arrives within `window`, per symbol, in arrival order.
async fn ticks_for(ws: &mut Ws, window: Duration) -> BTreeMap<String, Vec<u64>> {
    let start = Instant::now();
    let mut seen: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    while start.elapsed() < window {
        if let Some(ServerMessage::Ticks { ticks }) = next_message(ws).await {
            add(&mut seen, &ticks);
        }
    }
    seen
}

fn add(seen: &mut BTreeMap<String, Vec<u64>>, ticks: &[Tick]) {
    for tick in ticks {
        seen.entry(tick.symbol.clone()).or_default().push(tick.seq);
    }
}

fn last_seqs(seen: &BTreeMap<String, Vec<u64>>) -> BTreeMap<String, u64> {
    seen.iter().filter_map(|(s, seqs)| Some((s.clone(), *seqs.iter().max()?))).collect()
}

/// Connects, sends `resume` with `last`, and returns every tick received
/// (replayed or streamed) for `window` after the `resumed` answer.
async fn resume(
    app: &TestApp,
    last: &BTreeMap<String, u64>,
    window: Duration,
) -> (u64, BTreeMap<String, Vec<u64>>) {
    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));
    let request = serde_json::json!({ "type": "resume", "last_seq": last });
    send_text(&mut ws, &request.to_string()).await;
    let mut seen = BTreeMap::new();
    let replayed = loop {
        match next_message(&mut ws).await {
            Some(ServerMessage::Ticks { ticks }) => add(&mut seen, &ticks),
            Some(ServerMessage::Resumed { replayed }) => break replayed,
            Some(ServerMessage::Lagged { skipped }) => panic!("resume lost {skipped} ticks"),
            Some(_) => {}
            None => panic!("stream closed"),
        }
    };
    for (symbol, seqs) in ticks_for(&mut ws, window).await {
        seen.entry(symbol).or_default().extend(seqs);
    }
    (replayed, seen)
}

/// Every symbol's seqs, sorted, run on from `last` with no gap and no repeat.
fn assert_continues(last: &BTreeMap<String, u64>, seen: &BTreeMap<String, Vec<u64>>) {
    for (symbol, &after) in last {
        let mut seqs = seen.get(symbol).cloned().unwrap_or_default();
        seqs.sort_unstable();
        let expected: Vec<u64> = (after + 1..after + 1 + seqs.len() as u64).collect();
        assert!(!seqs.is_empty(), "{symbol}: nothing after {after}");
        assert_eq!(seqs, expected, "{symbol}: gap or repeat after {after}");
    }
}

#[tokio::test]
async fn resume_replays_what_a_client_missed_even_across_a_restart() {
    let data = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
    let app = spawn_app_in(config(5), std::sync::Arc::clone(&data)).await;
    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));
    let seen = ticks_for(&mut ws, Duration::from_millis(800)).await;
    let last = last_seqs(&seen);
    assert_eq!(last.len(), 5, "{last:?}");
    drop(ws);
    // The client is away while the stream goes on.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (replayed, after) = resume(&app, &last, Duration::from_millis(500)).await;
    assert!(replayed >= 5 * 3, "about 5 ticks per symbol were missed, {replayed} replayed");
    assert_continues(&last, &after);

    // Across a restart: the history is read back from the store.
    let last = last_seqs(&after);
    app.stop().await.expect("clean stop");
    let app = spawn_app_in(config(5), data).await;
    let (_, after_restart) = resume(&app, &last, Duration::from_millis(800)).await;
    assert_continues(&last, &after_restart);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn resuming_from_further_back_than_the_history_gets_lagged_and_a_fresh_snapshot() {
    let mut config = config(5);
    config.resume_history = 3;
    let app = spawn_app(config).await;
    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));
    ticks_for(&mut ws, Duration::from_millis(800)).await;
    let mut fresh = app.connect().await;
    assert!(matches!(next_message(&mut fresh).await, Some(ServerMessage::Snapshot { .. })));
    send_text(&mut fresh, &format!(r#"{{"type":"resume","last_seq":{{"{}":0}}}}"#, SYMBOLS[0].ticker)).await;
    let Some(ServerMessage::Lagged { skipped }) = next_reply(&mut fresh).await else { panic!("lagged") };
    assert!(skipped > 3, "{skipped}");
    assert!(matches!(next_reply(&mut fresh).await, Some(ServerMessage::Snapshot { .. })));
    assert!(matches!(next_reply(&mut fresh).await, Some(ServerMessage::Resumed { replayed: 0 })));
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn subscriptions_narrow_the_stream_by_symbol_and_channel() {
    let app = spawn_app(config(5)).await;
    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));
    let chosen = SYMBOLS[1].ticker;
    send_text(&mut ws, r#"{"type":"unsubscribe","symbols":["*"]}"#).await;
    assert!(matches!(next_reply(&mut ws).await, Some(ServerMessage::Subscribed { .. })));
    send_text(&mut ws, &format!(r#"{{"type":"subscribe","symbols":["{}"]}}"#, chosen.to_lowercase())).await;
    let Some(ServerMessage::Subscribed { symbols, .. }) = next_reply(&mut ws).await else { panic!("answer") };
    assert_eq!(symbols, SymbolSelection::Only { symbols: 1 });
    let seen = ticks_for(&mut ws, Duration::from_millis(600)).await;
    assert_eq!(seen.keys().collect::<Vec<_>>(), [chosen], "only the subscribed symbol");

    send_text(&mut ws, r#"{"type":"unsubscribe","channels":["ticks"]}"#).await;
    let Some(ServerMessage::Subscribed { channels, .. }) = next_reply(&mut ws).await else {
        panic!("answer")
    };
    assert!(!channels.contains(&Channel::Ticks));
    assert!(ticks_for(&mut ws, Duration::from_millis(1_200)).await.is_empty(), "no ticks once unsubscribed");

    send_text(&mut ws, r#"{"type":"subscribe","symbols":["no such symbol!"]}"#).await;
    let error = next_reply(&mut ws).await;
    assert!(matches!(error, Some(ServerMessage::Error { code: ErrorCode::BadMessage, .. })), "{error:?}");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_client_that_floods_is_answered_with_rate_limit_errors_and_keeps_its_stream() {
    let app = spawn_app(config(5)).await;
    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));
    for nonce in 0..100 {
        send_text(&mut ws, &format!(r#"{{"type":"ping","nonce":{nonce}}}"#)).await;
    }
    // The burst is answered; the rest is ignored, with one notice a second.
    let (mut pongs, mut limited) = (0, 0);
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(700) {
        match next_message(&mut ws).await {
            Some(ServerMessage::Pong { .. }) => pongs += 1,
            Some(ServerMessage::Error { code: ErrorCode::RateLimited, .. }) => limited += 1,
            Some(other) if crate::helpers::is_stream(&other) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!((40..100).contains(&pongs), "the burst is answered, the rest limited: {pongs} pongs");
    assert!((1..=2).contains(&limited), "told once a second, not once a message: {limited}");
    assert!(!ticks_for(&mut ws, Duration::from_millis(300)).await.is_empty(), "the stream goes on");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn metrics_arrive_every_second_with_measured_figures_and_match_prometheus() {
    let app = spawn_app(config(5)).await;
    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));
    let mut metrics = Vec::new();
    let start = Instant::now();
    while metrics.len() < 3 && start.elapsed() < Duration::from_secs(6) {
        if let Some(ServerMessage::Metrics { metrics: m }) = next_message(&mut ws).await {
            metrics.push((start.elapsed(), m));
        }
    }
    assert_eq!(metrics.len(), 3, "three metrics messages within 6 s");
    let gap = metrics[2].0 - metrics[1].0;
    assert!(gap > Duration::from_millis(700) && gap < Duration::from_millis(1_300), "{gap:?} apart");
    let last = &metrics[2].1;
    let gateway = last.stages.iter().find(|s| s.name == "gateway").expect("gateway stage");
    // 5 symbols every 100 ms: about 50 ticks a second through the gateway.
    assert!((25.0..100.0).contains(&gateway.rate), "gateway rate {}", gateway.rate);
    let e2e = last.end_to_end.expect("this client received ticks, so latency was measured");
    assert!(e2e.samples > 0 && e2e.p50_ms <= e2e.p99_ms && e2e.p99_ms < 1_000.0, "{e2e:?}");
    assert!(last.throughput.len() >= 3, "{:?}", last.throughput);
    assert_eq!(last.clients, 1);

    let response = reqwest::get(app.url("/metrics")).await.expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.text().await.expect("body");
    let mut values = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line:?}"));
        values.insert(series.to_owned(), value);
    }
    assert!(values[r#"marquee_stage_processed_total{stage="driver"}"#] > 0.0);
    assert_eq!(values["marquee_clients"], 1.0);
    assert!(values[r#"marquee_tick_age_seconds_count{stage="gateway"}"#] >= e2e.samples as f64);
    assert!(values.contains_key(r#"marquee_tick_age_seconds{stage="gateway",quantile="0.99"}"#));
    app.stop().await.expect("clean stop");
}
