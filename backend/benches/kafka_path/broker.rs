//! The Kafka-protocol broker stand-in (Tansu) on a free port, and topics on it.

use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;

/// A broker process, stopped when dropped.
pub struct Broker {
    child: Child,
    pub address: String,
    _dir: tempfile::TempDir,
}

impl Broker {
    /// Starts `tansu` (from `path`, else `MARQUEE_TEST_TANSU`, else the copy
    /// `scripts/setup.sh` installs) with SQLite storage in a fresh directory.
    pub async fn start(path: Option<PathBuf>) -> anyhow::Result<Self> {
        let path = path
            .or_else(|| std::env::var_os("MARQUEE_TEST_TANSU").map(PathBuf::from))
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/marquee/tansu/bin/tansu"))
            })
            .context("no tansu: pass --tansu PATH")?;
        let address = format!("127.0.0.1:{}", crate::support::free_port());
        let dir = tempfile::tempdir()?;
        let child = crate::support::tansu(&path, &address, dir.path())
            .spawn()
            .with_context(|| format!("cannot start {}", path.display()))?;
        let broker = Self { child, address, _dir: dir };
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(&broker.address).await.is_ok() {
                return Ok(broker);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("tansu did not listen on {} within 30 s", broker.address)
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Creates `names` with `partitions` each.
    pub async fn create_topics(&self, names: &[String], partitions: i32) -> anyhow::Result<()> {
        let admin: AdminClient<DefaultClientContext> =
            rdkafka::ClientConfig::new().set("bootstrap.servers", &self.address).create()?;
        let topics: Vec<_> =
            names.iter().map(|n| NewTopic::new(n, partitions, TopicReplication::Fixed(1))).collect();
        for created in admin.create_topics(&topics, &AdminOptions::new()).await? {
            created.map_err(|(topic, err)| anyhow::anyhow!("cannot create {topic}: {err}"))?;
        }
        Ok(())
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
