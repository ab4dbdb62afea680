use axum::extract::ws::close_code;
use marquee_shared::ClientMessage;

use super::*;

#[test]
fn client_messages_parse() {
    assert_eq!(parse(r#"{"type":"ping","nonce":77}"#), Ok(ClientMessage::Ping { nonce: 77 }));
}

#[test]
fn bad_json_and_unknown_types_get_a_bad_message_error() {
    for text in ["{", "[]", r#"{"type":"buy","qty":1}"#, ""] {
        let reply = parse(text);
        assert!(matches!(reply, Err((ErrorCode::BadMessage, _))), "{text:?} -> {reply:?}");
    }
}

#[test]
fn oversized_messages_are_refused_before_parsing() {
    let big = format!(r#"{{"type":"ping","nonce":1,"pad":"{}"}}"#, "x".repeat(MAX_CLIENT_MESSAGE));
    assert!(matches!(parse(&big), Err((ErrorCode::TooLarge, _))));
}

#[test]
fn websocket_layer_errors_map_to_reasons_and_close_codes() {
    use tungstenite::error::{CapacityError, ProtocolError};
    let too_long = tungstenite::Error::Capacity(CapacityError::MessageTooLong { size: 2, max_size: 1 });
    let cases = [
        (axum::Error::new(too_long), Disconnect::TooLarge, Some(close_code::SIZE)),
        (
            axum::Error::new(tungstenite::Error::Protocol(ProtocolError::NonZeroReservedBits)),
            Disconnect::Protocol,
            Some(close_code::PROTOCOL),
        ),
        (
            axum::Error::new(tungstenite::Error::Utf8("bad".into())),
            Disconnect::BadUtf8,
            Some(close_code::INVALID),
        ),
        (axum::Error::new(tungstenite::Error::ConnectionClosed), Disconnect::ClientGone, None),
    ];
    for (err, reason, code) in cases {
        assert_eq!(classify(err), reason);
        assert_eq!(close_for(reason).map(|(code, _)| code), code, "{reason:?}");
    }
    assert_eq!(close_for(Disconnect::Shutdown).map(|(code, _)| code), Some(close_code::AWAY));
}
