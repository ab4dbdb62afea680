//! The signing certificates' public keys by URL, and what a flood of
//! messages naming certificates may cost:
//! - a key is kept until its certificate expires, and a certificate is
//!   only taken while it is valid;
//! - a URL whose fetch failed, or whose certificate was unusable, is
//!   remembered as failed for a minute: messages naming it cost one fetch;
//! - messages naming the same URL at once share one fetch;
//! - at most two fetches run at once; a message that cannot start one
//!   within a second is refused (SNS delivers it again later), not queued.
//!
//! Keys and failures are both bounded.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::sync::{OnceCell, Semaphore};
use x509_cert::der::DecodePem;

use super::verify::VerifyError;

/// How long a failed URL is not fetched again.
const FAILURE_REMEMBERED: Duration = Duration::from_secs(60);
/// Fetches running at once, and how long a message waits for its turn.
const FETCHES_AT_ONCE: usize = 2;
const FETCH_QUEUE_WAIT: Duration = Duration::from_secs(1);
/// Keys kept (SNS uses very few), and failed URLs remembered.
const MAX_KEYS: usize = 16;
const MAX_FAILURES: usize = 256;

/// A certificate's RSA public key (PKCS#1 DER) and the end of its validity.
#[derive(Debug, Clone)]
pub struct Key {
    pub der: Arc<Vec<u8>>,
    pub not_after: SystemTime,
}

/// One fetch of a URL, whose outcome every message naming it shares.
type Fetch = Arc<OnceCell<Result<Key, VerifyError>>>;

#[derive(Debug, Default)]
struct Held {
    keys: HashMap<String, Key>,
    /// Failed URLs: until when they are not fetched again, and why.
    failures: HashMap<String, (SystemTime, VerifyError)>,
    /// URLs being fetched.
    fetching: HashMap<String, Fetch>,
}

enum Lookup {
    Key(Arc<Vec<u8>>),
    Failed(VerifyError),
    Fetch(Fetch),
}

/// The cache of keys: plain data and rules; fetching is the caller's.
#[derive(Debug)]
pub struct Certificates {
    held: Mutex<Held>,
    fetches: Semaphore,
}

impl Default for Certificates {
    fn default() -> Self {
        Self { held: Mutex::default(), fetches: Semaphore::new(FETCHES_AT_ONCE) }
    }
}

impl Certificates {
    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps the certificate `pem` as the one at `url`, without fetching it.
    pub fn insert(&self, url: &str, pem: &str, now: SystemTime) -> Result<(), VerifyError> {
        let key = public_key(pem, now)?;
        self.held().keep(url, key, now);
        Ok(())
    }

    /// The key of the certificate at `url`, valid at `now`: held, or made
    /// from the PEM text `fetch` gives (one fetch for all who wait on it).
    pub async fn key<F, Fut>(&self, url: &str, now: SystemTime, fetch: F) -> Result<Arc<Vec<u8>>, VerifyError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<String, VerifyError>>,
    {
        let lookup = self.held().lookup(url, now);
        let shared = match lookup {
            Lookup::Key(key) => return Ok(key),
            Lookup::Failed(err) => return Err(err),
            Lookup::Fetch(shared) => shared,
        };
        let outcome = shared.get_or_init(|| self.fetch(url, now, fetch)).await.clone();
        self.held().fetched(url, &shared);
        outcome.map(|key| key.der)
    }

    /// One fetch, once there is room for it; its outcome is remembered.
    async fn fetch<F, Fut>(&self, url: &str, now: SystemTime, fetch: F) -> Result<Key, VerifyError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<String, VerifyError>>,
    {
        let Ok(Ok(permit)) = tokio::time::timeout(FETCH_QUEUE_WAIT, self.fetches.acquire()).await else {
            return Err(VerifyError::Busy(FETCHES_AT_ONCE));
        };
        let outcome = fetch().await.and_then(|pem| public_key(&pem, now));
        drop(permit);
        let mut held = self.held();
        match &outcome {
            Ok(key) => held.keep(url, key.clone(), now),
            Err(err) => held.remember_failure(url, err.clone(), now),
        }
        outcome
    }

    #[cfg(test)]
    fn counts(&self) -> (usize, usize, usize) {
        let held = self.held();
        (held.keys.len(), held.failures.len(), held.fetching.len())
    }
}

impl Held {
    fn lookup(&mut self, url: &str, now: SystemTime) -> Lookup {
        if let Some(key) = self.keys.get(url) {
            if now <= key.not_after {
                return Lookup::Key(Arc::clone(&key.der));
            }
            self.keys.remove(url);
        }
        if let Some((until, err)) = self.failures.get(url) {
            if now < *until {
                return Lookup::Failed(err.clone());
            }
            self.failures.remove(url);
        }
        // A fetch nobody waits on any more was cancelled (its request gone).
        self.fetching.retain(|_, shared| Arc::strong_count(shared) > 1);
        Lookup::Fetch(Arc::clone(self.fetching.entry(url.to_owned()).or_default()))
    }

    /// The fetch `shared` of `url` is over: later messages look it up.
    fn fetched(&mut self, url: &str, shared: &Fetch) {
        if self.fetching.get(url).is_some_and(|held| Arc::ptr_eq(held, shared)) {
            self.fetching.remove(url);
        }
    }

    fn keep(&mut self, url: &str, key: Key, now: SystemTime) {
        self.keys.retain(|_, held| now <= held.not_after);
        if self.keys.len() >= MAX_KEYS && !self.keys.contains_key(url) {
            let soonest = self.keys.iter().min_by_key(|(_, held)| held.not_after).map(|(u, _)| u.clone());
            if let Some(soonest) = soonest {
                self.keys.remove(&soonest);
            }
        }
        self.keys.insert(url.to_owned(), key);
        self.failures.remove(url);
    }

    fn remember_failure(&mut self, url: &str, err: VerifyError, now: SystemTime) {
        self.failures.retain(|_, (until, _)| now < *until);
        if self.failures.len() >= MAX_FAILURES && !self.failures.contains_key(url) {
            let soonest = self.failures.iter().min_by_key(|(_, (until, _))| *until).map(|(u, _)| u.clone());
            if let Some(soonest) = soonest {
                self.failures.remove(&soonest);
            }
        }
        self.failures.insert(url.to_owned(), (now + FAILURE_REMEMBERED, err));
    }
}

/// The RSA public key of a PEM certificate valid at `now`.
pub fn public_key(pem: &str, now: SystemTime) -> Result<Key, VerifyError> {
    let certificate =
        x509_cert::Certificate::from_pem(pem).map_err(|e| VerifyError::Certificate(e.to_string()))?;
    let validity = &certificate.tbs_certificate.validity;
    if now < validity.not_before.to_system_time() {
        return Err(VerifyError::Certificate(format!("not valid before {}", validity.not_before)));
    }
    let not_after = validity.not_after.to_system_time();
    if now > not_after {
        return Err(VerifyError::Certificate(format!("expired on {}", validity.not_after)));
    }
    let key = &certificate.tbs_certificate.subject_public_key_info.subject_public_key;
    let der =
        key.as_bytes().ok_or_else(|| VerifyError::Certificate("the public key is not whole bytes".into()))?;
    Ok(Key { der: Arc::new(der.to_vec()), not_after })
}

#[cfg(test)]
mod tests;
