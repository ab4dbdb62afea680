//! Every `ServerMessage` built from hostile inputs through the real paths
//! (the simulation seeded at and beyond the price ceiling, ticks as a Kafka
//! record could carry them, the analytics over prices at the limits and
//! volumes at the ceiling, a signed heartbeat with absurd figures, a store
//! holding an impossible tick, the sampler and the hub's own encoding): the
//! JSON holds only numbers where numbers are promised. `null` appears only
//! for the `Option` fields the wire documents (indicators not warmed up yet,
//! a snapshot's metrics before the first sample, ...), and an indicator that
//! is warmed up is a number, never an overflow turned `null`.

use std::time::Duration;

use marquee_shared::validate::{MAX_PRICE, MAX_SEQ, MAX_VOLUME, MIN_PRICE};
use marquee_shared::{
    AnalyzedBar, BarInterval, Channel, ErrorCode, Event, EventKind, SimulationState, SymbolInfo,
    SymbolSelection, Validate,
};
use serde_json::Value;

use super::*;
use crate::analytics::{Analytics, Output};
use crate::cluster::cluster_key::ClusterKey;
use crate::cluster::instances::{Instances, ThisInstance};
use crate::config::{Roles, Secret};
use crate::driver::{RandomWalk, Seed, WalkParams};
use crate::metrics::{PipelineStats, Sampler};
use crate::store::SqliteStore;

/// Keys whose value may be `null`: `Option` fields documented as "not yet"
/// or "not known" on the wire.
const MAY_BE_NULL: [&str; 19] = [
    // Indicators before they are warmed up.
    "sma20",
    "sma50",
    "ema12",
    "ema26",
    "rsi14",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    // A snapshot before the first sample, figures a stage does not have.
    "metrics",
    "health",
    "end_to_end",
    "latency",
    "edge",
    // A symbol without a company name; a stored (not live) quote's seq.
    "name",
    "seq",
    "latest",
];

const MINUTE: i64 = 60_000_000_000;
/// 2025-11-23, in ns.
const BASE: i64 = 1_763_856_000_000_000_000;

/// The variant's tag; exhaustive, so a new variant fails to compile here
/// until this test builds it too.
fn variant(message: &ServerMessage) -> &'static str {
    match message {
        ServerMessage::Snapshot { .. } => "snapshot",
        ServerMessage::Simulation { .. } => "simulation",
        ServerMessage::Ticks { .. } => "ticks",
        ServerMessage::Bars { .. } => "bar",
        ServerMessage::Alert { .. } => "alert",
        ServerMessage::Event { .. } => "event",
        ServerMessage::Metrics { .. } => "metrics",
        ServerMessage::Health { .. } => "health",
        ServerMessage::Lagged { .. } => "lagged",
        ServerMessage::Resumed { .. } => "resumed",
        ServerMessage::Subscribed { .. } => "subscribed",
        ServerMessage::Pong { .. } => "pong",
        ServerMessage::Error { .. } => "error",
    }
}
const VARIANTS: usize = 13;

/// Every `null` in `value` is under a key of [`MAY_BE_NULL`]; `path` says where.
fn assert_numbers_or_documented_nulls(value: &Value, path: &str) {
    match value {
        Value::Null => {
            let key = path.rsplit('.').next().unwrap_or_default();
            assert!(MAY_BE_NULL.contains(&key), "null at {path}, where a number is promised");
        }
        Value::Number(n) => assert!(n.as_f64().is_some_and(f64::is_finite), "{path} = {n}"),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| assert_numbers_or_documented_nulls(v, &format!("{path}[{i}]"))),
        Value::Object(fields) => {
            fields.iter().for_each(|(k, v)| assert_numbers_or_documented_nulls(v, &format!("{path}.{k}")))
        }
        Value::Bool(_) | Value::String(_) => {}
    }
}

/// Ticks as a Kafka record could carry them, through the same check as
/// the consumer's: the impossible ones never get past it.
fn from_the_wire() -> Vec<Tick> {
    let record = |seq: u64, price: &str, size: &str| {
        format!(
            r#"{{"symbol":"EDGE","seq":{seq},"ts":{BASE},"price":{price},"size":{size},"change":1e300,"change_pct":-1e300}}"#
        )
    };
    let records = [
        record(u64::MAX, "1", "1"),
        record(1, "1e308", "1"),
        record(1, "1", "1e30"),
        record(1, "1e400", "1"),
        record(MAX_SEQ - 1, &MIN_PRICE.to_string(), "0"),
        record(MAX_SEQ, &MAX_PRICE.to_string(), &MAX_VOLUME.to_string()),
    ];
    let ticks: Vec<Tick> = records
        .iter()
        .filter_map(|r| serde_json::from_str::<Tick>(r).ok())
        .filter(|t| t.validate().is_ok())
        .collect();
    assert_eq!(ticks.len(), 2, "only the two valid extremes pass");
    ticks
}

/// The simulation from seeds at, beyond and below the price limits, with
/// a strong drift and big jumps: a tick every 2 s for 100 minutes.
fn simulated() -> Vec<Vec<Tick>> {
    let params =
        WalkParams { volatility: 2.0, drift: 50.0, step_secs: 2.0, jump_probability: 0.05, jump_size: 3.0 };
    let seeds = vec![
        Seed::at("TOP", MAX_PRICE),
        Seed { symbol: "POISON".into(), reference: 1e308, price: f64::INFINITY, seq: 0 },
        Seed::at("FLOOR", MIN_PRICE),
    ];
    let mut walk = RandomWalk::new(seeds, params, 3);
    (0..3_000).map(|i| walk.step(BASE + i * 2_000_000_000)).collect()
}

/// Prices at the ceiling with volumes at the ceiling for 80 minutes, then
/// a crash to the floor on a bigger bar: a price jump and a volume spike.
fn crash() -> Vec<Tick> {
    let mut seq = 0;
    let mut tick = |ts: i64, price: f64| {
        seq += 1;
        Tick { symbol: "CRASH".into(), seq, ts, price, size: MAX_VOLUME as f64, change: 0.0, change_pct: 0.0 }
    };
    let mut ticks = Vec::new();
    for m in 0..80 {
        for i in 0..30 {
            let wiggle = if i % 2 == 0 { 1.0 } else { 1.0 - 1e-6 };
            ticks.push(tick(BASE + m * MINUTE + i * 1_000_000_000, MAX_PRICE * wiggle));
        }
    }
    for i in 0..200 {
        ticks.push(tick(BASE + 80 * MINUTE + i * 100_000_000, MIN_PRICE));
    }
    ticks.push(tick(BASE + 81 * MINUTE, MIN_PRICE));
    ticks
}

/// A heartbeat signed with the cluster secret but full of absurd figures.
fn hostile_heartbeat(key: &ClusterKey, instances: &Instances) {
    let beat = format!(
        r#"{{"instance":{{"id":"evil","roles":["receiver"],"address":"http://evil","status":"up","seen":{},
        "uptime_ms":18446744073709551615,"stages":[{{"name":"receiver","status":"up","detail":"",
        "processed":18446744073709551615,"dropped":18446744073709551615,"errors":0,
        "rate":1.7976931348623157e308,"error_rate":1e308,"buffer_fill":1e308,
        "latency":{{"p50_ms":1e308,"p95_ms":1e308,"p99_ms":1e308,"max_ms":1e308,"samples":18446744073709551615}}}}],
        "dependencies":[]}}}}"#,
        crate::common::time::now_ns()
    );
    let signature = key.sign_heartbeat(beat.as_bytes());
    instances.receive(beat.as_bytes(), Some(signature.as_bytes())).expect("signed, and only absurd");
}

#[tokio::test]
async fn every_server_message_from_hostile_inputs_carries_only_numbers() {
    // A store holding an impossible tick from before the checks.
    let store: SharedStore = Arc::new(SqliteStore::in_memory().expect("store"));
    let stored = Tick {
        symbol: "TOP".into(),
        seq: 1,
        ts: BASE,
        price: 1e308,
        size: 1.0,
        change: 0.0,
        change_pct: 0.0,
    };
    store.insert_ticks(vec![stored]).await.expect("stored as before the checks");

    let (input, input_rx) = mpsc::channel(64);
    let view = SimulationView { state: SimulationState::Stopped { symbols: 0 }, symbols: vec![] };
    let (view_tx, view_rx) = watch::channel(view);
    let (events_tx, events_rx) = broadcast::channel(4);
    let settings = HubSettings { client_queue: 4_096, history: 64 };
    let stats = Arc::new(PipelineStats::new());
    let (hub, handle) =
        Hub::new(input_rx, view_rx.clone(), events_rx, store, settings, Arc::clone(&stats.gateway));
    let shutdown = CancellationToken::new();
    let hub_task = tokio::spawn(hub.run(shutdown.clone()));

    // The sampler, as in a gateway that lists a hostile instance.
    let key = ClusterKey::new(&Secret::new("the wire test's cluster secret")).expect("key");
    let this = ThisInstance {
        id: "me".into(),
        roles: Roles::all(),
        address: "http://me".into(),
        key: Some(key.clone()),
    };
    let instances = Arc::new(Instances::new(&this));
    hostile_heartbeat(&key, &instances);
    let now = crate::common::time::now_ns();
    stats.gateway.latency.record_ages(now, [i64::MIN, i64::MAX, 0, now]);
    stats.receiver.latency.record_ages(now, [i64::MIN]);
    stats.gateway.add_processed(u64::MAX);
    let (sampler, _) = Sampler::new(Arc::clone(&stats), view_rx, vec![], input.clone(), this, instances);
    let sampler_task = tokio::spawn(sampler.run(shutdown.clone()));

    let mut sub = handle.subscribe().await.expect("subscribe");
    let mut frames = vec![sub.snapshot.clone()];

    // Ticks through the analytics, as the receiver runs them.
    let mut analytics = Analytics::default();
    let mut output = Output::default();
    let mut batches = simulated();
    batches.push(crash());
    batches.push(from_the_wire());
    for batch in &batches {
        assert!(batch.iter().all(|t| t.validate().is_ok()), "the simulation makes only valid ticks");
        batch.iter().for_each(|t| analytics.on_tick(t, &mut output));
        input.send(Update::Ticks(batch.clone())).await.expect("hub");
    }
    assert!(output.bars.iter().all(|b| b.validate().is_ok()));
    assert!(output.alerts.iter().all(|a| a.validate().is_ok()));
    let kinds: Vec<_> = output.alerts.iter().map(|a| a.kind).collect();
    assert!(kinds.contains(&marquee_shared::AlertKind::PriceJump), "{kinds:?}");
    assert!(kinds.contains(&marquee_shared::AlertKind::VolumeSpike), "{kinds:?}");
    let warmed: Vec<&AnalyzedBar> = ["TOP", "POISON", "FLOOR", "CRASH"]
        .iter()
        .filter_map(|s| {
            output.bars.iter().rev().find(|b| b.bar.symbol == *s && b.bar.interval == BarInterval::OneMinute)
        })
        .collect();
    assert_eq!(warmed.len(), 4);
    input.send(Update::Bars(output.bars.clone())).await.expect("hub");
    input.send(Update::Forming(analytics.forming_bars())).await.expect("hub");
    input.send(Update::Alerts(output.alerts.clone())).await.expect("hub");
    view_tx.send_replace(SimulationView {
        state: SimulationState::Running { symbols: u64::MAX, speed: 1e308 },
        symbols: vec![SymbolInfo {
            symbol: "TOP".into(),
            name: None,
            source: marquee_shared::DataSource::Csv,
            feed: Some(marquee_shared::Feed::Live { venue: "Coinbase".into() }),
        }],
    });
    let event = Event {
        id: "e".into(),
        source: "test".into(),
        ts: i64::MAX,
        kind: EventKind::SymbolDataLoaded {
            symbol: "TOP".into(),
            records: u64::MAX,
            latest_ts: i64::MIN,
            latest_close: MAX_PRICE,
        },
    };
    events_tx.send(event).expect("hub listens");

    // Everything the hub sends, until the sampler's metrics and health are in.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let (mut metrics, mut health) = (false, false);
    while !(metrics && health) {
        let envelope = tokio::time::timeout_at(deadline, sub.updates.recv())
            .await
            .expect("the sampler's figures within 10 s")
            .expect("not lagged");
        metrics |= matches!(envelope.message, ServerMessage::Metrics { .. });
        health |= matches!(envelope.message, ServerMessage::Health { .. });
        frames.push(envelope.frame.clone());
    }
    frames.push(handle.subscribe().await.expect("subscribe").snapshot);
    // The session's own replies, from the largest values they can hold.
    for reply in [
        ServerMessage::Lagged { skipped: u64::MAX },
        ServerMessage::Resumed { replayed: u64::MAX },
        ServerMessage::Subscribed {
            symbols: SymbolSelection::All { except: u64::MAX },
            channels: Channel::ALL.to_vec(),
        },
        ServerMessage::Pong { nonce: u64::MAX, server_time: i64::MIN },
        ServerMessage::Error { code: ErrorCode::RateLimited, message: "1e308".into() },
    ] {
        frames.push(encode(&reply).expect("encodes"));
    }

    let mut seen = std::collections::BTreeSet::new();
    for frame in &frames {
        let value: Value = serde_json::from_str(frame.as_str()).expect("JSON");
        let message: ServerMessage = serde_json::from_value(value.clone()).expect("a server message");
        seen.insert(variant(&message));
        assert_numbers_or_documented_nulls(&value, variant(&message));
    }
    assert_eq!(seen.len(), VARIANTS, "every variant was built: {seen:?}");

    // Warmed-up indicators are numbers, not an overflow turned `null`.
    for bar in warmed {
        let json = serde_json::to_value(bar).expect("json");
        for (name, value) in json["indicators"].as_object().expect("indicators") {
            assert!(value.is_f64(), "{} {name} is {value} after warming up", bar.bar.symbol);
        }
    }
    // The impossible stored tick was not taken into the resume history.
    let quotes = handle.quotes().await.expect("quotes");
    assert!(quotes.iter().all(|t| t.validate().is_ok()), "{quotes:?}");

    shutdown.cancel();
    hub_task.await.expect("hub stops");
    sampler_task.await.expect("sampler stops");
}
