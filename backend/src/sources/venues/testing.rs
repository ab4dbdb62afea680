//! What the protocols' tests share: the fixtures of
//! `tests/fixtures/venues/VENUE/`, and reading a frame that says one thing.

use super::{Message, Protocol};

pub fn fixture(venue: &str, name: &str) -> String {
    let path = format!("{}/tests/fixtures/venues/{venue}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")).trim().to_owned()
}

/// The one message `frame` holds.
pub fn read_one(protocol: &dyn Protocol, frame: &str) -> Message {
    let mut messages = protocol.read(frame).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(messages.len(), 1, "{messages:?}");
    messages.remove(0)
}
