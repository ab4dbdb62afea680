//! SNS: the posted JSON and its signature. Nothing but the messages SNS
//! signed (the fixtures, signed with a throwaway key the verifier is told
//! is SNS's) ever verifies, whatever is changed around them, and the
//! endpoint acts on nothing else. No case reaches the network: a case that
//! would wait (a certificate fetch, a call to SNS) fails.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use marquee_shared::Event;
use serde_json::Value;

use super::{Seeds, fixture, fuzz, inputs::cases};
use crate::sns::verify::Verifier;
use crate::sns::{Endpoint, Received, SnsMessage};

const CERT_URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:marquee-events";
const SIGNED: [&str; 3] = ["notification-v1.json", "notification-v2.json", "subscription-confirmation.json"];
/// Certificate URLs trusted before the verifier is replaced (its cache is unbounded for trusted URLs).
const TRUSTED_URLS: usize = 1_000;

fn signed(name: &str) -> Vec<u8> {
    fixture(&format!("sns/{name}"))
}

fn certificate() -> String {
    String::from_utf8(signed("test-cert.pem")).expect("PEM text")
}

/// What SNS signed in a message: every field the string to sign is made of.
fn claims(m: &SnsMessage) -> [Option<&str>; 8] {
    [
        Some(&m.kind),
        Some(&m.message_id),
        Some(&m.topic_arn),
        m.subject.as_deref(),
        Some(&m.message),
        Some(&m.timestamp),
        m.subscribe_url.as_deref().filter(|_| m.kind != "Notification"),
        m.token.as_deref().filter(|_| m.kind != "Notification"),
    ]
}

fn genuine() -> Vec<SnsMessage> {
    SIGNED.iter().map(|name| serde_json::from_slice(&signed(name)).expect("a signed fixture")).collect()
}

fn assert_genuine(message: &SnsMessage, genuine: &[SnsMessage]) {
    assert!(
        genuine.iter().any(|g| claims(g) == claims(message)),
        "a message SNS never signed was accepted: {message:?}"
    );
}

/// A verifier that knows the fixtures' certificate, and how many URLs it trusts.
struct Trusting {
    verifier: Verifier,
    urls: usize,
    genuine: Vec<SnsMessage>,
}

thread_local! {
    static VERIFIER: RefCell<Option<Trusting>> = const { RefCell::new(None) };
}

fn signed_message(bytes: &[u8]) {
    let Ok(message) = serde_json::from_slice::<SnsMessage>(bytes) else { return };
    VERIFIER.with_borrow_mut(|slot| {
        if slot.as_ref().is_none_or(|t| t.urls >= TRUSTED_URLS) {
            let verifier = Verifier::new("us-east-1");
            verifier.trust(CERT_URL, &certificate()).expect("the fixture certificate");
            *slot = Some(Trusting { verifier, urls: 0, genuine: genuine() });
        }
        let Some(trusting) = slot.as_mut() else { return };
        // Any URL the verifier would fetch from gets the fixture certificate
        // instead (no network); one it refuses stays refused.
        if message.signing_cert_url != CERT_URL
            && trusting.verifier.trust(&message.signing_cert_url, &certificate()).is_ok()
        {
            trusting.urls += 1;
        }
        let checked = trusting.verifier.verify(&message).now_or_never();
        if checked.expect("verifying never waits: the certificate is trusted or refused").is_ok() {
            assert_genuine(&message, &trusting.genuine);
        }
    });
}

#[test]
fn signatures() {
    let seeds = Seeds::new(SIGNED.map(|name| (name, signed(name))), &words());
    fuzz("sns::signatures", cases(seeds), signed_message);
}

fn words() -> Vec<&'static str> {
    vec![
        "Notification",
        "SubscriptionConfirmation",
        "UnsubscribeConfirmation",
        "SignatureVersion",
        "Subject",
        "MessageId",
        "\\nSubject\\nbatch_complete",
        "https://sns.us-east-1.amazonaws.com/",
        ".pem",
        "==",
    ]
}

/// An SNS client that is never reached: notifications need no call to SNS.
fn offline_client() -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::Config::builder()
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .region(aws_sdk_sns::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:1")
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

/// Verified (refusing messages over 200 years old, so the age check runs
/// on every timestamp), and with verification off (an emulator).
fn endpoints() -> (Endpoint, Endpoint) {
    let verifier = Verifier::new("us-east-1");
    verifier.trust(CERT_URL, &certificate()).expect("the fixture certificate");
    let url = "http://me/sns/events".to_owned();
    let (local, _) = tokio::sync::broadcast::channel(1);
    let verified = Endpoint::new(TOPIC.into(), Some(verifier), offline_client(), local.clone(), url.clone())
        .refusing_older_than(Duration::from_secs(200 * 365 * 86_400));
    let unverified = Endpoint::new(TOPIC.into(), None, offline_client(), local, url);
    (verified, unverified)
}

thread_local! {
    static ENDPOINTS: (Endpoint, Endpoint, Vec<SnsMessage>) = {
        let (verified, unverified) = endpoints();
        (verified, unverified, genuine())
    };
}

/// The target reaches what follows a good signature: were the fixtures
/// refused (as too old, say), it would only ever see refusals.
#[test]
fn the_verified_endpoint_takes_a_signed_notification() {
    let (verified, _) = endpoints();
    let received = verified.receive(&signed(SIGNED[0])).now_or_never();
    assert!(matches!(received, Some(Ok(Received::Event(_)))), "{received:?}");
}

/// A posted body, its certificate URL pointed at the trusted one (another
/// is the `signatures` target's concern; this one must not fetch).
fn with_trusted_certificate(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(bytes).ok()?;
    let object = value.as_object_mut()?;
    object.insert("SigningCertURL".into(), Value::from(CERT_URL));
    serde_json::to_vec(&value).ok()
}

fn posted(bytes: &[u8]) {
    let trusted = with_trusted_certificate(bytes);
    let body = trusted.as_deref().unwrap_or(bytes);
    let message = serde_json::from_slice::<SnsMessage>(body).ok();
    // A body the `Value` above could not read (nested past serde_json's
    // depth limit in a field SnsMessage skips) keeps its own certificate
    // URL: the verified endpoint would fetch it.
    let fetches = message.as_ref().is_some_and(|m| m.signing_cert_url != CERT_URL);
    ENDPOINTS.with(|(verified, unverified, genuine)| {
        let received = if fetches {
            Err(())
        } else {
            verified.receive(body).now_or_never().expect("a notification needs no network").map_err(drop)
        };
        match received {
            Ok(Received::Event(event)) => {
                let message = message.as_ref().expect("an accepted body is an SNS message");
                assert_genuine(message, genuine);
                round_trip(&event);
            }
            Ok(Received::Repeated) | Err(_) => {}
            Ok(other) => panic!("{other:?} from a body no SNS confirmation was signed for"),
        }
        // Unverified, only notifications are taken without a call to SNS.
        if message.is_some_and(|m| m.kind != "Notification") {
            return;
        }
        let received = unverified.receive(body).now_or_never().expect("a notification needs no network");
        if let Ok(Received::Event(event)) = received {
            round_trip(&event);
        }
    });
}

fn round_trip(event: &Event) {
    let json =
        serde_json::to_string(event).unwrap_or_else(|err| panic!("{event:?} does not serialize: {err}"));
    let back: Event =
        serde_json::from_str(&json).unwrap_or_else(|err| panic!("{json} does not parse: {err}"));
    let (sent, read) = (serde_json::to_value(event), serde_json::to_value(&back));
    assert!(
        matches!((sent, read), (Ok(sent), Ok(read)) if same_json(&sent, &read)),
        "round trip via {json}: {back:?}"
    );
}

#[test]
fn endpoint() {
    // A signed confirmation is left out: taking one calls SNS.
    let notifications = SIGNED[..2].iter().map(|name| (*name, signed(name)));
    let events = [
        r#"{"id":"e2","source":"ingest","ts":1,"type":"symbol_data_loaded","symbol":"IBM","records":3,"latest_ts":2,"latest_close":101.25}"#,
        r#"{"id":"e3","source":"driver","ts":-1,"type":"threshold_reached","symbols":["A","B"]}"#,
    ];
    let unsigned = events.into_iter().map(|event| {
        let mut message: Value = serde_json::from_slice(&signed(SIGNED[0])).expect("a fixture");
        message["Message"] = Value::from(event);
        ("unsigned notification", serde_json::to_vec(&message).expect("JSON"))
    });
    let seeds: Arc<Seeds> = Seeds::new(notifications.chain(unsigned), &words());
    fuzz("sns::endpoint", cases(seeds), posted);
}

/// Equal JSON, numbers within a few units in the last place: serde_json
/// reads a float to within an ULP or so of the nearest (its exact reading,
/// feature `float_roundtrip`, is not on), so a float need not come back
/// from its text bit for bit.
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
        }
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len() && xs.iter().all(|(k, x)| ys.get(k).is_some_and(|y| same_json(x, y)))
        }
        _ => a == b,
    }
}
