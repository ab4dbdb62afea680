//! The parser against the frames in `tests/fixtures/venues/binance/`,
//! copied in shape from Binance's documentation.

use super::*;
use crate::sources::venues::testing::{fixture, read_one};

fn read(name: &str) -> Message {
    read_one(&Binance::new(vec!["BTCUSDT".into()]), &fixture("binance", name))
}

#[test]
fn the_subscription_asks_for_each_symbols_trade_stream_in_lower_case() {
    let greeting = Binance::new(vec!["BTCUSDT".into(), "ethusdt".into()]).greeting();
    let sent: serde_json::Value = serde_json::from_str(&greeting[0]).expect("json");
    let expected: serde_json::Value =
        serde_json::from_str(&fixture("binance", "subscribe.json")).expect("json");
    assert_eq!((greeting.len(), sent), (1, expected));
    assert_eq!(read("subscribed.json"), Message::Subscribed(vec!["BTCUSDT".into()]));
}

#[test]
fn a_trade_event_bare_or_wrapped_is_a_trade_with_the_documented_values() {
    let expected = Trade {
        symbol: "BNBBTC".into(),
        price: 0.001,
        size: 100.0,
        ts: 1_672_515_782_136_000_000,
        trade_id: 12345,
    };
    assert_eq!(read("trade.json"), Message::Trade(expected));
    let Message::Trade(wrapped) = read("combined_trade.json") else { panic!("a trade") };
    assert_eq!(
        (wrapped.symbol.as_str(), wrapped.price, wrapped.size, wrapped.ts),
        ("BTCUSDT", 16541.83, 0.0012, 1_672_515_782_134_000_000)
    );
    assert_eq!(read("server_shutdown.json"), Message::Closing);
}

#[test]
fn an_invalid_stream_is_a_refusal_that_needs_the_user_flat_or_nested() {
    let Message::Refused(refusal) = read("error_invalid_stream.json") else { panic!("refused") };
    assert!(matches!(&refusal, Refusal::UnknownSymbol { .. }) && refusal.needs_the_user(), "{refusal:?}");
    let flat = read_one(
        &Binance::new(vec![]),
        r#"{"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}"#,
    );
    assert!(matches!(flat, Message::Refused(Refusal::Other { .. })), "{flat:?}");
    let bad = Binance::new(vec![]).read(r#"{"e":"trade","s":"X","t":1,"p":"x","q":"1","T":1}"#);
    assert!(bad.is_err());
}
