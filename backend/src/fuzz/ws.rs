//! WebSocket client messages: what `/ws` parses survives a round trip
//! through the wire type, and a subscription it names is applied whole or
//! not at all, within its limit.

use marquee_shared::{ClientMessage, ErrorCode};

use super::{Seeds, fuzz, inputs::cases};
use crate::gateway::ws::filter::Filter;
use crate::gateway::ws::{self, MAX_CLIENT_MESSAGE};

/// A small limit, so that subscriptions reach it.
const MAX_SUBSCRIPTIONS: usize = 8;

fn client_text(bytes: &[u8]) {
    // Text frames are UTF-8 by the time they are parsed (the WebSocket layer checks).
    let text = String::from_utf8_lossy(bytes);
    let message = match ws::parse(&text) {
        Ok(message) => message,
        Err((code, reason)) => {
            assert_eq!(code == ErrorCode::TooLarge, text.len() > MAX_CLIENT_MESSAGE, "{code:?}: {reason}");
            return;
        }
    };
    assert!(text.len() <= MAX_CLIENT_MESSAGE);
    let json =
        serde_json::to_string(&message).unwrap_or_else(|err| panic!("{message:?} does not serialize: {err}"));
    assert_eq!(
        serde_json::from_str::<ClientMessage>(&json).ok().as_ref(),
        Some(&message),
        "round trip via {json}"
    );
    match &message {
        ClientMessage::Subscribe { symbols, channels } => {
            let mut filter = Filter::new(MAX_SUBSCRIPTIONS);
            filter
                .unsubscribe(&["*".to_owned()], &[])
                .unwrap_or_else(|err| panic!("start from nothing: {err}"));
            let before = filter.clone();
            match filter.subscribe(symbols, channels) {
                Ok(()) => {
                    for symbol in symbols.iter().filter(|s| *s != "*") {
                        let symbol = crate::common::symbol::normalize(symbol)
                            .unwrap_or_else(|err| panic!("accepted: {err}"));
                        assert!(filter.wants(&symbol), "subscribed to {symbol} but not wanted");
                    }
                }
                Err(_) => assert_eq!(filter, before, "a refused subscribe changed the filter"),
            }
        }
        ClientMessage::Unsubscribe { symbols, channels } => {
            let mut filter = Filter::new(MAX_SUBSCRIPTIONS);
            let before = filter.clone();
            match filter.unsubscribe(symbols, channels) {
                Ok(()) => {
                    for symbol in symbols.iter().filter(|s| *s != "*") {
                        let symbol = crate::common::symbol::normalize(symbol)
                            .unwrap_or_else(|err| panic!("accepted: {err}"));
                        assert!(!filter.wants(&symbol), "unsubscribed from {symbol} but still wanted");
                    }
                }
                Err(_) => assert_eq!(filter, before, "a refused unsubscribe changed the filter"),
            }
        }
        ClientMessage::Ping { .. } | ClientMessage::Resume { .. } => {}
    }
}

#[test]
fn client_messages() {
    let seeds = Seeds::new(
        [
            ("ping", br#"{"type":"ping","nonce":77}"#.to_vec()),
            ("subscribe", br#"{"type":"subscribe","symbols":["AAPL","brk.b","*"],"channels":["ticks","bars"]}"#.to_vec()),
            (
                "subscribe many",
                br#"{"type":"subscribe","symbols":["A","B","C","D","E","F","G","H","I"],"channels":["alerts","events","metrics","health"]}"#.to_vec(),
            ),
            ("unsubscribe", br#"{"type":"unsubscribe","symbols":["*"],"channels":["metrics"]}"#.to_vec()),
            ("unsubscribe some", br#"{"type":"unsubscribe","symbols":["MSFT","IBM"]}"#.to_vec()),
            ("resume", br#"{"type":"resume","last_seq":{"AAPL":41,"MSFT":0,"IBM":18446744073709551615}}"#.to_vec()),
        ],
        &["type", "ping", "nonce", "subscribe", "unsubscribe", "resume", "symbols", "channels", "last_seq", "bars", "health"],
    );
    fuzz("ws::client_messages", cases(seeds), client_text);
}
