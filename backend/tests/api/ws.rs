use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use marquee::sources::demo_universe::SYMBOLS;
use marquee_shared::{ErrorCode, Health, ServerMessage, Tick};

use crate::helpers::{Ws, config, is_stream, next_message, next_reply, send_text, spawn_app};

/// Reads ticks until `until` holds or `deadline` passes; returns them per symbol.
async fn collect_ticks(
    ws: &mut Ws,
    deadline: Duration,
    until: impl Fn(&BTreeMap<String, Vec<Tick>>) -> bool,
) -> BTreeMap<String, Vec<Tick>> {
    let start = Instant::now();
    let mut seen: BTreeMap<String, Vec<Tick>> = BTreeMap::new();
    while start.elapsed() < deadline && !until(&seen) {
        match next_message(ws).await {
            Some(ServerMessage::Ticks { ticks }) => {
                for tick in ticks {
                    seen.entry(tick.symbol.clone()).or_default().push(tick);
                }
            }
            Some(other) if is_stream(&other) => {}
            Some(other) => panic!("unexpected message while streaming: {other:?}"),
            None => panic!("stream closed"),
        }
    }
    seen
}

fn assert_seq_strictly_increasing(seen: &BTreeMap<String, Vec<Tick>>) {
    for (symbol, ticks) in seen {
        for pair in ticks.windows(2) {
            assert!(pair[1].seq > pair[0].seq, "{symbol}: seq {} then {}", pair[0].seq, pair[1].seq);
        }
    }
}

#[tokio::test]
async fn ticks_for_five_symbols_arrive_within_two_seconds_with_increasing_seq() {
    let app = spawn_app(config(5)).await;
    let mut ws = app.connect().await;
    let started = Instant::now();

    let Some(ServerMessage::Snapshot { quotes, server_time, .. }) = next_message(&mut ws).await else {
        panic!("the first message must be a snapshot");
    };
    assert!(server_time > 0);
    assert!(quotes.len() <= 5);

    let enough = |seen: &BTreeMap<String, Vec<Tick>>| seen.len() >= 5 && seen.values().all(|t| t.len() >= 3);
    let seen = collect_ticks(&mut ws, Duration::from_secs(2), enough).await;
    assert!(enough(&seen), "within 2 s got {:?}", seen.iter().map(|(s, t)| (s, t.len())).collect::<Vec<_>>());
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_seq_strictly_increasing(&seen);
    for ticks in seen.values() {
        assert!(ticks.iter().all(|t| t.price > 0.0 && t.size > 0.0 && t.ts > 0));
    }
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_client_that_never_reads_neither_blocks_nor_slows_the_others() {
    // Fast ticks (about 3 MB/s of JSON) and a short client queue, so the
    // stalled client overflows the kernel's socket buffers (4 MiB at most
    // here) and then its queue within the 3 s the other client reads. The
    // reader (a debug build parsing every tick, beside the other tests on
    // two cores) has 256 messages of slack: at 64 a reader starved by the
    // machine, not by the stalled client, was sometimes told it lagged.
    let mut config = config(SYMBOLS.len());
    config.tick_interval = Duration::from_millis(1);
    config.client_queue = 256;
    let app = spawn_app(config).await;

    let mut stalled = app.connect_with_small_buffer().await;
    assert!(matches!(next_message(&mut stalled).await, Some(ServerMessage::Snapshot { .. })));
    // From here on `stalled` is not read at all.

    let mut reader = app.connect().await;
    assert!(matches!(next_message(&mut reader).await, Some(ServerMessage::Snapshot { .. })));
    let seen = collect_ticks(&mut reader, Duration::from_secs(3), |_| false).await;

    // The reader got every tick of every symbol: no gap, so it never lagged.
    assert_eq!(seen.len(), SYMBOLS.len());
    for (symbol, ticks) in &seen {
        for pair in ticks.windows(2) {
            assert_eq!(pair[1].seq, pair[0].seq + 1, "{symbol}: gap for the reading client");
        }
    }
    let per_symbol = seen.values().map(Vec::len).min().unwrap_or(0);
    assert!(per_symbol >= 500, "reader got only {per_symbol} ticks per symbol in 3 s");

    // The stalled client, once it reads again, is told it fell behind and
    // gets a fresh snapshot to carry on from.
    let mut lagged = None;
    for _ in 0..100_000 {
        if lagged.is_some() {
            break;
        }
        match next_reply(&mut stalled).await {
            Some(ServerMessage::Lagged { skipped }) => lagged = Some(skipped),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(lagged.is_some_and(|skipped| skipped > 0), "no lagged notice in 100 000 messages");
    assert!(matches!(next_message(&mut stalled).await, Some(ServerMessage::Snapshot { .. })));

    let health: Health = reqwest::get(app.url("/health")).await.expect("health").json().await.expect("json");
    let gateway = health.stages.iter().find(|s| s.name == "gateway").expect("gateway stage");
    assert!(gateway.dropped > 0, "skipped batches are counted");
    assert_eq!(health.clients, 2);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn bad_client_messages_get_an_error_and_the_stream_goes_on() {
    let app = spawn_app(config(5)).await;
    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));

    let bad = ["not json", r#"{"type":"sell_everything"}"#, &"x".repeat(20_000)];
    for text in bad {
        send_text(&mut ws, text).await;
        let error = next_reply(&mut ws).await;
        let Some(ServerMessage::Error { code, message }) = error else {
            panic!("expected an error, got {error:?}")
        };
        let expected = if text.len() > 4096 { ErrorCode::TooLarge } else { ErrorCode::BadMessage };
        assert_eq!(code, expected, "{message}");
    }

    send_text(&mut ws, r#"{"type":"ping","nonce":123}"#).await;
    let pong = next_reply(&mut ws).await;
    assert!(matches!(pong, Some(ServerMessage::Pong { nonce: 123, .. })), "expected pong, got {pong:?}");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn the_forming_bar_is_pushed_while_it_forms() {
    let app = spawn_app(config(5)).await;
    let mut ws = app.connect().await;
    let started = Instant::now();
    let forming = loop {
        assert!(started.elapsed() < Duration::from_secs(4), "no forming bar within 4 s");
        if let Some(ServerMessage::Bars { bars, closed: false }) = next_message(&mut ws).await {
            break bars.into_iter().next().expect("a forming bar");
        }
    };
    assert!(forming.bar.trades > 0 && forming.bar.volume > 0.0);
    assert!(forming.bar.low <= forming.bar.vwap && forming.bar.vwap <= forming.bar.high);
    assert_eq!(forming.bar.start % forming.bar.interval.nanos(), 0);
    app.stop().await.expect("clean stop");
}
