//! The Kafka adapters against a real Kafka-protocol broker, named by
//! `MARQUEE_TEST_KAFKA_BROKERS` (scripts/test starts Tansu). Every test
//! makes topics of its own.

use std::sync::Arc;
use std::time::Duration;

use marquee_shared::{Alert, AlertKind, Tick};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::settings::KafkaConfig;
use super::*;
use crate::cluster::instances::{Instances, ThisInstance};
use crate::common::shutdown::Grace;
use crate::config::Role;
use crate::driver::RecentTicks;
use crate::hub::Update;
use crate::metrics::StageStats;
use crate::receiver::TickSource;
use crate::spill::Spill;

const WAIT: Duration = Duration::from_secs(30);

fn brokers() -> String {
    std::env::var("MARQUEE_TEST_KAFKA_BROKERS")
        .expect("MARQUEE_TEST_KAFKA_BROKERS must name a Kafka broker for the `kafka` feature's tests")
}

/// A config whose topics (three partitions each) exist only for this test.
async fn fresh(brokers: &str, test: &str) -> KafkaConfig {
    let unique = format!("{test}-{}", uuid::Uuid::new_v4().simple());
    let config = KafkaConfig {
        brokers: brokers.to_owned(),
        ticks_topic: format!("{unique}.ticks"),
        bars_topic: format!("{unique}.bars"),
        alerts_topic: format!("{unique}.alerts"),
        heartbeats_topic: format!("{unique}.heartbeats"),
        receiver_group: format!("{unique}-receivers"),
        options: vec![],
        // A quick first group join, as the stand-in needs.
        consumer_options: vec![("max.poll.interval.ms".to_owned(), "6000".to_owned())],
        record_ticks: super::settings::RECORD_TICKS_MAX,
    };
    let admin: AdminClient<DefaultClientContext> =
        rdkafka::ClientConfig::new().set("bootstrap.servers", brokers).create().expect("admin client");
    let names = [&config.ticks_topic, &config.bars_topic, &config.alerts_topic, &config.heartbeats_topic];
    let topics: Vec<_> = names.iter().map(|n| NewTopic::new(n, 3, TopicReplication::Fixed(1))).collect();
    let created = admin.create_topics(&topics, &AdminOptions::new()).await.expect("create topics");
    for result in created {
        result.expect("topic created");
    }
    config
}

fn tick(symbol: &str, seq: u64) -> Tick {
    Tick {
        symbol: symbol.into(),
        seq,
        ts: 1_700_000_000_000_000_000 + seq as i64,
        price: 100.0 + seq as f64,
        size: 10.0,
        change: 0.0,
        change_pct: 0.0,
    }
}

/// Sends `batches` through the driver's producer; its stats once all are confirmed.
async fn produce(kafka: &Kafka, batches: Vec<Vec<Tick>>) -> Arc<StageStats> {
    let driver = Arc::new(StageStats::new(crate::common::Stage::Driver));
    let (ticks, input) = mpsc::channel(4);
    let producer = kafka.producer(Arc::clone(&driver), None).expect("producer");
    let topic = kafka.config.ticks_topic.clone();
    let grace = Grace::new(CancellationToken::new(), Duration::from_secs(5));
    let spill = Spill::new(std::path::Path::new("/nonexistent"), "never");
    let record_ticks = kafka.config.record_ticks;
    let producing =
        tokio::spawn(produce_ticks(input, producer, topic, record_ticks, Arc::clone(&driver), grace, spill));
    for batch in batches {
        ticks.send(batch).await.expect("send");
    }
    drop(ticks);
    producing.await.expect("producer task");
    driver
}

async fn next<T>(rx: &mut mpsc::Receiver<T>) -> T {
    tokio::time::timeout(WAIT, rx.recv()).await.expect("in time").expect("open")
}

#[tokio::test]
async fn ticks_keep_their_order_per_symbol_and_only_stored_batches_are_committed() {
    let brokers = brokers();
    // Records of two ticks at most: a batch of three symbols' ticks is split.
    let config = KafkaConfig { record_ticks: 2, ..fresh(&brokers, "ticks").await };
    let kafka = Kafka::new(config.clone(), "test");
    let batches = (1..=20).map(|seq| vec![tick("AAA", seq), tick("BBB", seq), tick("CCC", seq)]).collect();
    let driver = produce(&kafka, batches).await;
    assert_eq!(driver.health().errors, 0, "every tick acknowledged");

    // A first receiver reads everything but says only the first batch is stored.
    let read = |shutdown: CancellationToken| {
        let (out, batches) = mpsc::channel(64);
        let stats = Arc::new(StageStats::new(crate::common::Stage::Receiver));
        let consumer =
            kafka.consumer(&config.receiver_group, "earliest", Arc::clone(&stats)).expect("consumer");
        let task = tokio::spawn(consume_ticks(consumer, config.clone(), out, stats, shutdown));
        (batches, task)
    };
    let shutdown = CancellationToken::new();
    let (mut batches, task) = read(shutdown.clone());
    let mut seen: Vec<Tick> = Vec::new();
    let mut first = None;
    while seen.len() < 60 {
        let batch = tokio::time::timeout(WAIT, batches.next_batch()).await.expect("in time").expect("batch");
        if first.is_none() {
            first = Some((batch.ticks.len(), batch.on_stored));
        }
        seen.extend(batch.ticks);
    }
    for symbol in ["AAA", "BBB", "CCC"] {
        let seqs: Vec<u64> = seen.iter().filter(|t| t.symbol == symbol).map(|t| t.seq).collect();
        assert_eq!(seqs, (1..=20).collect::<Vec<_>>(), "{symbol} in order, each once");
    }
    let (stored, ack) = first.expect("a first batch");
    (ack.expect("batches from Kafka carry an ack"))();
    tokio::time::sleep(Duration::from_secs(1)).await;
    shutdown.cancel();
    task.await.expect("consumer task");
    drop(batches);

    // The next receiver in the group gets exactly what was not committed.
    let shutdown = CancellationToken::new();
    let (mut batches, task) = read(shutdown.clone());
    let mut again = 0;
    while again < 60 - stored {
        let batch = tokio::time::timeout(WAIT, batches.next_batch()).await.expect("in time").expect("batch");
        again += batch.ticks.len();
    }
    let more = tokio::time::timeout(Duration::from_secs(2), batches.next_batch()).await;
    assert!(more.is_err(), "nothing stored was read again");
    assert_eq!(again, 60 - stored);
    shutdown.cancel();
    task.await.expect("consumer task");
}

fn test_key() -> crate::cluster::cluster_key::ClusterKey {
    crate::cluster::cluster_key::ClusterKey::new(&crate::config::Secret::new("a cluster secret for tests"))
        .expect("key")
}

#[tokio::test]
async fn a_gateway_gets_ticks_bars_alerts_and_heartbeats() {
    let brokers = brokers();
    let config = fresh(&brokers, "gateway").await;
    let kafka = Kafka::new(config.clone(), "test");
    let this = ThisInstance {
        id: "gw".into(),
        roles: crate::config::Roles::all(),
        address: "http://gw".into(),
        key: Some(test_key()),
    };
    let instances = Arc::new(Instances::new(&this));
    let (hub, mut updates) = mpsc::channel(64);
    let stats = Arc::new(StageStats::new(crate::common::Stage::Gateway));
    let consumer = kafka.consumer("gateway-test", "earliest", Arc::clone(&stats)).expect("consumer");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consume_for_gateway(
        consumer,
        config.clone(),
        hub,
        Arc::clone(&instances),
        stats,
        shutdown.clone(),
    ));

    let producer_stats = Arc::new(StageStats::new(crate::common::Stage::Receiver));
    let (out, input) = mpsc::channel(8);
    let producing = tokio::spawn(produce_updates(
        input,
        kafka.producer(Arc::clone(&producer_stats), None).expect("producer"),
        config.bars_topic.clone(),
        config.alerts_topic.clone(),
        producer_stats,
        Grace::new(CancellationToken::new(), Duration::from_secs(5)),
    ));
    let alert = Alert {
        symbol: "AAA".into(),
        kind: AlertKind::PriceJump,
        severity: marquee_shared::Severity::Warning,
        value: 6.0,
        threshold: 5.0,
        ts: 1,
    };
    out.send(Update::Alerts(vec![alert.clone()])).await.expect("send");
    drop(out);
    producing.await.expect("producer task");
    produce(&kafka, vec![vec![tick("AAA", 1)]]).await;

    let mut got_alert = false;
    let mut got_tick = false;
    while !(got_alert && got_tick) {
        match next(&mut updates).await {
            Update::Alerts(alerts) => got_alert = alerts == [alert.clone()],
            Update::Ticks(ticks) => got_tick = ticks == [tick("AAA", 1)],
            other => panic!("unexpected {other:?}"),
        }
    }

    // A driver elsewhere sends a heartbeat; the gateway lists it.
    let driver = ThisInstance {
        id: "d1".into(),
        roles: roles(&[Role::Driver]),
        address: "http://d1".into(),
        key: Some(test_key()),
    };
    let (metrics, watched) = tokio::sync::watch::channel(metrics_now());
    let beats = CancellationToken::new();
    let simulation = marquee_shared::SimulationState::Running { symbols: 5, speed: 1.0 };
    let key = driver.key.clone();
    let sending = tokio::spawn(produce_heartbeats(
        watched,
        move |m| driver.heartbeat(m, simulation),
        key,
        kafka.producer(Arc::new(StageStats::unlisted("heartbeats")), None).expect("producer"),
        config.heartbeats_topic.clone(),
        beats.clone(),
    ));
    metrics.send_replace(metrics_now());
    let deadline = tokio::time::Instant::now() + WAIT;
    while instances.others(std::time::Instant::now()).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no heartbeat arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let others = instances.others(std::time::Instant::now());
    assert_eq!((others[0].id.as_str(), others[0].roles.as_slice()), ("d1", ["driver".to_owned()].as_slice()));
    assert_eq!(instances.simulation(std::time::Instant::now()), Some(simulation));
    beats.cancel();
    sending.await.expect("heartbeat task");
    shutdown.cancel();
    task.await.expect("consumer task");
}

fn roles(roles: &[Role]) -> crate::config::Roles {
    crate::config::Roles::from_iter(roles.iter().copied())
}

fn metrics_now() -> marquee_shared::Metrics {
    marquee_shared::Metrics { ts: crate::common::time::now_ns(), ..Default::default() }
}

#[tokio::test]
async fn the_check_names_a_missing_topic_and_a_broker_that_does_not_answer() {
    let brokers = brokers();
    let config = fresh(&brokers, "check").await;
    let kafka = Kafka::new(config.clone(), "test");
    let up = KafkaCheck::new(&kafka, vec![config.ticks_topic.clone()])
        .expect("check")
        .probe(Duration::from_secs(5))
        .await;
    assert_eq!(up.status, marquee_shared::Status::Up, "{up:?}");
    let missing = KafkaCheck::new(&kafka, vec!["no.such.topic".into()])
        .expect("check")
        .probe(Duration::from_secs(5))
        .await;
    assert_eq!(missing.status, marquee_shared::Status::Down);
    assert!(missing.detail.contains("no.such.topic"), "{missing:?}");

    let nobody = Kafka::new(KafkaConfig { brokers: "127.0.0.1:1".into(), ..config }, "test");
    let down =
        KafkaCheck::new(&nobody, vec!["x".into()]).expect("check").probe(Duration::from_millis(500)).await;
    assert_eq!(down.status, marquee_shared::Status::Down);
    assert!(down.detail.contains("127.0.0.1:1") && down.detail.contains("no answer"), "{down:?}");
}

#[tokio::test]
async fn the_tail_gives_the_newest_seq_of_every_symbol() {
    let brokers = brokers();
    let config = fresh(&brokers, "tail").await;
    let kafka = Kafka::new(config.clone(), "test");
    let tail = TicksTail::new(kafka.clone());
    assert!(tail.last_ticks().await.expect("an empty topic").is_empty());

    let batches = (1..=10)
        .map(|seq| if seq <= 4 { vec![tick("AAA", seq), tick("BBB", seq)] } else { vec![tick("AAA", seq)] })
        .collect();
    produce(&kafka, batches).await;
    let mut newest: Vec<(String, u64)> =
        tail.last_ticks().await.expect("tail").into_iter().map(|t| (t.symbol, t.seq)).collect();
    newest.sort();
    assert_eq!(newest, [("AAA".to_owned(), 10), ("BBB".to_owned(), 4)]);
}

/// A broker that never answers: at shutdown the producer stops within the
/// grace and every tick it was given is in the spill file, none dropped.
#[tokio::test]
async fn ticks_kafka_never_confirms_are_spilled_at_the_end_of_the_grace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nobody = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
        probe.local_addr().expect("addr").to_string()
    };
    let config = KafkaConfig {
        brokers: nobody,
        ticks_topic: "nowhere.ticks".to_owned(),
        bars_topic: "nowhere.bars".to_owned(),
        alerts_topic: "nowhere.alerts".to_owned(),
        heartbeats_topic: "nowhere.heartbeats".to_owned(),
        receiver_group: "nowhere".to_owned(),
        options: vec![],
        consumer_options: vec![],
        record_ticks: super::settings::RECORD_TICKS_MAX,
    };
    let kafka = Kafka::new(config, "spill-test");
    let driver = Arc::new(StageStats::new(crate::common::Stage::Driver));
    let producer = kafka.producer(Arc::clone(&driver), None).expect("producer");
    let (ticks, input) = mpsc::channel(4);
    let shutdown = CancellationToken::new();
    let grace = Grace::new(shutdown.clone(), Duration::from_millis(500));
    let spill = Spill::new(dir.path(), "driver");
    let producing = tokio::spawn(produce_ticks(
        input,
        producer,
        "nowhere.ticks".to_owned(),
        super::settings::RECORD_TICKS_MAX,
        driver,
        grace,
        spill.clone(),
    ));
    ticks.send(vec![tick("AAA", 1), tick("BBB", 1)]).await.expect("send");
    ticks.send(vec![tick("AAA", 2)]).await.expect("send");
    tokio::time::sleep(Duration::from_millis(300)).await;
    shutdown.cancel();
    drop(ticks);
    let asked = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(5), producing).await.expect("stops").expect("no panic");
    assert!(asked.elapsed() < Duration::from_millis(2_000), "took {:?}", asked.elapsed());
    let bytes = std::fs::read(spill.path()).expect("the spill file");
    let mut spilled: Vec<_> =
        crate::spill::record::decode(&bytes).ticks.into_iter().map(|t| (t.symbol, t.seq)).collect();
    spilled.sort();
    assert_eq!(spilled, [("AAA".to_owned(), 1), ("AAA".to_owned(), 2), ("BBB".to_owned(), 1)]);
}
