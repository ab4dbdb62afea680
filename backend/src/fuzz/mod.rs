//! Fuzzing on stable Rust: every parser that reads outside input, fed
//! arbitrary bytes and mutated real inputs by proptest, for a time budget.
//!
//! Each target is a plain `fn(&[u8])` that must never panic and asserts what
//! must hold of whatever the parser accepts (a quote's prices are finite and
//! positive, a client message survives a round trip, a forged SNS message
//! never verifies, ...). [`fuzz`] feeds it cases from [`inputs`] until the
//! budget is spent; a failing case is shrunk to a minimal one and printed.
//!
//! The budget: `MARQUEE_FUZZ_SECONDS` per target (`scripts/fuzz` sets it);
//! unset, a short pass of at most [`SHORT_PASS_CASES`] cases or
//! [`SHORT_PASS`], so `cargo test` stays fast. `MARQUEE_FUZZ_SEED` (32 hex
//! digits) replays a run; every failure prints the seed it ran with and
//! saves its input, which `MARQUEE_FUZZ_INPUT=FILE` feeds back to the
//! target (select the one target with a test filter).
//!
//! Targets behind a cargo feature (`kafka`, `sns`) run with that feature,
//! as `fuzz::kafka::` and `fuzz::sns::` (scripts/test's engine step).

mod alphavantage;
mod csv;
mod inputs;
#[cfg(feature = "kafka")]
mod kafka;
mod rest;
#[cfg(feature = "sns")]
mod sns;
mod spill;
mod ws;

use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};

pub use inputs::{Case, Seeds};

/// The default pass: whichever of these comes first.
const SHORT_PASS_CASES: u64 = 2_000;
const SHORT_PASS: Duration = Duration::from_secs(2);
/// How long a failing case may be shrunk before the smallest so far is shown.
const SHRINK_TIME_MS: u32 = 60_000;

/// How long, or how many cases, a target runs.
#[derive(Debug, Clone, Copy)]
struct Budget {
    time: Duration,
    cases: Option<u64>,
}

impl Budget {
    fn from_env() -> Self {
        match std::env::var("MARQUEE_FUZZ_SECONDS").ok().and_then(|s| s.trim().parse::<f64>().ok()) {
            Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
                Budget { time: Duration::from_secs_f64(seconds), cases: None }
            }
            _ => Budget { time: SHORT_PASS, cases: Some(SHORT_PASS_CASES) },
        }
    }

    fn spent(&self, executions: u64, elapsed: Duration) -> bool {
        elapsed >= self.time || self.cases.is_some_and(|cases| executions >= cases)
    }
}

/// The seed of this run: `MARQUEE_FUZZ_SEED`, or a fresh one.
fn seed() -> [u8; 16] {
    let given =
        std::env::var("MARQUEE_FUZZ_SEED").ok().and_then(|hex| u128::from_str_radix(hex.trim(), 16).ok());
    given.unwrap_or_else(|| (u128::from(random_u64()) << 64) | u128::from(random_u64())).to_be_bytes()
}

/// 64 random bits from the standard library's OS-seeded hasher keys.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

/// Runs `target` on cases from `inputs` until the budget is spent, then
/// prints the executions and their rate. A case that panics (or fails an
/// assertion) is shrunk, written to a file and printed, and fails the test.
pub fn fuzz(name: &str, inputs: impl Strategy<Value = Case>, target: fn(&[u8])) {
    if let Ok(path) = std::env::var("MARQUEE_FUZZ_INPUT") {
        let bytes = std::fs::read(&path).unwrap_or_else(|err| panic!("MARQUEE_FUZZ_INPUT={path}: {err}"));
        target(&bytes);
        eprintln!("fuzz {name}: {path} passes");
        return;
    }
    let budget = Budget::from_env();
    let seed = seed();
    let config = Config {
        // Failures are kept as regression tests beside each target instead.
        failure_persistence: None,
        max_shrink_time: SHRINK_TIME_MS,
        max_shrink_iters: u32::MAX,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::XorShift, &seed));
    let started = Instant::now();
    let mut executions = 0_u64;
    while !budget.spent(executions, started.elapsed()) {
        let case = match inputs.new_tree(&mut runner) {
            Ok(case) => case,
            Err(reason) => panic!("fuzz {name}: cannot generate a case: {reason}"),
        };
        match runner.run_one(case, |case| {
            target(&case.bytes);
            Ok(())
        }) {
            Ok(_) => executions += 1,
            Err(TestError::Fail(reason, minimal)) => {
                let saved = save(name, &minimal.bytes);
                eprintln!(
                    "fuzz {name}: FAILED after {executions} executions (MARQUEE_FUZZ_SEED={:032x})\n  \
                     failure: {reason}\n  minimized: {minimal:?}\n  minimized input written to {saved}",
                    u128::from_be_bytes(seed),
                );
                panic!("fuzz {name}: {reason} (minimized input in {saved})");
            }
            Err(TestError::Abort(reason)) => panic!("fuzz {name}: aborted: {reason}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "fuzz {name}: {executions} executions in {elapsed:.1} s ({:.0}/s), 0 failures",
        executions as f64 / elapsed.max(f64::EPSILON)
    );
}

/// Writes a failing input where it can be fed back to the target as is.
fn save(name: &str, bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("marquee-fuzz-{}.bin", name.replace("::", "-")));
    match std::fs::write(&path, bytes) {
        Ok(()) => path.display().to_string(),
        Err(err) => format!("(nowhere: {err})"),
    }
}

/// A fixture of `backend/tests/fixtures`, as bytes.
fn fixture(path: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}
