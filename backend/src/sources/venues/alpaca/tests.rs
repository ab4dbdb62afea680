//! The parser against the frames in `tests/fixtures/venues/alpaca/`,
//! copied in shape from Alpaca's documentation.

use super::*;
use crate::sources::venues::testing::{fixture, read_one};

fn alpaca() -> Alpaca {
    Alpaca::new(
        vec!["AAPL".into(), "FAKEPACA".into()],
        Some(Secret::new("AKTESTKEYID")),
        Some(Secret::new("test-secret-value")),
    )
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("json")
}

#[test]
fn it_authenticates_when_greeted_and_subscribes_once_authenticated() {
    let alpaca = alpaca();
    assert!(alpaca.greeting().is_empty(), "nothing before the server's hello");
    let connected = read_one(&alpaca, &fixture("alpaca", "connected.json"));
    assert_eq!(connected, Message::Greeted);
    let auth = alpaca.answer(&connected);
    assert_eq!(json(&auth[0]), json(&fixture("alpaca", "auth.json")));
    let authenticated = read_one(&alpaca, &fixture("alpaca", "authenticated.json"));
    assert_eq!(authenticated, Message::Authenticated);
    assert_eq!(json(&alpaca.answer(&authenticated)[0]), json(&fixture("alpaca", "subscribe.json")));
    let subscribed = read_one(&alpaca, &fixture("alpaca", "subscription.json"));
    assert_eq!(subscribed, Message::Subscribed(vec!["AAPL".into(), "FAKEPACA".into()]));
    let shown = format!("{alpaca:?}");
    assert!(!shown.contains("AKTESTKEYID") && !shown.contains("test-secret-value"), "{shown}");
}

#[test]
fn trades_carry_the_documented_values_with_nanosecond_times() {
    let messages = alpaca().read(&fixture("alpaca", "trades.json")).expect("read");
    let trades: Vec<Trade> = messages
        .into_iter()
        .map(|m| match m {
            Message::Trade(t) => t,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        trades[0],
        Trade {
            symbol: "AAPL".into(),
            price: 126.55,
            size: 1.0,
            ts: 1_614_009_104_208_000_000,
            trade_id: 96921
        }
    );
    assert_eq!((trades[1].ts, trades[1].trade_id), (1_614_009_105_335_689_322, 52983525029461));
}

#[test]
fn documented_errors_become_refusals_by_what_fixes_them() {
    let Message::Refused(auth) = read_one(&alpaca(), &fixture("alpaca", "error_auth_failed.json")) else {
        panic!("refused")
    };
    assert!(matches!(auth, Refusal::Auth { .. }) && auth.needs_the_user(), "{auth:?}");
    assert!(auth.to_string().contains("ALPACA_API_KEY_ID"), "{auth}");
    let slow = read_one(&alpaca(), r#"[{"T":"error","code":407,"msg":"slow client"}]"#);
    assert!(matches!(slow, Message::Refused(Refusal::RateLimited { .. })), "{slow:?}");
    assert!(alpaca().read(r#"{"T":"t"}"#).is_err(), "not an array");
}
