//! The parser against the frames in `tests/fixtures/venues/coinbase/`,
//! copied in shape from Coinbase's documentation.

use super::*;
use crate::sources::venues::testing::read_one;

fn fixture(name: &str) -> String {
    crate::sources::venues::testing::fixture("coinbase", name)
}

fn read(name: &str) -> Message {
    read_one(&Coinbase::new(vec![]), &fixture(name))
}

#[test]
fn the_subscription_asks_for_matches_and_heartbeats_of_every_product() {
    let greeting = Coinbase::new(vec!["BTC-USD".into(), "ETH-USD".into()]).greeting();
    let sent: serde_json::Value = serde_json::from_str(&greeting[0]).expect("json");
    let expected: serde_json::Value = serde_json::from_str(&fixture("subscribe.json")).expect("json");
    assert_eq!((greeting.len(), sent), (1, expected));
    assert_eq!(read("subscriptions.json"), Message::Subscribed(vec!["BTC-USD".into(), "ETH-USD".into()]));
}

#[test]
fn a_match_is_a_trade_with_the_documented_price_size_time_and_id() {
    let expected = Trade {
        symbol: "BTC-USD".into(),
        price: 400.23,
        size: 5.23512,
        // 2014-11-07T08:19:27.028459Z
        ts: 1_415_348_367_028_459_000,
        trade_id: 10,
    };
    assert_eq!(read("match.json"), Message::Trade(expected));
    let Message::Trade(last) = read("last_match.json") else { panic!("a trade") };
    assert_eq!(
        (last.symbol.as_str(), last.price, last.size, last.trade_id),
        ("ETH-USD", 2885.81, 0.01655371, 243091453)
    );
    assert_eq!(
        read("heartbeat.json"),
        Message::Heartbeat { symbol: "BTC-USD".into(), last_trade_id: Some(20) }
    );
}

#[test]
fn an_unknown_product_is_a_typed_refusal_that_needs_the_user() {
    let Message::Refused(refusal) = read("error_unknown_product.json") else { panic!("refused") };
    assert!(matches!(&refusal, Refusal::UnknownSymbol { symbol, .. } if symbol == "BTC-XXX"), "{refusal:?}");
    assert!(refusal.needs_the_user());
    assert!(refusal.to_string().contains("check the symbol in --source"), "{refusal}");
}

#[test]
fn a_frame_off_the_protocol_is_a_bad_frame_not_a_panic() {
    let coinbase = Coinbase::new(vec![]);
    for bad in [
        "{not json",
        r#"{"type":"match","trade_id":1,"product_id":"BTC-USD","price":"abc","size":"1","time":"2014-11-07T08:19:27Z"}"#,
        r#"{"type":"match","trade_id":1,"product_id":"BTC-USD","price":"1","size":"1","time":"yesterday"}"#,
        r#"{"type":"match","trade_id":-1,"product_id":"BTC-USD","price":"1","size":"1","time":"2014-11-07T08:19:27Z"}"#,
    ] {
        let err = coinbase.read(bad).expect_err(bad);
        assert_eq!(err.venue, Venue::Coinbase);
    }
    let huge = format!(r#"{{"type":"ticker","pad":"{}"}}"#, "x".repeat(1 << 20));
    assert_eq!(coinbase.read(&huge).expect("read"), vec![Message::Other], "an unused channel is skipped");
    let err = coinbase.read(&"[".repeat(1 << 20)).expect_err("deep");
    assert!(err.excerpt.len() < 200, "the log gets an excerpt, not the frame");
}
