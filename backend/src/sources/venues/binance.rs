//! Binance's spot market streams (no key needed), from its published
//! documentation (developers.binance.com, WebSocket Streams): the raw
//! stream endpoint takes a `SUBSCRIBE` request for `<symbol>@trade` streams
//! (lower case) and answers `{"result":null,"id":1}`; each trade is an
//! event `{"e":"trade","s":"BTCUSDT","t":..,"p":"..","q":"..","T":..}`
//! (price and quantity decimal strings, trade time in ms), bare or inside
//! the combined streams' `{"stream":..,"data":..}`. A refused request gets
//! `{"error":{"code":2,"msg":..},"id":1}` (the documentation's table shows
//! the same object without `error`: both are read). A `serverShutdown`
//! event announces a close; a connection lasts at most 24 hours.

use serde::{Deserialize, Serialize};

use super::{BadFrame, Message, Protocol, Refusal, Trade, Venue, decimal};

/// The raw stream endpoint.
pub const URL: &str = "wss://stream.binance.com:9443/ws";

const VENUE: Venue = Venue::Binance;

/// Trades of some symbols (`BTCUSDT`).
#[derive(Debug, Clone)]
pub struct Binance {
    symbols: Vec<String>,
}

impl Binance {
    pub fn new(symbols: Vec<String>) -> Self {
        Self { symbols: symbols.into_iter().map(|s| s.to_ascii_uppercase()).collect() }
    }
}

#[derive(Serialize)]
struct Request {
    method: &'static str,
    params: Vec<String>,
    id: u64,
}

/// Every frame Binance sends on this connection, told apart by its keys.
#[derive(Deserialize)]
#[serde(untagged)]
enum Frame {
    Wrapped { data: Event },
    Event(Event),
    Nested { error: Error },
    Flat(Error),
    Reply { id: Option<serde_json::Value>, result: Option<serde_json::Value> },
}

#[derive(Deserialize)]
#[serde(tag = "e")]
enum Event {
    #[serde(rename = "trade")]
    Trade {
        #[serde(rename = "s")]
        symbol: String,
        #[serde(rename = "t")]
        trade_id: u64,
        #[serde(rename = "p")]
        price: String,
        #[serde(rename = "q")]
        quantity: String,
        #[serde(rename = "T")]
        time_ms: i64,
    },
    #[serde(rename = "serverShutdown")]
    ServerShutdown,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct Error {
    code: i64,
    msg: String,
}

impl Protocol for Binance {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn url(&self, base: &str) -> String {
        base.to_owned()
    }

    fn greeting(&self) -> Vec<String> {
        let params = self.symbols.iter().map(|s| format!("{}@trade", s.to_ascii_lowercase())).collect();
        let request = Request { method: "SUBSCRIBE", params, id: 1 };
        vec![serde_json::to_string(&request).expect("a subscribe request serialises")]
    }

    fn read(&self, frame: &str) -> Result<Vec<Message>, BadFrame> {
        let parsed: Frame = serde_json::from_str(frame).map_err(|e| BadFrame::new(VENUE, e, frame))?;
        let message = match parsed {
            Frame::Wrapped { data: event } | Frame::Event(event) => match event {
                Event::Trade { symbol, trade_id, price, quantity, time_ms } => Message::Trade(Trade {
                    price: decimal(VENUE, "p", &price, frame)?,
                    size: decimal(VENUE, "q", &quantity, frame)?,
                    ts: time_ms
                        .checked_mul(1_000_000)
                        .ok_or_else(|| BadFrame::new(VENUE, format!("trade time {time_ms} ms"), frame))?,
                    trade_id,
                    symbol,
                }),
                Event::ServerShutdown => Message::Closing,
                Event::Other => Message::Other,
            },
            // The answer to the subscribe request (the only one sent).
            Frame::Reply { id: Some(_), result: None } => Message::Subscribed(self.symbols.clone()),
            Frame::Reply { .. } => Message::Other,
            Frame::Nested { error } | Frame::Flat(error) => Message::Refused(refusal(error, &self.symbols)),
        };
        Ok(vec![message])
    }
}

fn refusal(error: Error, symbols: &[String]) -> Refusal {
    let reason = format!("code {}: {}", error.code, error.msg);
    let lower = error.msg.to_ascii_lowercase();
    if lower.contains("invalid stream") || lower.contains("invalid symbol") {
        return Refusal::UnknownSymbol { venue: VENUE, symbol: symbols.join(","), reason };
    }
    if lower.contains("too many") {
        return Refusal::RateLimited { venue: VENUE, reason };
    }
    Refusal::Other { venue: VENUE, reason }
}

#[cfg(test)]
mod tests;
