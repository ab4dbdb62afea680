//! Marquee split across four processes on loopback, joined by real engines
//! (stand-ins speaking their protocols): Kafka for ticks, bars, alerts and
//! heartbeats, SNS for events, MongoDB for the store.
//!
//! Needs a build with `--features kafka,sns,mongo` and the servers named by
//! `MARQUEE_TEST_KAFKA_BROKERS`, `MARQUEE_TEST_SNS_ENDPOINT` and
//! `MARQUEE_TEST_MONGODB_URL` (scripts/test starts Tansu, moto and nx-27017).
#![cfg(all(feature = "kafka", feature = "sns", feature = "mongo"))]

#[path = "api/fake_alphavantage.rs"]
mod fake_alphavantage;
mod split_support;
mod support;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use marquee_shared::{ServerMessage, Status, Tick};
use split_support::Cluster;
use support::eventually;

const SYMBOLS: [&str; 5] = ["AAA", "BBB", "CCC", "DDD", "EEE"];

#[tokio::test]
async fn four_processes_stream_through_kafka_and_lose_nothing_when_the_receiver_is_killed() {
    let cluster = Cluster::new().await;
    let alphavantage = fake_alphavantage::FakeAlphaVantage::default();
    let alphavantage_url = alphavantage.start().await;

    let ingest =
        cluster.start("ingest", &["--alphavantage-url", &alphavantage_url, "--alphavantage-rpm", "600"]);
    let mut driver = cluster.start("driver", &[]);
    let mut receiver = cluster.start("receiver", &[]);
    let gateway = cluster.start("gateway", &[]);

    // Every process is up and the gateway lists all four (heartbeats).
    eventually("the gateway lists four healthy instances", Duration::from_secs(30), || async {
        let health = gateway.health().await?;
        let up = health.instances.iter().filter(|i| i.status == Status::Up).count();
        (up == 4).then_some(()).ok_or(format!("{} instances, {up} up", health.instances.len()))
    })
    .await;
    for process in [&ingest, &driver, &receiver, &gateway] {
        let health = process.health().await.expect("health");
        let kafka = health.dependencies.iter().find(|d| d.name == "kafka").expect("kafka checked");
        assert_eq!(kafka.status, Status::Up, "{}: {kafka:?}", process.role);
    }
    let mut client = gateway.connect().await;

    // A fetch of five symbols, asked of the gateway, which forwards it to
    // the ingest process.
    let fetch = serde_json::json!({ "symbols": SYMBOLS });
    let response =
        reqwest::Client::new().post(gateway.url("/api/v1/fetch")).json(&fetch).send().await.expect("fetch");
    assert_eq!(response.status().as_u16(), 202, "{:?}", response.text().await);

    // The driver hears of the data over SNS and starts the simulation.
    eventually("the driver receives events over SNS", Duration::from_secs(30), || async {
        let health = driver.health().await?;
        let sns = health.dependencies.iter().find(|d| d.name == "sns").ok_or("no sns dependency")?;
        let received = sns.detail.contains(" subscribed ") && !sns.detail.contains("; 0 events received");
        received.then_some(()).ok_or(sns.detail.clone())
    })
    .await;

    // Ticks of all five symbols reach the browser's WebSocket through Kafka.
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut bars = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.len() < SYMBOLS.len() || bars == 0 {
        assert!(tokio::time::Instant::now() < deadline, "ticks {seen:?}, bar messages {bars}");
        match client.next().await {
            ServerMessage::Ticks { ticks } => {
                for tick in ticks {
                    let max = seen.entry(tick.symbol.clone()).or_default();
                    *max = (*max).max(tick.seq);
                }
            }
            ServerMessage::Bars { .. } => bars += 1,
            _ => {}
        }
    }

    // Kill the receiver mid-stream (no chance to flush or commit). While it
    // is away the store falls behind Kafka; restart the driver then (it must
    // resume each symbol after the ticks in flight, not after the store's),
    // and only then bring a new receiver up in the old one's place.
    tokio::time::sleep(Duration::from_secs(2)).await;
    receiver.kill();
    let killed = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let client_http = reqwest::Client::new();
    let stopped = client_http.post(driver.url("/api/v1/simulation/stop")).send().await.expect("stop");
    assert_eq!(stopped.status().as_u16(), 200, "{:?}", stopped.text().await);
    let produced_before = driver.stage_processed("driver").await;
    driver.terminate();
    driver = cluster.start("driver", &[]);
    // The stand-in broker (Tansu 0.6) never finishes a rebalance that a new
    // member starts while a dead member's session is still open, so the new
    // receiver joins once the killed one's session (6 s) has run out. Kafka
    // itself would let it join at once and hand it the partitions then.
    tokio::time::sleep_until(killed + Duration::from_secs(8)).await;
    receiver = cluster.start("receiver", &[]);

    // Stream on, then stop the simulation (through the gateway, which
    // forwards it to the driver) and let the receiver catch up.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let stopped = client_http.post(gateway.url("/api/v1/simulation/stop")).send().await.expect("stop");
    assert_eq!(stopped.status().as_u16(), 200, "{:?}", stopped.text().await);
    let simulation = driver.health().await.expect("health").simulation;
    assert!(matches!(simulation, marquee_shared::SimulationState::Stopped { .. }), "{simulation:?}");
    while let Some(message) = client.try_next(Duration::from_millis(500)).await {
        if let ServerMessage::Ticks { ticks } = message {
            for tick in ticks {
                let max = seen.entry(tick.symbol.clone()).or_default();
                *max = (*max).max(tick.seq);
            }
        }
    }
    let produced = produced_before + driver.stage_processed("driver").await;
    assert!(produced > produced_before, "the new driver made ticks");

    // Audit: every tick the driver produced is in MongoDB exactly once.
    let store = cluster.store().await;
    let stored = eventually("the store holds every tick produced", Duration::from_secs(60), || async {
        let ticks: Vec<Tick> = store.ticks().await;
        let stored = ticks.len();
        let receiving = receiver.health().await.map(|h| format!("{:?}", h.stages));
        (stored as u64 == produced)
            .then_some(ticks)
            .ok_or(format!("{stored} of {produced} stored; receiver: {receiving:?}"))
    })
    .await;
    let mut by_symbol: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for tick in stored {
        by_symbol.entry(tick.symbol).or_default().push(tick.seq);
    }
    assert_eq!(by_symbol.keys().collect::<Vec<_>>(), SYMBOLS.iter().collect::<Vec<_>>());
    eprintln!("audit: {produced} ticks produced and stored; browser saw up to {seen:?}");
    for (symbol, mut seqs) in by_symbol {
        seqs.sort_unstable();
        let last = *seqs.last().expect("ticks");
        assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "{symbol}: each seq from 1 to {last} exactly once");
        assert!(
            seen[&symbol] <= last,
            "{symbol}: the browser saw seq {} but the store ends at {last}",
            seen[&symbol]
        );
    }
    // Each symbol was fetched once; its daily bars are in MongoDB, 30 each.
    for symbol in SYMBOLS {
        assert_eq!(alphavantage.count("TIME_SERIES_DAILY", symbol), 1, "{symbol}");
    }
    assert_eq!(store.count("daily_bars").await, 30 * SYMBOLS.len() as u64);
    let receiver_health = receiver.health().await.expect("health");
    assert!(receiver_health.stages.iter().any(|s| s.name == "receiver" && s.status == Status::Up));
    drop((ingest, driver, receiver, gateway));
}
