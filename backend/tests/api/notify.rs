//! Alert delivery against real servers (`peers.rs`): a webhook receiver
//! that verifies the Standard Webhooks signature with the standardwebhooks
//! package, and aiosmtpd requiring STARTTLS and AUTH. Rules, cooldown,
//! retries (500 then 200; 429 with Retry-After), a sink down for its whole
//! retry budget (the dead letter), a burst that overflows a bounded queue,
//! and the operator's test alert through the real server.

use std::sync::Arc;
use std::time::Duration;

use marquee::config::Secret;
use marquee::events::{Events, InProcessBus};
use marquee::notify::email::{Email, SmtpSettings};
use marquee::notify::retry::RetryPolicy;
use marquee::notify::rules::Rules;
use marquee::notify::sink::Transport;
use marquee::notify::webhook::SigningKey;
use marquee::notify::{self, NotifierHandle, NotifyConfig, SinkConfig};
use marquee::store::{SharedStore, SqliteStore};
use marquee_shared::{Alert, AlertKind, EventKind, Severity, SinkFigures};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::peers::Peer;
use crate::support::eventually;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MS: Duration = Duration::from_millis(1);

fn alert(symbol: &str, kind: AlertKind, severity: Severity) -> Alert {
    Alert { symbol: symbol.into(), kind, severity, value: 5.2, threshold: 4.0, ts: 1_796_637_600_000_000_000 }
}

fn webhook(peer: &Peer) -> Transport {
    Transport::Webhook { url: Secret::new(peer.url()), key: SigningKey::parse(SECRET).expect("a secret") }
}

fn sink(name: &str, transport: Transport, rules: Rules) -> SinkConfig {
    SinkConfig { name: name.into(), rules, transport }
}

/// Every alert, no cooldown.
fn everything() -> Rules {
    Rules { min_severity: Severity::Info, cooldown: Duration::ZERO, ..Rules::default() }
}

fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy { attempts, first: 20 * MS, max: 200 * MS }
}

struct Running {
    notifier: NotifierHandle,
    store: SharedStore,
    shutdown: CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn start(sinks: Vec<SinkConfig>, policy: RetryPolicy, queue: usize) -> Running {
    let store: SharedStore = Arc::new(SqliteStore::in_memory().expect("store"));
    let events = Events::new(Arc::new(InProcessBus::new(64)), Arc::clone(&store), "receiver");
    let config = NotifyConfig {
        sinks,
        dashboard: "http://127.0.0.1:8080/".into(),
        policy,
        queue,
        timeout: Duration::from_secs(5),
    };
    let shutdown = CancellationToken::new();
    let notifier =
        notify::spawn(&config, Some(events), &TaskTracker::new(), &shutdown).expect("spawn").expect("sinks");
    Running { notifier, store, shutdown }
}

async fn figures_when(running: &Running, what: &str, done: impl Fn(&SinkFigures) -> bool) -> SinkFigures {
    eventually(what, Duration::from_secs(15), || async {
        let figures = running.notifier.figures().remove(0);
        if done(&figures) { Ok(figures) } else { Err(format!("{figures:?}")) }
    })
    .await
}

async fn received(peer: &Peer, count: usize) -> Vec<serde_json::Value> {
    eventually("the peer's requests", Duration::from_secs(15), || async {
        let got = peer.received();
        if got.len() >= count { Ok(got) } else { Err(format!("{} of {count}", got.len())) }
    })
    .await
}

#[tokio::test]
async fn a_webhook_gets_the_alert_signed_and_slack_its_message() {
    let (hook, slack) = (Peer::webhook(Some(SECRET), "200", None), Peer::webhook(None, "200", None));
    let slack_sink = Transport::Slack { url: Secret::new(slack.url()) };
    let running = start(
        vec![sink("ops", webhook(&hook), everything()), sink("desk", slack_sink, everything())],
        quick(3),
        10,
    );
    running.notifier.offer(&[alert("AAPL", AlertKind::PriceJump, Severity::Critical)]);

    let call = received(&hook, 1).await.remove(0);
    assert_eq!(call["verified"], true, "the standardwebhooks package verifies the signature: {call}");
    assert!(call["headers"]["webhook-id"].as_str().expect("id").starts_with("msg_"));
    let body: serde_json::Value = serde_json::from_str(call["body"].as_str().expect("body")).expect("json");
    assert_eq!(
        (body["type"].as_str(), body["data"]["symbol"].as_str()),
        (Some("alert.raised"), Some("AAPL"))
    );
    assert_eq!(body["data"]["dashboard"], "http://127.0.0.1:8080/");
    let message = received(&slack, 1).await.remove(0);
    let slack_body: serde_json::Value =
        serde_json::from_str(message["body"].as_str().expect("body")).expect("json");
    assert_eq!(slack_body["text"], ":red_circle: AAPL critical: price jump, z = +5.2 (|z| ≥ 4)");
    let figures = figures_when(&running, "delivered", |f| f.delivered == 1).await;
    assert_eq!((figures.failed, figures.retries, figures.last.expect("last").ok), (0, 0, true));
}

#[tokio::test]
async fn rules_filter_by_severity_and_a_cooldown_holds_repeats() {
    let hook = Peer::webhook(Some(SECRET), "200", None);
    let rules =
        Rules { min_severity: Severity::Critical, cooldown: Duration::from_secs(3_600), ..Rules::default() };
    let running = start(vec![sink("ops", webhook(&hook), rules)], quick(3), 10);
    running.notifier.offer(&[
        alert("AAPL", AlertKind::PriceJump, Severity::Critical),
        alert("AAPL", AlertKind::PriceJump, Severity::Critical),
        alert("MSFT", AlertKind::RsiOverbought, Severity::Warning),
        alert("AAPL", AlertKind::VolumeSpike, Severity::Critical),
    ]);
    figures_when(&running, "two delivered", |f| f.delivered == 2).await;
    tokio::time::sleep(300 * MS).await;
    let kinds: Vec<String> = hook
        .received()
        .iter()
        .map(|call| {
            let body: serde_json::Value =
                serde_json::from_str(call["body"].as_str().expect("body")).expect("json");
            format!(
                "{} {}",
                body["data"]["symbol"].as_str().expect("s"),
                body["data"]["kind"].as_str().expect("k")
            )
        })
        .collect();
    assert_eq!(
        kinds,
        ["AAPL price_jump", "AAPL volume_spike"],
        "the repeat cooled down, the warning filtered"
    );
}

#[tokio::test]
async fn a_500_then_a_200_is_one_retry_of_the_same_message() {
    let hook = Peer::webhook(Some(SECRET), "500,200", None);
    let running = start(vec![sink("ops", webhook(&hook), everything())], quick(5), 10);
    running.notifier.offer(&[alert("AAPL", AlertKind::PriceJump, Severity::Critical)]);
    let figures = figures_when(&running, "delivered", |f| f.delivered == 1).await;
    assert_eq!((figures.retries, figures.failed), (1, 0));
    let calls = hook.received();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["headers"]["webhook-id"], calls[1]["headers"]["webhook-id"], "one id for every try");
    assert!(calls.iter().all(|c| c["verified"] == true), "each try signed afresh: {calls:?}");
}

#[tokio::test]
async fn a_429_with_retry_after_2_is_honoured() {
    let hook = Peer::webhook(None, "429,200", Some(2));
    let slack = Transport::Slack { url: Secret::new(hook.url()) };
    let running = start(vec![sink("desk", slack, everything())], quick(5), 10);
    running.notifier.offer(&[alert("AAPL", AlertKind::PriceJump, Severity::Critical)]);
    figures_when(&running, "delivered", |f| f.delivered == 1).await;
    let calls = hook.received();
    let waited = calls[1]["at"].as_f64().expect("at") - calls[0]["at"].as_f64().expect("at");
    assert!(waited >= 1.9, "waited {waited} s, not the 2 s asked (the backoff alone is 20 ms)");
}

#[tokio::test]
async fn a_sink_down_for_its_whole_retry_budget_leaves_a_dead_letter() {
    let nowhere = format!("http://127.0.0.1:{}/hook", crate::support::free_port());
    let slack = Transport::Slack { url: Secret::new(nowhere.clone()) };
    let running = start(vec![sink("desk", slack, everything())], quick(3), 10);
    running.notifier.offer(&[alert("AAPL", AlertKind::PriceJump, Severity::Critical)]);
    let figures = figures_when(&running, "given up", |f| f.failed == 1).await;
    assert_eq!((figures.delivered, figures.retries), (0, 2));
    let last = figures.last.expect("last");
    assert!(!last.ok && last.detail.starts_with("cannot connect"), "{last:?}");
    assert!(!last.detail.contains(&nowhere), "the URL is a secret: {}", last.detail);
    let events = eventually("the dead letter", Duration::from_secs(5), || async {
        let events = running.store.recent_events(10).await.map_err(|e| e.to_string())?;
        events
            .into_iter()
            .find_map(|e| match e.kind {
                EventKind::AlertUndelivered { sink, alert, attempts, reason } => {
                    Some((sink, alert.symbol, attempts, reason))
                }
                _ => None,
            })
            .ok_or_else(|| "none yet".to_owned())
    })
    .await;
    assert_eq!((events.0.as_str(), events.1.as_str(), events.2), ("desk", "AAPL", 3));
    assert!(events.3.starts_with("cannot connect"), "{}", events.3);
}

#[tokio::test]
async fn a_burst_of_a_thousand_fills_a_bounded_queue_without_waiting() {
    // A receiver that answers 500 with Retry-After: the sink is stuck on its
    // first alert while the rest arrive.
    let hook = Peer::webhook(None, "503", Some(30));
    let slack = Transport::Slack { url: Secret::new(hook.url()) };
    let running =
        start(vec![sink("desk", slack, everything())], RetryPolicy { attempts: 2, first: MS, max: MS }, 50);
    let burst: Vec<Alert> =
        (0..1_000).map(|i| alert(&format!("S{i}"), AlertKind::PriceJump, Severity::Critical)).collect();
    for alert in &burst {
        // Returns at once whatever the sink does: `offer` never awaits.
        running.notifier.offer(std::slice::from_ref(alert));
    }
    let figures = figures_when(&running, "all accounted for", |f| {
        f.dropped + f.queued + f.failed + f.delivered + 1 >= 1_000
    })
    .await;
    assert!(figures.queued <= 50, "bounded: {figures:?}");
    assert!(figures.dropped >= 1_000 - 50 - 1, "the overflow counted as dropped: {figures:?}");
}

#[tokio::test]
async fn email_goes_over_starttls_with_a_login_and_a_refused_login_is_not_retried() {
    let smtp = Peer::smtp("smtp-secret-3");
    let settings = |password: &str| SmtpSettings {
        host: "127.0.0.1".into(),
        port: smtp.port,
        starttls: true,
        ca_pem: Some(std::fs::read(smtp.ca_path()).expect("the CA")),
        username: Some("alerts".into()),
        password: Some(Secret::new(password)),
        from: "Marquee <alerts@example.test>".parse().expect("from"),
        to: vec!["oncall@example.test".parse().expect("to")],
        timeout: Duration::from_secs(10),
    };
    let good = Transport::Email(Box::new(Email::new(settings("smtp-secret-3")).expect("email")));
    let bad = Transport::Email(Box::new(Email::new(settings("wrong")).expect("email")));
    let running = start(vec![sink("oncall", good, everything())], quick(3), 10);
    running.notifier.offer(&[alert("AAPL", AlertKind::PriceJump, Severity::Critical)]);
    let mail = eventually("the mail", Duration::from_secs(15), || async {
        smtp.received().into_iter().next().ok_or_else(|| "none yet".to_owned())
    })
    .await;
    assert_eq!((mail["tls"].as_bool(), mail["authenticated"].as_bool()), (Some(true), Some(true)));
    assert_eq!(mail["to"], serde_json::json!(["oncall@example.test"]));
    assert_eq!(mail["subject"], "[Marquee] AAPL critical: price jump, z = +5.2 (|z| ≥ 4)");
    assert!(mail["body"].as_str().expect("body").contains("Dashboard: http://127.0.0.1:8080/"));

    let refused = start(vec![sink("oncall", bad, everything())], quick(3), 10);
    refused.notifier.offer(&[alert("AAPL", AlertKind::PriceJump, Severity::Critical)]);
    let figures = figures_when(&refused, "refused", |f| f.failed == 1).await;
    assert_eq!(figures.retries, 0, "a refused login stays refused: {figures:?}");
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test]
async fn the_operator_sends_a_test_alert_through_the_running_server() {
    crate::logs::capture();
    const TOKEN: &str = "notify-token";
    let hook = Peer::webhook(Some(SECRET), "200", None);
    let url = format!("http://127.0.0.1:{}/hook/url-token-5f1e", hook.port);
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("alerts.toml");
    std::fs::write(
        &file,
        "[[sink]]\nname = \"ops\"\ntype = \"webhook\"\nurl_env = \"OPS_URL\"\nsecret_env = \"OPS_SECRET\"\n",
    )
    .expect("write");
    let env = |var: &str| match var {
        "OPS_URL" => Some(url.clone()),
        "OPS_SECRET" => Some(SECRET.to_owned()),
        _ => None,
    };
    let mut config = crate::helpers::config(5);
    config.notify = marquee::notify::NotifyArgs { alerts_config: Some(file) }
        .to_config(config.listen, &env)
        .expect("the alerts config");
    config.secrets.operator_token = Some(Secret::new(TOKEN));
    let app = crate::helpers::spawn_app(config).await;
    let client = reqwest::Client::new();
    let test = || client.post(app.url("/api/v1/alerts/test"));

    assert_eq!(test().send().await.expect("post").status(), 401);
    let queued = test().bearer_auth(TOKEN).send().await.expect("post");
    assert_eq!(queued.status(), 202);
    let queued: marquee_shared::TestAlertQueued = queued.json().await.expect("json");
    assert_eq!(queued.sinks, ["ops"]);
    let call = received(&hook, 1).await.remove(0);
    assert_eq!(
        (call["verified"].as_bool(), call["path"].as_str()),
        (Some(true), Some("/hook/url-token-5f1e"))
    );
    let body: serde_json::Value = serde_json::from_str(call["body"].as_str().expect("body")).expect("json");
    assert_eq!((body["type"].as_str(), body["data"]["symbol"].as_str()), (Some("alert.test"), Some("TEST")));

    let delivered = r#"marquee_alert_deliveries_total{sink="ops",kind="webhook",outcome="delivered"} 1"#;
    eventually("the delivery on /metrics", Duration::from_secs(10), || async {
        let text = reqwest::get(app.url("/metrics"))
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        if text.contains(delivered) { Ok(()) } else { Err("not yet".to_owned()) }
    })
    .await;
    app.stop().await.expect("stops");
    crate::logs::assert_absent_where("url-token-5f1e", "alert sink ready");
    crate::logs::assert_absent("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

    let bare = crate::helpers::spawn_app(crate::helpers::config(5)).await;
    let none = client.post(bare.url("/api/v1/alerts/test")).send().await.expect("post");
    assert_eq!(none.status(), 409, "no sinks configured");
    bare.stop().await.expect("stops");
}
