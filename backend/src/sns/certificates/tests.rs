use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::*;
use crate::sns::verify::tests::fixture;

const URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem";

fn at(time: &str) -> SystemTime {
    let time: jiff::Timestamp = time.parse().expect("time");
    SystemTime::from(time)
}

/// Within the fixture certificate's validity (2026-11-23 to 2126-10-30).
fn now() -> SystemTime {
    at("2026-12-01T00:00:00Z")
}

/// A fetch that counts its calls and gives `answer`.
fn counted(
    calls: &Arc<AtomicUsize>,
    answer: Result<String, VerifyError>,
) -> impl FnOnce() -> std::future::Ready<Result<String, VerifyError>> {
    let calls = Arc::clone(calls);
    move || {
        calls.fetch_add(1, Ordering::SeqCst);
        std::future::ready(answer)
    }
}

#[test]
fn a_certificate_is_taken_only_while_it_is_valid() {
    let pem = fixture("test-cert.pem");
    let key = public_key(&pem, now()).expect("valid now");
    assert_eq!(key.not_after, at("2126-10-30T22:40:27Z"));

    let early = public_key(&pem, at("2020-01-01T00:00:00Z")).expect_err("not yet valid");
    assert!(
        matches!(&early, VerifyError::Certificate(m) if m.contains("not valid before 2026-11-23")),
        "{early}"
    );
    let late = public_key(&pem, at("2127-01-01T00:00:00Z")).expect_err("expired");
    assert!(matches!(&late, VerifyError::Certificate(m) if m.contains("expired on 2126-10-30")), "{late}");

    let certificates = Certificates::default();
    assert!(certificates.insert(URL, &pem, at("2127-01-01T00:00:00Z")).is_err(), "nor given expired");
}

#[tokio::test]
async fn a_url_that_failed_is_not_fetched_again_for_a_minute() {
    let certificates = Certificates::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let not_found = || Err(VerifyError::Fetch("HTTP 404 Not Found".into()));
    for _ in 0..100 {
        let refused = certificates.key(URL, now(), counted(&calls, not_found())).await;
        assert!(matches!(&refused, Err(VerifyError::Fetch(m)) if m.contains("404")), "{refused:?}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "a flood naming it cost one fetch");
    let later = now() + FAILURE_REMEMBERED + Duration::from_secs(1);
    let _ = certificates.key(URL, later, counted(&calls, not_found())).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2, "tried again after a minute");

    // Fetched but unusable: remembered as well.
    let other = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-other.pem";
    for _ in 0..3 {
        let refused = certificates.key(other, now(), counted(&calls, Ok("not PEM".into()))).await;
        assert!(matches!(refused, Err(VerifyError::Certificate(_))), "{refused:?}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_held_key_is_dropped_once_its_certificate_expires() {
    let certificates = Certificates::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let pem = fixture("test-cert.pem");
    for _ in 0..3 {
        certificates.key(URL, now(), counted(&calls, Ok(pem.clone()))).await.expect("valid");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "held after the first fetch");

    // Past notAfter the held key is not used: fetched again, and refused.
    let expired = at("2127-01-01T00:00:00Z");
    let refused = certificates.key(URL, expired, counted(&calls, Ok(pem.clone()))).await;
    assert!(matches!(&refused, Err(VerifyError::Certificate(m)) if m.contains("expired on")), "{refused:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(certificates.counts().0, 0, "the expired key is gone");
}

#[tokio::test]
async fn messages_naming_one_url_at_once_share_one_fetch() {
    let certificates = Certificates::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let pem = fixture("test-cert.pem");
    let slow = || {
        let (calls, pem) = (Arc::clone(&calls), pem.clone());
        move || async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(pem)
        }
    };
    let (a, b, c) = tokio::join!(
        certificates.key(URL, now(), slow()),
        certificates.key(URL, now(), slow()),
        certificates.key(URL, now(), slow()),
    );
    assert!(a.is_ok() && b.is_ok() && c.is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(certificates.counts(), (1, 0, 0));
}

#[tokio::test]
async fn fetches_beyond_two_at_once_are_refused_not_queued() {
    let certificates = Arc::new(Certificates::default());
    let url = |n: usize| format!("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-{n}.pem");
    // Two fetches that never answer hold both turns.
    let stuck: Vec<_> = (0..FETCHES_AT_ONCE)
        .map(|n| {
            let (certificates, url) = (Arc::clone(&certificates), url(n));
            tokio::spawn(async move { certificates.key(&url, now(), std::future::pending).await })
        })
        .collect();
    while certificates.counts().2 < FETCHES_AT_ONCE {
        tokio::task::yield_now().await;
    }

    let calls = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let refused = certificates.key(&url(9), now(), counted(&calls, Ok(fixture("test-cert.pem")))).await;
    assert!(matches!(refused, Err(VerifyError::Busy(2))), "{refused:?}");
    assert!(started.elapsed() < FETCH_QUEUE_WAIT * 3, "refused after a short wait: {:?}", started.elapsed());
    assert_eq!(calls.load(Ordering::SeqCst), 0, "not fetched");
    assert!(refused.expect_err("busy").to_string().contains("at once"));

    // Busy is not the URL's fault: once a turn is free it is fetched.
    for task in &stuck {
        task.abort();
    }
    for task in stuck {
        assert!(task.await.is_err_and(|e| e.is_cancelled()));
    }
    certificates.key(&url(9), now(), counted(&calls, Ok(fixture("test-cert.pem")))).await.expect("fetched");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(certificates.counts(), (1, 0, 0), "the cancelled fetches are forgotten");
}

#[tokio::test]
async fn keys_and_failures_stay_bounded() {
    let certificates = Certificates::default();
    let pem = fixture("test-cert.pem");
    let calls = Arc::new(AtomicUsize::new(0));
    for n in 0..MAX_FAILURES + 50 {
        let url = format!("https://sns.us-east-1.amazonaws.com/missing-{n}.pem");
        let _ =
            certificates.key(&url, now(), counted(&calls, Err(VerifyError::Fetch("HTTP 404".into())))).await;
    }
    for n in 0..MAX_KEYS + 5 {
        let url = format!("https://sns.us-east-1.amazonaws.com/key-{n}.pem");
        certificates.key(&url, now(), counted(&calls, Ok(pem.clone()))).await.expect("valid");
    }
    assert_eq!(certificates.counts(), (MAX_KEYS, MAX_FAILURES, 0));
}
