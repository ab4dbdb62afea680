//! Running `marquee` processes against shared engines, for the split test.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use marquee_shared::{Health, ServerMessage, Tick};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use tokio_tungstenite::tungstenite::Message;

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} must be set for the split test (scripts/test sets it)"))
}

/// Shared by the processes of the test's deployment.
pub const CLUSTER_SECRET: &str = "the split test's cluster secret";

/// The engines and the names this test uses on them (its own topics and database).
pub struct Cluster {
    flags: Vec<String>,
    mongodb_url: String,
    database: String,
    logs: tempfile::TempDir,
}

impl Cluster {
    pub async fn new() -> Self {
        let brokers = env("MARQUEE_TEST_KAFKA_BROKERS");
        let sns = env("MARQUEE_TEST_SNS_ENDPOINT");
        let mongodb_url = env("MARQUEE_TEST_MONGODB_URL");
        let unique = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
        let prefix = format!("split-{unique}");

        let admin: AdminClient<DefaultClientContext> =
            rdkafka::ClientConfig::new().set("bootstrap.servers", &brokers).create().expect("admin client");
        let names: Vec<String> =
            ["ticks", "bars", "alerts", "heartbeats"].iter().map(|t| format!("{prefix}.{t}")).collect();
        let topics: Vec<_> = names.iter().map(|n| NewTopic::new(n, 3, TopicReplication::Fixed(1))).collect();
        for created in admin.create_topics(&topics, &AdminOptions::new()).await.expect("create topics") {
            created.expect("topic created");
        }

        let sns_client = crate::support::sns_client(&sns);
        let topic =
            sns_client.create_topic().name(format!("{prefix}-events")).send().await.expect("SNS topic");
        let topic_arn = topic.topic_arn().expect("topic ARN").to_owned();

        let database = format!("split_{unique}");
        let mut flags = crate::support::kafka_args(&brokers, &prefix);
        flags.extend(
            [
                ("--mongodb-url", mongodb_url.clone()),
                ("--mongodb-database", database.clone()),
                ("--sns-topic-arn", topic_arn),
                ("--sns-endpoint", sns),
                // The emulator does not sign like AWS.
                ("--sns-verify", "false".to_owned()),
                ("--static-dir", "does-not-exist".to_owned()),
            ]
            .into_iter()
            .flat_map(|(flag, value)| [flag.to_owned(), value]),
        );
        Self { flags, mongodb_url, database, logs: tempfile::tempdir().expect("temp dir") }
    }

    /// Starts `marquee serve --role ROLE` and waits for its URL.
    pub fn start(&self, role: &str, extra: &[&str]) -> Marquee {
        let log_path = self.logs.path().join(format!("{role}-{}.log", uuid::Uuid::new_v4().simple()));
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_marquee"));
        command
            .args(["serve", "--role", role, "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(self.logs.path().join("data"))
            .args(&self.flags)
            .args(extra)
            .env_remove("MARQUEE_OPERATOR_TOKEN")
            .env("MARQUEE_CLUSTER_SECRET", CLUSTER_SECRET)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log);
        if role == "ingest" {
            command.env("ALPHAVANTAGE_API_KEY", super::fake_alphavantage::API_KEY);
        } else {
            command.env_remove("ALPHAVANTAGE_API_KEY");
        }
        let mut child = command.spawn().expect("start marquee");
        let stdout = child.stdout.take().expect("stdout");
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Marquee dashboard: ") {
                    url_tx.send(url.trim_end_matches('/').to_owned()).ok();
                }
            }
        });
        let base = url_rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("{role} printed no URL; its log:\n{log}")
        });
        Marquee { role: role.to_owned(), child, base, log_path }
    }

    /// The MongoDB database the processes share.
    pub async fn store(&self) -> Store {
        let client = mongodb::Client::with_uri_str(&self.mongodb_url).await.expect("MongoDB client");
        Store { database: client.database(&self.database) }
    }
}

/// Reads what the processes stored.
pub struct Store {
    database: mongodb::Database,
}

impl Store {
    pub async fn ticks(&self) -> Vec<Tick> {
        let cursor =
            self.database.collection::<Tick>("ticks").find(mongodb::bson::doc! {}).await.expect("find");
        cursor.map(|t| t.expect("a tick")).collect().await
    }

    pub async fn count(&self, collection: &str) -> u64 {
        self.database
            .collection::<mongodb::bson::Document>(collection)
            .count_documents(mongodb::bson::doc! {})
            .await
            .expect("count")
    }
}

/// One running `marquee`; killed when dropped.
pub struct Marquee {
    pub role: String,
    child: Child,
    base: String,
    log_path: std::path::PathBuf,
}

impl Marquee {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `/health` (its body comes with 200 or 503).
    pub async fn health(&self) -> Result<Health, String> {
        let response = reqwest::get(self.url("/health")).await.map_err(|e| e.to_string())?;
        response.json().await.map_err(|e| e.to_string())
    }

    /// Messages a stage of this process has handled.
    pub async fn stage_processed(&self, stage: &str) -> u64 {
        let health = self.health().await.expect("health");
        health.stages.iter().find(|s| s.name == stage).map(|s| s.processed).expect("the stage runs here")
    }

    /// SIGTERM, and waits for the process to finish its clean shutdown.
    pub fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        self.child.wait().ok();
    }

    /// SIGKILL: no flush, no commit, no goodbye.
    pub fn kill(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }

    pub async fn connect(&self) -> Client {
        let url = format!("{}/ws", self.base.replacen("http://", "ws://", 1));
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws connect");
        Client { ws }
    }
}

impl Drop for Marquee {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- last lines of the {} log ---", self.role);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// A browser-like WebSocket client.
pub struct Client {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Client {
    /// The next message; panics after 10 s or if the stream ends.
    pub async fn next(&mut self) -> ServerMessage {
        self.try_next(Duration::from_secs(10)).await.expect("a message within 10 s")
    }

    /// The next message within `wait`, if any.
    pub async fn try_next(&mut self, wait: Duration) -> Option<ServerMessage> {
        loop {
            let frame = tokio::time::timeout(wait, self.ws.next()).await.ok()??;
            match frame.expect("ws frame") {
                Message::Text(text) => {
                    return Some(serde_json::from_str(text.as_str()).expect("a server message"));
                }
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }
}
