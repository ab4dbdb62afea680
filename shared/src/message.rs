use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Alert, AnalyzedBar, Event, Health, Metrics, SimulationState, SymbolInfo, Tick};

/// Everything the server sends on `/ws`, as JSON tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Sent on connect (and after `lagged`): where everything stands. The
    /// `quotes` hold the latest tick, so the last seq, of every symbol.
    Snapshot {
        server_time: i64,
        simulation: SimulationState,
        symbols: Vec<SymbolInfo>,
        quotes: Vec<Tick>,
        /// Recent sparkline points per symbol (see [`crate::SPARK_EVERY`]).
        #[serde(default)]
        sparklines: BTreeMap<String, Vec<f64>>,
        /// The bars forming now, per symbol and interval.
        #[serde(default)]
        bars: Vec<AnalyzedBar>,
        #[serde(default)]
        metrics: Option<Box<Metrics>>,
        #[serde(default)]
        health: Option<Box<Health>>,
    },
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
    /// A pipeline event (data loaded, simulation started, ...).
    Event { event: Event },
    /// The measured figures, once a second.
    Metrics { metrics: Box<Metrics> },
    /// Sent when any stage's status changes.
    Health { health: Box<Health> },
    /// The client fell behind: `skipped` messages were conflated away (or,
    /// after `resume`, ticks were no longer held). A fresh `snapshot` with
    /// the latest value of every symbol follows.
    Lagged { skipped: u64 },
    /// The answer to `resume`: `replayed` ticks were sent in a `ticks`
    /// message just before this one.
    Resumed { replayed: u64 },
    /// The answer to `subscribe`/`unsubscribe`: what the client now gets,
    /// with the symbols counted rather than named.
    Subscribed { symbols: SymbolSelection, channels: Vec<Channel> },
    /// The answer to a client's `ping`.
    Pong { nonce: u64, server_time: i64 },
    /// The client sent something the server could not accept.
    Error { code: ErrorCode, message: String },
}

/// Everything a client may send on `/ws`, as JSON tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Ping {
        nonce: u64,
    },
    /// Adds symbols (`"*"` for all) and channels to what the client gets.
    /// A new client gets everything.
    Subscribe {
        #[serde(default)]
        symbols: Vec<String>,
        #[serde(default)]
        channels: Vec<Channel>,
    },
    /// Removes symbols (`"*"` for all) and channels.
    Unsubscribe {
        #[serde(default)]
        symbols: Vec<String>,
        #[serde(default)]
        channels: Vec<Channel>,
    },
    /// After a reconnect: the last seq the client saw per symbol. The server
    /// replays the ticks after them that it still holds, up to its snapshot.
    Resume {
        last_seq: BTreeMap<String, u64>,
    },
}

/// A kind of stream message a client can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Ticks,
    Bars,
    Alerts,
    Events,
    Metrics,
    Health,
}

impl Channel {
    pub const ALL: [Channel; 6] =
        [Channel::Ticks, Channel::Bars, Channel::Alerts, Channel::Events, Channel::Metrics, Channel::Health];
}

/// Which symbols a client gets: all but `except` of them, or only `symbols`
/// of them (counts; a subscription names at most the server's limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum SymbolSelection {
    All { except: u64 },
    Only { symbols: u64 },
}

/// Machine-readable reason carried by [`ServerMessage::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or JSON that is not a known client message.
    BadMessage,
    /// Larger than the server accepts.
    TooLarge,
    /// Binary frames are not part of the protocol.
    Unsupported,
    /// More messages per second than the server accepts; this one was ignored.
    RateLimited,
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
            size: 300.0,
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
                    feed: Some(crate::Feed::Live { venue: "Coinbase".into() }),
                }],
                quotes: vec![tick()],
                sparklines: BTreeMap::from([("AAPL".to_owned(), vec![1.0, 2.0])]),
                bars: vec![],
                metrics: None,
                health: None,
            },
            ServerMessage::Simulation { state: SimulationState::Stopped { symbols: 0 }, symbols: vec![] },
            ServerMessage::Ticks { ticks: vec![tick(), tick()] },
            ServerMessage::Lagged { skipped: 3 },
            ServerMessage::Resumed { replayed: 4 },
            ServerMessage::Subscribed {
                symbols: SymbolSelection::All { except: 1 },
                channels: vec![Channel::Ticks],
            },
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
        let subscribe: ClientMessage =
            serde_json::from_str(r#"{"type":"subscribe","symbols":["AAPL"],"channels":["ticks","bars"]}"#)
                .expect("subscribe");
        assert_eq!(
            subscribe,
            ClientMessage::Subscribe {
                symbols: vec!["AAPL".into()],
                channels: vec![Channel::Ticks, Channel::Bars]
            }
        );
        let resume: ClientMessage =
            serde_json::from_str(r#"{"type":"resume","last_seq":{"AAPL":41}}"#).expect("resume");
        assert_eq!(resume, ClientMessage::Resume { last_seq: BTreeMap::from([("AAPL".to_owned(), 41)]) });
        assert!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"subscribe","channels":["news"]}"#).is_err()
        );
        assert!(serde_json::from_str::<ClientMessage>("not json").is_err());
    }
}
