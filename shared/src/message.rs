use serde::{Deserialize, Serialize};

use crate::{Alert, AnalyzedBar, SimulationState, SymbolInfo, Tick};

/// Everything the server sends on `/ws`, as JSON tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Sent once on connect: the stored symbols, the simulation's state and
    /// the latest tick of every symbol that has ticked.
    Snapshot { server_time: i64, simulation: SimulationState, symbols: Vec<SymbolInfo>, quotes: Vec<Tick> },
    /// The simulation's state or the set of symbols changed.
    Simulation { state: SimulationState, symbols: Vec<SymbolInfo> },
    /// A batch of ticks, in the order the driver made them.
    Ticks { ticks: Vec<Tick> },
    /// Bars, in one message: `closed` ones with their indicators as they
    /// close, or (about once a second) every bar still forming, as it stands,
    /// with the indicators of its series' last close.
    #[serde(rename = "bar")]
    Bars { bars: Vec<AnalyzedBar>, closed: bool },
    /// An anomaly was detected.
    Alert { alert: Alert },
    /// The client fell behind; `skipped` messages were not delivered to it.
    /// A fresh `snapshot` follows so the client can carry on from there.
    Lagged { skipped: u64 },
    /// The answer to a client's `ping`.
    Pong { nonce: u64, server_time: i64 },
    /// The client sent something the server could not accept.
    Error { code: ErrorCode, message: String },
}

/// Everything a client may send on `/ws`, as JSON tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Ping { nonce: u64 },
}

/// Machine-readable reason carried by [`ServerMessage::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or JSON that is not a known client message.
    BadMessage,
    /// Larger than the server accepts.
    TooLarge,
    /// Binary frames are not part of the protocol.
    Unsupported,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick() -> Tick {
        Tick {
            symbol: "AAPL".into(),
            seq: 42,
            ts: 1_763_900_000_123_456_789,
            price: 189.25,
            size: 300,
            change: -1.5,
            change_pct: -0.786_163,
        }
    }

    fn round_trip(msg: &ServerMessage) -> ServerMessage {
        let json = serde_json::to_string(msg).expect("serialize");
        serde_json::from_str(&json).expect("deserialize")
    }

    #[test]
    fn every_server_message_survives_a_json_round_trip() {
        let messages = [
            ServerMessage::Snapshot {
                server_time: 7,
                simulation: SimulationState::Waiting { have: 1, need: 5 },
                symbols: vec![SymbolInfo {
                    symbol: "AAPL".into(),
                    name: None,
                    source: crate::DataSource::Csv,
                }],
                quotes: vec![tick()],
            },
            ServerMessage::Simulation { state: SimulationState::Stopped { symbols: 0 }, symbols: vec![] },
            ServerMessage::Ticks { ticks: vec![tick(), tick()] },
            ServerMessage::Lagged { skipped: 3 },
            ServerMessage::Pong { nonce: 9, server_time: 10 },
            ServerMessage::Error { code: ErrorCode::TooLarge, message: "too big".into() },
        ];
        for msg in &messages {
            assert_eq!(&round_trip(msg), msg);
        }
    }

    #[test]
    fn messages_are_tagged_by_type_in_snake_case() {
        let json = serde_json::to_value(ServerMessage::Ticks { ticks: vec![tick()] }).expect("json");
        assert_eq!(json["type"], "ticks");
        assert_eq!(json["ticks"][0]["symbol"], "AAPL");
        assert_eq!(json["ticks"][0]["ts"], 1_763_900_000_123_456_789_i64);

        let bars = serde_json::to_value(ServerMessage::Bars { bars: vec![], closed: true }).expect("json");
        assert_eq!((bars["type"].as_str(), bars["closed"].as_bool()), (Some("bar"), Some(true)));

        let err = serde_json::to_value(ServerMessage::Error {
            code: ErrorCode::BadMessage,
            message: String::new(),
        })
        .expect("json");
        assert_eq!(err["code"], "bad_message");
    }

    #[test]
    fn client_messages_parse_and_unknown_ones_are_rejected() {
        let ping: ClientMessage = serde_json::from_str(r#"{"type":"ping","nonce":5}"#).expect("ping");
        assert_eq!(ping, ClientMessage::Ping { nonce: 5 });
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"launch_rockets"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>("not json").is_err());
    }
}
