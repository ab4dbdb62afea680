//! The endpoint with verification on, against messages signed with the
//! fixtures' key (which the verifier is told is SNS's).

use marquee_shared::EventKind;
use tokio::sync::broadcast;

use super::verify::tests::{message, verifier};
use super::{Endpoint, Rejected, endpoint::Received, verify::VerifyError};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:marquee-events";

/// A client that is never reached: these messages need no call to SNS.
fn offline_client() -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::Config::builder()
        .http_client(super::https_client())
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .region(aws_sdk_sns::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:1")
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

fn endpoint() -> (Endpoint, broadcast::Receiver<marquee_shared::Event>) {
    let (local, events) = broadcast::channel(8);
    let endpoint =
        Endpoint::new(TOPIC.into(), Some(verifier()), offline_client(), local, "http://me/sns/events".into());
    (endpoint, events)
}

fn body(message: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(message).expect("json")
}

fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&super::verify::tests::fixture(name)).expect("fixture")
}

#[tokio::test]
async fn a_signed_notification_is_passed_on_once() {
    let (endpoint, mut events) = endpoint();
    let genuine = body(&fixture_json("notification-v2.json"));
    let received = endpoint.receive(&genuine).await.expect("accepted");
    let Received::Event(event) = received else { panic!("{received:?}") };
    assert!(
        matches!(event.kind, EventKind::BatchComplete { ref symbols, total_records: 100 } if symbols == &["IBM"])
    );
    assert_eq!(events.try_recv().expect("delivered").id, "e1");
    assert_eq!(endpoint.receive(&genuine).await.expect("accepted"), Received::Repeated);
    assert!(events.try_recv().is_err(), "a repeated delivery is not passed on");
    assert!(endpoint.dependency().detail.contains("1 events received, 0 messages refused"));
}

#[tokio::test]
async fn a_forged_notification_is_refused_and_not_acted_on() {
    let (endpoint, mut events) = endpoint();
    let mut forged = fixture_json("notification-v1.json");
    forged["Message"] = serde_json::json!(
        r#"{"id":"evil","source":"ingest","ts":1,"type":"threshold_reached","symbols":["EVIL"]}"#
    );
    let refused = endpoint.receive(&body(&forged)).await;
    assert!(matches!(refused, Err(Rejected::Unverified(VerifyError::Signature))), "{refused:?}");

    // The same forgery signed by the forger's own certificate, hosted elsewhere.
    forged["SigningCertURL"] = serde_json::json!("https://forger.example/cert.pem");
    let refused = endpoint.receive(&body(&forged)).await;
    assert!(matches!(refused, Err(Rejected::Unverified(VerifyError::CertificateUrl(..)))), "{refused:?}");

    let mut elsewhere = fixture_json("notification-v1.json");
    elsewhere["TopicArn"] = serde_json::json!("arn:aws:sns:us-east-1:999999999999:other");
    assert!(matches!(endpoint.receive(&body(&elsewhere)).await, Err(Rejected::WrongTopic(_))));
    assert!(matches!(endpoint.receive(b"not json").await, Err(Rejected::Json(_))));

    assert!(events.try_recv().is_err(), "nothing was passed on");
    assert!(endpoint.dependency().detail.contains("0 events received, 4 messages refused"));
}

#[tokio::test]
async fn a_subscription_confirmation_is_only_confirmed_when_signed() {
    let (endpoint, _events) = endpoint();
    let mut forged = fixture_json("subscription-confirmation.json");
    forged["Token"] = serde_json::json!("forged-token");
    let refused = endpoint.receive(&body(&forged)).await;
    assert!(matches!(refused, Err(Rejected::Unverified(VerifyError::Signature))), "{refused:?}");
    // The genuine one is verified, then confirmed with SNS: unreachable here.
    let genuine = body(&fixture_json("subscription-confirmation.json"));
    assert!(matches!(endpoint.receive(&genuine).await, Err(Rejected::Confirm(_))));
    let _ = message;
}

#[test]
fn old_or_future_messages_are_refused_as_replays() {
    let now: jiff::Timestamp = "2026-11-23T12:30:00Z".parse().expect("time");
    let hour = std::time::Duration::from_secs(3600);
    assert!(super::endpoint::check_age("2026-11-23T12:00:01.000Z", hour, now).is_ok());
    assert!(matches!(
        super::endpoint::check_age("2026-11-23T11:00:00.000Z", hour, now),
        Err(Rejected::Stale(_))
    ));
    assert!(matches!(
        super::endpoint::check_age("2026-11-23T12:40:00.000Z", hour, now),
        Err(Rejected::Stale(_))
    ));
    assert!(matches!(super::endpoint::check_age("yesterday", hour, now), Err(Rejected::Stale(_))));
}

#[tokio::test]
async fn a_genuine_but_old_notification_is_refused_when_ages_are_checked() {
    let (endpoint, mut events) = endpoint();
    let endpoint = endpoint.refusing_older_than(std::time::Duration::from_secs(60));
    // The fixtures were signed on 2026-11-23 at noon: more than a minute ago.
    let refused = endpoint.receive(&body(&fixture_json("notification-v1.json"))).await;
    assert!(matches!(refused, Err(Rejected::Stale(_))), "{refused:?}");
    assert!(events.try_recv().is_err());
}

#[tokio::test]
async fn a_stale_message_is_refused_before_any_certificate_is_fetched() {
    let (endpoint, mut events) = endpoint();
    let endpoint = endpoint.refusing_older_than(std::time::Duration::from_secs(3600));
    let mut old = fixture_json("notification-v1.json");
    old["Timestamp"] = serde_json::json!("2020-01-01T00:00:00.000Z");
    // A certificate the verifier does not hold, at an address it would fetch
    // from: checking the signature first would try to fetch it.
    old["SigningCertURL"] =
        serde_json::json!("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-never-fetched.pem");
    let started = std::time::Instant::now();
    let refused = endpoint.receive(&body(&old)).await;
    assert!(matches!(refused, Err(Rejected::Stale(_))), "{refused:?}");
    assert!(started.elapsed() < std::time::Duration::from_millis(500), "{:?}", started.elapsed());
    assert!(events.try_recv().is_err());
}

#[tokio::test]
async fn once_the_topic_signed_with_sha256_a_sha1_message_is_a_downgrade() {
    let (endpoint, mut events) = endpoint();
    let sha256 = body(&fixture_json("notification-v2.json"));
    assert!(matches!(endpoint.receive(&sha256).await, Ok(Received::Event(_))));
    assert_eq!(events.try_recv().expect("delivered").id, "e1");
    // Genuinely signed with SHA1, and never delivered: refused all the same.
    for name in ["notification-v1.json", "subscription-confirmation.json"] {
        let refused = endpoint.receive(&body(&fixture_json(name))).await;
        assert!(matches!(refused, Err(Rejected::Downgrade)), "{name}: {refused:?}");
    }
    assert!(events.try_recv().is_err());
}

#[tokio::test]
async fn sha1_is_taken_until_sha256_is_seen_unless_sha256_is_required() {
    let sha1 = body(&fixture_json("notification-v1.json"));
    let (by_default, _events) = endpoint();
    assert!(matches!(by_default.receive(&sha1).await, Ok(Received::Event(_))), "SHA1 by default");

    let (required, _events) = endpoint();
    let required = required.requiring_sha256();
    let refused = required.receive(&sha1).await;
    assert!(matches!(refused, Err(Rejected::Downgrade)), "{refused:?}");
    let sha256 = body(&fixture_json("notification-v2.json"));
    assert!(matches!(required.receive(&sha256).await, Ok(Received::Event(_))));
}

#[tokio::test]
async fn a_sha1_message_with_its_version_rewritten_to_2_is_refused_as_forged() {
    let (endpoint, _events) = endpoint();
    let endpoint = endpoint.requiring_sha256();
    let mut relabelled = fixture_json("notification-v1.json");
    relabelled["SignatureVersion"] = serde_json::json!("2");
    let refused = endpoint.receive(&body(&relabelled)).await;
    assert!(matches!(refused, Err(Rejected::Unverified(VerifyError::Signature))), "{refused:?}");
}
