//! The server with its engines: Kafka away at start and back later, events
//! through SNS (moto), and a forged SNS notification. Built only with the
//! `kafka` / `sns` features; scripts/test names the stand-ins.

#[cfg(feature = "kafka")]
mod kafka {
    use std::process::Child;
    use std::time::Duration;

    use marquee::kafka::settings::KafkaConfig;
    use marquee_shared::{Health, ServerMessage, Status};
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;

    use crate::helpers::{config, next_message, spawn_app};
    use crate::support::{free_port, tansu};

    struct Broker(Child);

    impl Drop for Broker {
        fn drop(&mut self) {
            self.0.kill().ok();
            self.0.wait().ok();
        }
    }

    fn kafka_dependency(health: &Health) -> (Status, String) {
        let kafka = health.dependencies.iter().find(|d| d.name == "kafka").expect("kafka is checked");
        (kafka.status, kafka.detail.clone())
    }

    #[tokio::test]
    async fn kafka_away_at_start_is_reported_and_the_stream_recovers_when_it_comes() {
        let program = std::env::var("MARQUEE_TEST_TANSU")
            .expect("MARQUEE_TEST_TANSU must name the tansu program for the `kafka` feature's tests");
        let port = free_port();
        let brokers = format!("127.0.0.1:{port}");
        let mut config = config(5);
        config.cluster.engines.kafka = Some(KafkaConfig {
            brokers: brokers.clone(),
            ticks_topic: "recovery.ticks".into(),
            bars_topic: "recovery.bars".into(),
            alerts_topic: "recovery.alerts".into(),
            heartbeats_topic: "recovery.heartbeats".into(),
            receiver_group: "recovery-receivers".into(),
            options: vec![],
            consumer_options: vec![("max.poll.interval.ms".into(), "6000".into())],
            record_ticks: marquee::kafka::settings::RECORD_TICKS_MAX,
        });
        let app = spawn_app(config).await;

        // Nobody answers on the port: /health says Kafka is down, and why.
        let mut health: Health;
        let mut polls = 0;
        loop {
            health = reqwest::get(app.url("/health")).await.expect("health").json().await.expect("json");
            // Dependencies appear with the first sample, a second after start.
            if health.dependencies.iter().any(|d| d.name == "kafka") || polls == 20 {
                break;
            }
            polls += 1;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let (status, detail) = kafka_dependency(&health);
        assert_eq!(status, Status::Down, "{detail}");
        assert!(detail.contains(&brokers) && detail.contains("no answer"), "{detail}");
        assert_ne!(health.status, Status::Up);

        // The broker comes up (with the topics); nothing is restarted.
        let dir = tempfile::tempdir().expect("temp dir");
        let _broker = Broker(tansu(&program, &brokers, dir.path()).spawn().expect("start tansu"));
        let admin: AdminClient<DefaultClientContext> =
            rdkafka::ClientConfig::new().set("bootstrap.servers", &brokers).create().expect("admin");
        let names = ["recovery.ticks", "recovery.bars", "recovery.alerts", "recovery.heartbeats"];
        let topics: Vec<_> = names.iter().map(|n| NewTopic::new(n, 3, TopicReplication::Fixed(1))).collect();
        let mut created = false;
        for _ in 0..40 {
            if let Ok(results) = admin.create_topics(&topics, &AdminOptions::new()).await
                && results.iter().all(Result::is_ok)
            {
                created = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert!(created, "topics created once the broker is up");

        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let health: Health =
                reqwest::get(app.url("/health")).await.expect("health").json().await.expect("json");
            let (status, detail) = kafka_dependency(&health);
            if status == Status::Up {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "Kafka still reported down: {detail}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        // Ticks flow again: driver → Kafka → gateway → this client.
        let mut ws = app.connect().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            assert!(tokio::time::Instant::now() < deadline, "no ticks through Kafka");
            if let Some(ServerMessage::Ticks { ticks }) = next_message(&mut ws).await
                && !ticks.is_empty()
            {
                break;
            }
        }
        app.stop().await.expect("clean stop");
    }

    #[tokio::test]
    async fn a_gateway_alone_says_which_process_an_operator_action_needs() {
        let mut config = config(5);
        config.cluster.roles = marquee::config::Roles::from_iter([marquee::config::Role::Gateway]);
        config.cluster.engines.kafka = Some(KafkaConfig {
            brokers: format!("127.0.0.1:{}", free_port()),
            ticks_topic: "t".into(),
            bars_topic: "b".into(),
            alerts_topic: "a".into(),
            heartbeats_topic: "h".into(),
            receiver_group: "r".into(),
            options: vec![],
            consumer_options: vec![],
            record_ticks: marquee::kafka::settings::RECORD_TICKS_MAX,
        });
        let app = spawn_app(config).await;
        let client = reqwest::Client::new();
        for (path, role) in [("/api/v1/simulation/stop", "driver"), ("/api/v1/fetch", "ingest")] {
            let response =
                client.post(app.url(path)).json(&serde_json::json!({"symbols": ["IBM"]})).send().await;
            let response = response.expect("answer");
            assert_eq!(response.status().as_u16(), 503, "{path}");
            let body: serde_json::Value = response.json().await.expect("json");
            let message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
            assert!(message.contains(&format!("no {role} process is running")), "{path}: {message}");
        }
        // Reading needs no other process: the store answers here.
        let symbols: Vec<serde_json::Value> = app.get_json("/api/v1/symbols", 200).await;
        assert!(symbols.is_empty(), "this gateway's store holds nothing (it does not ingest)");
        app.stop().await.expect("clean stop");
    }
}

#[cfg(feature = "sns")]
mod sns {
    use std::time::Duration;

    use marquee::sns::settings::SnsConfig;
    use marquee_shared::{Health, Status};

    use crate::helpers::{config, spawn_app};

    /// The SNS subscription as last sampled (nothing before the first sample).
    fn sns_detail(health: &Health) -> (Status, String) {
        match health.dependencies.iter().find(|d| d.name == "sns") {
            Some(sns) => (sns.status, sns.detail.clone()),
            None => (Status::Down, "not sampled yet".into()),
        }
    }

    async fn health(app: &crate::helpers::TestApp) -> Health {
        reqwest::get(app.url("/health")).await.expect("health").json().await.expect("json")
    }

    #[tokio::test]
    async fn events_reach_the_driver_through_sns() {
        let endpoint = std::env::var("MARQUEE_TEST_SNS_ENDPOINT")
            .expect("MARQUEE_TEST_SNS_ENDPOINT must name an SNS emulator for the `sns` feature's tests");
        let client = crate::support::sns_client(&endpoint);
        let name = format!("events-{}", uuid::Uuid::new_v4().simple());
        let topic = client.create_topic().name(name).send().await.expect("topic");
        let mut config = config(5);
        config.cluster.engines.sns = Some(SnsConfig {
            topic_arn: topic.topic_arn().expect("arn").to_owned(),
            region: "us-east-1".into(),
            endpoint: Some(endpoint),
            verify: false,
            require_sha256: false,
        });
        let app = spawn_app(config).await;
        // The demo load's events go out to SNS and come back to this
        // process's endpoint, where the driver hears them.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let health = health(&app).await;
            let (status, detail) = sns_detail(&health);
            let heard = status == Status::Up && !detail.contains("; 0 events received");
            if heard && matches!(health.simulation, marquee_shared::SimulationState::Running { .. }) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{detail}; {:?}", health.simulation);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let subscriptions = client.list_subscriptions().send().await.expect("list");
        assert!(
            subscriptions
                .subscriptions()
                .iter()
                .any(|s| s.endpoint().is_some_and(|e| e.ends_with("/sns/events")))
        );
        app.stop().await.expect("clean stop");
    }

    #[tokio::test]
    async fn a_forged_notification_is_refused_with_403_and_not_acted_on() {
        let mut config = config(5);
        config.cluster.engines.sns = Some(SnsConfig {
            topic_arn: "arn:aws:sns:us-east-1:123456789012:marquee-events".into(),
            region: "us-east-1".into(),
            // Nothing answers here: this test needs no SNS.
            endpoint: Some("http://127.0.0.1:1".into()),
            verify: true,
            require_sha256: false,
        });
        let app = spawn_app(config).await;
        let path = format!("{}/tests/fixtures/sns/notification-v1.json", env!("CARGO_MANIFEST_DIR"));
        let mut forged: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
        forged["Message"] = serde_json::json!(
            r#"{"id":"forged","source":"ingest","ts":1,"type":"simulation_stopped","reason":"forged"}"#
        );
        forged["SigningCertURL"] = serde_json::json!("https://forger.example/cert.pem");
        // Fresh, so the age check (which comes first) passes and the signature is what fails.
        forged["Timestamp"] = serde_json::json!(jiff::Timestamp::now().to_string());
        let response = reqwest::Client::new()
            .post(app.url("/sns/events"))
            .header("x-amz-sns-message-type", "Notification")
            .body(forged.to_string())
            .send()
            .await
            .expect("post");
        assert_eq!(response.status().as_u16(), 403);
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "bad_signature", "{body}");
        // The figures are sampled once a second.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let (_, detail) = sns_detail(&health(&app).await);
            if detail.contains("0 events received, 1 messages refused") {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{detail}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        app.stop().await.expect("clean stop");
    }
}
