//! Processes joined by Kafka, on the stand-in: forwarding: only signed
//! heartbeats name a target, and the operator token stays at the gateway.
//! Built only with the `kafka` feature; scripts/test names the broker.
#![cfg(feature = "kafka")]

use std::time::Duration;

use marquee::kafka::settings::KafkaConfig;
use marquee_shared::{Health, Status};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;

use crate::helpers::{config, spawn_app};

/// The attack of issue 13: anyone able to write to the heartbeats topic
/// named a listener of their own as the driver and received the next
/// operator request with the operator's token. Now only heartbeats signed
/// with the cluster secret name a forwarding target, and a forwarded
/// request carries the gateway's signature, never the token.
#[tokio::test]
async fn a_forged_heartbeat_receives_nothing_and_the_token_never_leaves_the_gateway() {
    use marquee::cluster::cluster_key::{ClusterKey, HEARTBEAT_HEADER};
    use marquee::cluster::instances::Heartbeat;
    use marquee::config::{Role, Roles, Secret};
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const TOKEN: &str = "the operator's own token";
    let brokers = std::env::var("MARQUEE_TEST_KAFKA_BROKERS")
        .expect("MARQUEE_TEST_KAFKA_BROKERS must name the Kafka stand-in (scripts/test sets it)");
    let prefix = format!("forged-{}", uuid::Uuid::new_v4().simple());
    let names: Vec<String> =
        ["ticks", "bars", "alerts", "heartbeats"].iter().map(|t| format!("{prefix}.{t}")).collect();
    let admin: AdminClient<DefaultClientContext> =
        rdkafka::ClientConfig::new().set("bootstrap.servers", &brokers).create().expect("admin");
    let topics: Vec<_> = names.iter().map(|n| NewTopic::new(n, 1, TopicReplication::Fixed(1))).collect();
    for created in admin.create_topics(&topics, &AdminOptions::new()).await.expect("create topics") {
        created.expect("topic created");
    }

    let secret = Secret::new("the deployment's cluster secret");
    let key = ClusterKey::new(&secret).expect("key");
    let mut config = config(5);
    config.cluster.roles = Roles::from_iter([Role::Gateway]);
    config.cluster.key = Some(key.clone());
    config.secrets.operator_token = Some(Secret::new(TOKEN));
    config.cluster.engines.kafka = Some(KafkaConfig {
        brokers: brokers.clone(),
        ticks_topic: names[0].clone(),
        bars_topic: names[1].clone(),
        alerts_topic: names[2].clone(),
        heartbeats_topic: names[3].clone(),
        receiver_group: format!("{prefix}-receivers"),
        options: vec![],
        consumer_options: vec![("max.poll.interval.ms".into(), "6000".into())],
        record_ticks: marquee::kafka::settings::RECORD_TICKS_MAX,
    });
    let app = spawn_app(config).await;

    // The attacker's listener: every request it gets, as text.
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let trap_url = format!("http://{}", trap.local_addr().expect("address"));
    let (caught_tx, mut caught) = tokio::sync::mpsc::unbounded_channel::<String>();
    let trapping = tokio::spawn(async move {
        while let Ok((mut stream, _)) = trap.accept().await {
            let mut head = vec![0u8; 16 * 1024];
            let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut head)).await;
            let text =
                String::from_utf8_lossy(&head[..read.ok().and_then(Result::ok).unwrap_or(0)]).into_owned();
            stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").await.ok();
            caught_tx.send(text).ok();
        }
    });

    let producer: FutureProducer =
        rdkafka::ClientConfig::new().set("bootstrap.servers", &brokers).create().expect("producer");
    let beat = |id: &str, role: &str, address: &str| {
        let now = jiff::Timestamp::now().as_nanosecond() as i64;
        let heartbeat = Heartbeat {
            instance: marquee_shared::Instance {
                id: id.into(),
                roles: vec![role.into()],
                address: address.into(),
                status: Status::Up,
                seen: now,
                uptime_ms: 1,
                stages: vec![],
                dependencies: vec![],
            },
            simulation: None,
        };
        serde_json::to_vec(&heartbeat).expect("json")
    };
    let send = |payload: Vec<u8>, signature: Option<String>| {
        let producer = producer.clone();
        let topic = names[3].clone();
        async move {
            let mut record = FutureRecord::<(), Vec<u8>>::to(&topic).payload(&payload);
            if let Some(signature) = &signature {
                record = record.headers(
                    OwnedHeaders::new()
                        .insert(Header { key: HEARTBEAT_HEADER, value: Some(signature.as_bytes()) }),
                );
            }
            producer.send(record, Duration::from_secs(5)).await.map_err(|(err, _)| err).expect("sent");
        }
    };
    let listed = |id: &'static str| {
        let url = app.url("/health");
        async move {
            let health: Health = reqwest::get(url).await.expect("health").json().await.expect("json");
            health.instances.iter().any(|i| i.id == id)
        }
    };

    // The gateway is reading heartbeats: a signed one is listed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let probe = beat("probe", "receiver", "http://127.0.0.1:9");
        send(probe.clone(), Some(key.sign_heartbeat(&probe))).await;
        if listed("probe").await {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the gateway listed no signed heartbeat");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Forged: unsigned, and signed with a guess at the secret.
    let guess = ClusterKey::new(&Secret::new("a guess at the cluster secret")).expect("key");
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let forged = beat("forger", "driver", &trap_url);
        send(forged.clone(), None).await;
        send(forged.clone(), Some(guess.sign_heartbeat(&forged))).await;
        // The probe is listed again only after the forgeries were read.
        let probe = beat("probe", "receiver", "http://127.0.0.1:9");
        send(probe.clone(), Some(key.sign_heartbeat(&probe))).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let pause = client.post(app.url("/api/v1/simulation/pause")).bearer_auth(TOKEN).send().await;
        assert_eq!(pause.expect("answer").status().as_u16(), 503, "no driver is known");
        assert!(!listed("forger").await, "a forged heartbeat was listed");
    }
    assert!(caught.try_recv().is_err(), "the forger's listener was reached");

    // The same heartbeat signed with the secret: the request reaches the
    // listener, signed by the gateway and without the token.
    let genuine = beat("driver-1", "driver", &trap_url);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !listed("driver-1").await {
        send(genuine.clone(), Some(key.sign_heartbeat(&genuine))).await;
        assert!(tokio::time::Instant::now() < deadline, "the signed driver was not listed");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let pause = client.post(app.url("/api/v1/simulation/pause")).bearer_auth(TOKEN).send().await;
    assert_eq!(pause.expect("answer").status().as_u16(), 200, "forwarded and answered");
    let request = caught.recv().await.expect("the forwarded request").to_ascii_lowercase();
    assert!(request.starts_with("post /api/v1/simulation/pause "), "{request}");
    assert!(request.contains("x-marquee-hop: "), "{request}");
    assert!(
        !request.contains("authorization") && !request.contains(&TOKEN.to_ascii_lowercase()),
        "{request}"
    );

    trapping.abort();
    app.stop().await.expect("clean stop");
}
