//! The Kafka path's guarantees under faults, on the broker stand-in: a
//! driver killed mid-burst, and a broker that goes away mid-stream and comes
//! back. Per-symbol seqs in the store and at a gateway's WebSocket client
//! must run without gap or repeat, and the driver's memory must stay flat
//! while the broker is away (its in-flight bound).
//!
//! Needs `--features kafka` and `MARQUEE_TEST_KAFKA_BROKERS` (a broker) and
//! `MARQUEE_TEST_TANSU` (the stand-in's binary, for a broker of the test's
//! own that it can stop); scripts/test sets both. The processes share one
//! SQLite data directory, as the browser test of a split deployment does.
#![cfg(feature = "kafka")]

mod support;

mod kafka {
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};

    use crate::support::{kafka_args, tansu};
    use std::time::Duration;

    use futures_util::StreamExt;
    use marquee::store::{SqliteStore, Store};
    use marquee_shared::{Health, ServerMessage, Tick};
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use tokio_tungstenite::tungstenite::Message;

    const TOKEN: &str = "kafka-faults-operator-token";
    const CLUSTER_SECRET: &str = "kafka-faults-cluster-secret";
    /// Ten symbols at 1 ms each: 10,000 ticks/s asked of the driver.
    const SYMBOLS: &str = "AAPL,MSFT,NVDA,AMZN,GOOGL,META,TSLA,JPM,KO,IBM";

    fn env(name: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set (scripts/test sets it)"))
    }

    /// Topics of the test's own on `brokers`.
    async fn topics(brokers: &str) -> String {
        let prefix = format!("faults-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let admin: AdminClient<DefaultClientContext> =
            rdkafka::ClientConfig::new().set("bootstrap.servers", brokers).create().expect("admin client");
        let names: Vec<String> =
            ["ticks", "bars", "alerts", "heartbeats"].iter().map(|t| format!("{prefix}.{t}")).collect();
        let new: Vec<_> = names.iter().map(|n| NewTopic::new(n, 3, TopicReplication::Fixed(1))).collect();
        for created in admin.create_topics(&new, &AdminOptions::new()).await.expect("create topics") {
            created.expect("topic created");
        }
        prefix
    }

    /// A `marquee serve --role ...` process; killed when dropped.
    struct Marquee {
        role: String,
        child: Child,
        url: String,
        log: std::path::PathBuf,
    }

    impl Marquee {
        fn start(role: &str, brokers: &str, prefix: &str, data: &std::path::Path) -> Self {
            let log = data.join(format!("{role}-{}.log", uuid::Uuid::new_v4().simple()));
            let mut child = Command::new(env!("CARGO_BIN_EXE_marquee"))
                .args(["serve", "--role", role, "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(data)
                .args(kafka_args(brokers, prefix))
                .args(["--symbols", SYMBOLS, "--tick-interval-ms", "1", "--static-dir", "does-not-exist"])
                // The backlog a restarted broker releases reaches the gateway
                // at once: the watching client must see every tick (a client
                // that falls further behind is conflated, tested elsewhere).
                // Both bounds of its queue: the message count and the bytes.
                .args(["--client-queue", "65536", "--client-queue-bytes", "1073741824"])
                .env("MARQUEE_OPERATOR_TOKEN", TOKEN)
                .env("MARQUEE_CLUSTER_SECRET", CLUSTER_SECRET)
                .env_remove("ALPHAVANTAGE_API_KEY")
                .env("RUST_LOG", "info")
                .stdout(Stdio::piped())
                .stderr(std::fs::File::create(&log).expect("log file"))
                .spawn()
                .expect("start marquee");
            let stdout = child.stdout.take().expect("stdout");
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(url) = line.strip_prefix("Marquee dashboard: ") {
                        let _ = tx.send(url.trim_end_matches('/').to_owned());
                    }
                }
            });
            let url = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
                panic!("{role} printed no URL: {}", std::fs::read_to_string(&log).unwrap_or_default())
            });
            Self { role: role.to_owned(), child, url, log }
        }

        async fn health(&self) -> Result<Health, String> {
            let response = reqwest::get(format!("{}/health", self.url)).await.map_err(|e| e.to_string())?;
            response.json().await.map_err(|e| e.to_string())
        }

        async fn simulation(&self, action: &str) {
            let response = reqwest::Client::new()
                .post(format!("{}/api/v1/simulation/{action}", self.url))
                .bearer_auth(TOKEN)
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .expect("simulation request");
            assert!(response.status().is_success(), "{action}: {:?}", response.text().await);
        }

        fn rss_mib(&self) -> f64 {
            let status =
                std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?.trim().parse::<f64>().ok())
                .map_or(0.0, |kib| kib / 1024.0)
        }

        fn kill(&mut self) {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }

    impl Drop for Marquee {
        fn drop(&mut self) {
            self.kill();
            if std::thread::panicking() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                eprintln!("--- last lines of the {} log ---", self.role);
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
    }

    /// Reads every tick a gateway sends and checks each symbol's seqs run
    /// on by one: no gap, no repeat, never back.
    struct Watcher {
        task: tokio::task::JoinHandle<BTreeMap<String, u64>>,
        stop: tokio_util::sync::CancellationToken,
    }

    impl Watcher {
        async fn connect(gateway: &Marquee) -> Self {
            let url = format!("{}/ws", gateway.url.replacen("http://", "ws://", 1));
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws connect");
            let stop = tokio_util::sync::CancellationToken::new();
            let stopped = stop.clone();
            let task = tokio::spawn(async move {
                let mut last: BTreeMap<String, u64> = BTreeMap::new();
                loop {
                    let frame = tokio::select! {
                        () = stopped.cancelled() => return last,
                        frame = ws.next() => frame,
                    };
                    let Some(Ok(Message::Text(text))) = frame else { continue };
                    match serde_json::from_str::<ServerMessage>(text.as_str()).expect("a server message") {
                        ServerMessage::Ticks { ticks } => {
                            for tick in ticks {
                                let seen = last.entry(tick.symbol.clone()).or_insert(tick.seq - 1);
                                assert_eq!(
                                    tick.seq,
                                    *seen + 1,
                                    "{}: the client saw {} after {}",
                                    tick.symbol,
                                    tick.seq,
                                    seen
                                );
                                *seen = tick.seq;
                            }
                        }
                        ServerMessage::Lagged { skipped } => panic!("the client lagged ({skipped} skipped)"),
                        _ => {}
                    }
                }
            });
            Self { task, stop }
        }

        async fn finish(self) -> BTreeMap<String, u64> {
            self.stop.cancel();
            self.task.await.expect("the client's checks held")
        }
    }

    /// Waits until the store holds `1..=n` of every symbol the driver made,
    /// `n` being the newest seq Kafka had; then checks none is missing.
    async fn audit(data: &std::path::Path, receiver: &Marquee) -> BTreeMap<String, u64> {
        let store = SqliteStore::open(data).expect("store");
        let mut last_count = 0;
        let mut settled_for = 0;
        let stored = loop {
            let mut by_symbol: BTreeMap<String, Vec<u64>> = BTreeMap::new();
            for symbol in SYMBOLS.split(',') {
                let ticks: Vec<Tick> =
                    store.recent_ticks(symbol.to_owned(), 10_000_000).await.expect("ticks");
                by_symbol.insert(symbol.to_owned(), ticks.into_iter().map(|t| t.seq).collect());
            }
            let count: usize = by_symbol.values().map(Vec::len).sum();
            settled_for = if count == last_count { settled_for + 1 } else { 0 };
            last_count = count;
            // The receiver has caught up once nothing new arrives for 2 s.
            if settled_for >= 8 {
                break by_symbol;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let mut newest = BTreeMap::new();
        for (symbol, mut seqs) in stored {
            seqs.sort_unstable();
            let last = seqs.last().copied().unwrap_or(0);
            let expected: Vec<u64> = (1..=last).collect();
            assert!(
                seqs == expected,
                "{symbol}: stored seqs are not 1..={last} once each ({} stored); receiver {:?}",
                seqs.len(),
                receiver.health().await.map(|h| h.stages)
            );
            newest.insert(symbol, last);
        }
        newest
    }

    #[tokio::test]
    async fn a_driver_killed_mid_burst_resumes_without_gap_or_repeat() {
        let brokers = env("MARQUEE_TEST_KAFKA_BROKERS");
        let prefix = topics(&brokers).await;
        let data = tempfile::tempdir().expect("data dir");
        let receiver = Marquee::start("receiver", &brokers, &prefix, data.path());
        let gateway = Marquee::start("gateway", &brokers, &prefix, data.path());
        let mut driver = Marquee::start("ingest,driver", &brokers, &prefix, data.path());
        let watcher = Watcher::connect(&gateway).await;

        // A burst at 10,000 ticks/s asked, then SIGKILL: no flush, ticks in flight lost with the process.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let made = driver
            .health()
            .await
            .expect("health")
            .stages
            .iter()
            .find(|s| s.name == "driver")
            .map(|s| s.processed);
        assert!(made.is_some_and(|n| n > 5_000), "the driver streamed: {made:?}");
        driver.kill();

        // The new driver resumes each symbol after the newest tick on Kafka.
        let driver = Marquee::start("ingest,driver", &brokers, &prefix, data.path());
        tokio::time::sleep(Duration::from_secs(3)).await;
        driver.simulation("stop").await;
        tokio::time::sleep(Duration::from_secs(2)).await;

        let stored = audit(data.path(), &receiver).await;
        let seen = watcher.finish().await;
        eprintln!("audit: stored up to {stored:?}; the client saw up to {seen:?}");
        for (symbol, last) in &seen {
            assert!(
                stored.get(symbol).is_some_and(|stored| stored >= last),
                "{symbol}: client saw {last}, store ends at {stored:?}"
            );
        }
        drop((receiver, gateway, driver));
    }

    /// A broker of the test's own, which it can stop and start again on the
    /// same port and storage.
    struct Broker {
        child: Option<Child>,
        port: u16,
        dir: tempfile::TempDir,
    }

    impl Broker {
        async fn start() -> Self {
            let port = crate::support::free_port();
            let mut broker = Self { child: None, port, dir: tempfile::tempdir().expect("broker dir") };
            broker.up().await;
            broker
        }

        fn address(&self) -> String {
            format!("127.0.0.1:{}", self.port)
        }

        async fn up(&mut self) {
            let child = tansu(env("MARQUEE_TEST_TANSU"), &self.address(), self.dir.path())
                .spawn()
                .expect("start tansu");
            self.child = Some(child);
            for _ in 0..300 {
                if tokio::net::TcpStream::connect(self.address()).await.is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("tansu did not listen on {}", self.address());
        }

        fn down(&mut self) {
            if let Some(mut child) = self.child.take() {
                Command::new("kill").args(["-TERM", &child.id().to_string()]).status().ok();
                child.wait().ok();
            }
        }
    }

    impl Drop for Broker {
        fn drop(&mut self) {
            self.down();
        }
    }

    #[tokio::test]
    async fn a_broker_restarted_mid_stream_loses_nothing_and_the_driver_holds_its_memory() {
        let mut broker = Broker::start().await;
        let brokers = broker.address();
        let prefix = topics(&brokers).await;
        let data = tempfile::tempdir().expect("data dir");
        let receiver = Marquee::start("receiver", &brokers, &prefix, data.path());
        let gateway = Marquee::start("gateway", &brokers, &prefix, data.path());
        let driver = Marquee::start("ingest,driver", &brokers, &prefix, data.path());
        let watcher = Watcher::connect(&gateway).await;
        tokio::time::sleep(Duration::from_secs(4)).await;

        // The broker goes away for 6 s while the driver keeps making ticks:
        // what it cannot send waits within the in-flight bound, then the
        // driver waits; its memory stays flat.
        broker.down();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_early = driver.rss_mib();
        let mut in_flight_max = 0;
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let health = driver.health().await.expect("health");
            let stage = health.stages.iter().find(|s| s.name == "driver").expect("driver stage");
            in_flight_max = in_flight_max.max(stage.in_flight.unwrap_or(0));
        }
        let rss_late = driver.rss_mib();
        assert!(in_flight_max <= marquee::kafka::IN_FLIGHT_TICKS as u64, "in flight {in_flight_max}");
        assert!(
            rss_late - rss_early < 32.0,
            "the driver grew from {rss_early:.0} MiB to {rss_late:.0} MiB while the broker was away"
        );

        broker.up().await;
        tokio::time::sleep(Duration::from_secs(6)).await;
        driver.simulation("stop").await;
        tokio::time::sleep(Duration::from_secs(2)).await;

        let stored = audit(data.path(), &receiver).await;
        let seen = watcher.finish().await;
        eprintln!(
            "audit: stored up to {stored:?}; the client saw up to {seen:?}; in flight at most {in_flight_max}; driver RSS {rss_early:.0} → {rss_late:.0} MiB"
        );
        drop((receiver, gateway, driver));
    }
}
