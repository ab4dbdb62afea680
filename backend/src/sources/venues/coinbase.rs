//! Coinbase Exchange's market-data feed (no key needed), from its published
//! documentation (docs.cdp.coinbase.com/exchange/websocket-feed): subscribe
//! to the `matches` channel (one `match` per trade; the first after
//! subscribing is a `last_match`) and the `heartbeat` channel (one a second
//! per product, with the id of the product's last trade), acknowledged by a
//! `subscriptions` message; refusals are `error` messages. Prices and sizes
//! are decimal strings, times RFC 3339 with microseconds.

use serde::{Deserialize, Serialize};

use super::{BadFrame, Message, Protocol, Refusal, Trade, Venue, decimal, rfc3339};

/// The public feed.
pub const URL: &str = "wss://ws-feed.exchange.coinbase.com";

const VENUE: Venue = Venue::Coinbase;

/// Trades of some products (`BTC-USD`, `ETH-USD`).
#[derive(Debug, Clone)]
pub struct Coinbase {
    products: Vec<String>,
}

impl Coinbase {
    pub fn new(products: Vec<String>) -> Self {
        Self { products }
    }
}

#[derive(Serialize)]
struct Subscribe<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    channels: [Channel<'a>; 2],
}

#[derive(Serialize)]
struct Channel<'a> {
    name: &'static str,
    product_ids: &'a [String],
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Frame {
    Match(Match),
    LastMatch(Match),
    Heartbeat {
        product_id: String,
        last_trade_id: Option<u64>,
    },
    Subscriptions {
        channels: Vec<Subscribed>,
    },
    Error {
        message: String,
        #[serde(default)]
        reason: Option<String>,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct Match {
    trade_id: u64,
    product_id: String,
    price: String,
    size: String,
    time: String,
}

#[derive(Deserialize)]
struct Subscribed {
    name: String,
    #[serde(default)]
    product_ids: Vec<String>,
}

impl Protocol for Coinbase {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn url(&self, base: &str) -> String {
        base.to_owned()
    }

    fn greeting(&self) -> Vec<String> {
        let products = &self.products[..];
        let subscribe = Subscribe {
            kind: "subscribe",
            channels: [
                Channel { name: "matches", product_ids: products },
                Channel { name: "heartbeat", product_ids: products },
            ],
        };
        vec![serde_json::to_string(&subscribe).expect("a subscribe message serialises")]
    }

    fn read(&self, frame: &str) -> Result<Vec<Message>, BadFrame> {
        let parsed: Frame = serde_json::from_str(frame).map_err(|e| BadFrame::new(VENUE, e, frame))?;
        let message = match parsed {
            Frame::Match(m) | Frame::LastMatch(m) => Message::Trade(Trade {
                price: decimal(VENUE, "price", &m.price, frame)?,
                size: decimal(VENUE, "size", &m.size, frame)?,
                ts: rfc3339(VENUE, &m.time, frame)?,
                trade_id: m.trade_id,
                symbol: m.product_id,
            }),
            Frame::Heartbeat { product_id, last_trade_id } => {
                Message::Heartbeat { symbol: product_id, last_trade_id }
            }
            Frame::Subscriptions { channels } => Message::Subscribed(
                channels.into_iter().find(|c| c.name == "matches").map(|c| c.product_ids).unwrap_or_default(),
            ),
            Frame::Error { message, reason } => Message::Refused(refusal(message, reason)),
            Frame::Other => Message::Other,
        };
        Ok(vec![message])
    }
}

/// `{"type":"error","message":"Failed to subscribe","reason":"BTC-XXX is not a valid product"}`
fn refusal(message: String, reason: Option<String>) -> Refusal {
    let reason = match reason {
        Some(reason) if !reason.is_empty() => format!("{message}: {reason}"),
        _ => message,
    };
    if let Some(at) = reason.find(" is not a valid product") {
        let symbol = reason[..at].rsplit(' ').next().unwrap_or_default().to_owned();
        return Refusal::UnknownSymbol { venue: VENUE, symbol, reason };
    }
    let lower = reason.to_ascii_lowercase();
    if lower.contains("rate") || lower.contains("too many") || lower.contains("slow") {
        return Refusal::RateLimited { venue: VENUE, reason };
    }
    Refusal::Other { venue: VENUE, reason }
}

#[cfg(test)]
mod tests;
