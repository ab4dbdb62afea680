//! The parser against the frames in `tests/fixtures/venues/finnhub/`,
//! copied in shape from Finnhub's documentation.

use super::*;
use crate::sources::venues::testing::{fixture, read_one};

fn finnhub() -> Finnhub {
    Finnhub::new(vec!["BINANCE:BTCUSDT".into(), "TSLA".into()], Some(Secret::new("sekrit-token-123")))
}

#[test]
fn the_key_goes_in_the_url_and_each_symbol_gets_a_subscribe_message() {
    let finnhub = finnhub();
    assert_eq!(finnhub.url("wss://ws.finnhub.io"), "wss://ws.finnhub.io?token=sekrit-token-123");
    assert_eq!(finnhub.url("ws://127.0.0.1:9/?x=1"), "ws://127.0.0.1:9/?x=1&token=sekrit-token-123");
    let greeting = finnhub.greeting();
    let first: serde_json::Value = serde_json::from_str(&greeting[0]).expect("json");
    let expected: serde_json::Value =
        serde_json::from_str(&fixture("finnhub", "subscribe.json")).expect("json");
    assert_eq!((greeting.len(), first), (2, expected));
    assert!(!format!("{finnhub:?}").contains("sekrit"), "Debug hides the key");
}

#[test]
fn a_trade_batch_is_one_trade_a_print_with_the_documented_values() {
    let Message::Trade(trade) = read_one(&finnhub(), &fixture("finnhub", "trade.json")) else {
        panic!("trade")
    };
    assert_eq!(
        (trade.symbol.as_str(), trade.price, trade.size, trade.ts),
        ("BINANCE:BTCUSDT", 7296.89, 0.011467, 1_575_526_691_134_000_000)
    );
    assert_eq!(trade.trade_id, fingerprint(trade.ts, 7296.89, 0.011467), "the same print, the same id");
    let prints = finnhub().read(&fixture("finnhub", "trades_stock.json")).expect("read");
    let sizes: Vec<f64> = prints
        .iter()
        .map(|m| match m {
            Message::Trade(t) => t.size,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sizes, [1.0, 100.0]);
    assert_eq!(read_one(&finnhub(), &fixture("finnhub", "ping.json")), Message::Other);
}

#[test]
fn an_error_is_a_typed_refusal() {
    let Message::Refused(refusal) = read_one(&finnhub(), &fixture("finnhub", "error_invalid_symbol.json"))
    else {
        panic!("refused")
    };
    assert!(matches!(refusal, Refusal::UnknownSymbol { .. }) && refusal.needs_the_user(), "{refusal:?}");
    let limit = read_one(&finnhub(), r#"{"type":"error","msg":"Subscribing to too many symbols"}"#);
    assert!(matches!(limit, Message::Refused(Refusal::RateLimited { .. })), "{limit:?}");
}
