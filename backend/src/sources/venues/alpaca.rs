//! Alpaca's real-time market data, v2 (docs.alpaca.markets, "Real-time
//! stock data"): every server frame is a JSON array of messages told apart
//! by `T`. The server says `[{"T":"success","msg":"connected"}]`; the client
//! authenticates with `{"action":"auth","key":..,"secret":..}` (answered
//! `authenticated`, within 10 s of connecting), then subscribes with
//! `{"action":"subscribe","trades":[..]}`, answered by the whole current
//! subscription. A trade is `{"T":"t","S":"AAPL","i":96921,"p":126.55,
//! "s":1,"t":"2021-02-22T15:51:44.208Z",..}` (RFC 3339, up to nanoseconds).
//! Errors are `{"T":"error","code":402,"msg":"auth failed"}` and their
//! kin. The test stream (`/v2/test`) trades the symbol `FAKEPACA` at any hour.

use serde::{Deserialize, Serialize};

use super::{BadFrame, Message, Protocol, Refusal, Trade, Venue, rfc3339};
use crate::config::Secret;

/// The IEX feed, free with an account; `--alpaca-url` picks another (the
/// test stream: `wss://stream.data.alpaca.markets/v2/test`).
pub const URL: &str = "wss://stream.data.alpaca.markets/v2/iex";

const VENUE: Venue = Venue::Alpaca;

/// The environment variables the key and secret come from.
pub const KEY_ENV: &str = "ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY";

/// Trades of some symbols; `Debug` hides the credentials.
#[derive(Debug, Clone)]
pub struct Alpaca {
    symbols: Vec<String>,
    key: Option<Secret>,
    secret: Option<Secret>,
}

impl Alpaca {
    pub fn new(symbols: Vec<String>, key: Option<Secret>, secret: Option<Secret>) -> Self {
        Self { symbols, key, secret }
    }
}

#[derive(Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum Request<'a> {
    Auth { key: &'a str, secret: &'a str },
    Subscribe { trades: &'a [String] },
}

#[derive(Deserialize)]
#[serde(tag = "T")]
enum Item {
    #[serde(rename = "success")]
    Success { msg: String },
    #[serde(rename = "error")]
    Error { code: u16, msg: String },
    #[serde(rename = "subscription")]
    Subscription {
        #[serde(default)]
        trades: Vec<String>,
    },
    #[serde(rename = "t")]
    Trade {
        #[serde(rename = "S")]
        symbol: String,
        #[serde(rename = "i")]
        id: u64,
        #[serde(rename = "p")]
        price: f64,
        #[serde(rename = "s")]
        size: f64,
        #[serde(rename = "t")]
        time: String,
    },
    #[serde(other)]
    Other,
}

impl Protocol for Alpaca {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn url(&self, base: &str) -> String {
        base.to_owned()
    }

    /// Nothing until the server says it is connected.
    fn greeting(&self) -> Vec<String> {
        Vec::new()
    }

    fn answer(&self, message: &Message) -> Vec<String> {
        let request = match message {
            Message::Greeted => Request::Auth {
                key: self.key.as_ref().map_or("", Secret::expose),
                secret: self.secret.as_ref().map_or("", Secret::expose),
            },
            Message::Authenticated => Request::Subscribe { trades: &self.symbols },
            _ => return Vec::new(),
        };
        vec![serde_json::to_string(&request).expect("a request serialises")]
    }

    fn read(&self, frame: &str) -> Result<Vec<Message>, BadFrame> {
        let items: Vec<Item> = serde_json::from_str(frame).map_err(|e| BadFrame::new(VENUE, e, frame))?;
        items
            .into_iter()
            .map(|item| {
                Ok(match item {
                    Item::Success { msg } if msg == "connected" => Message::Greeted,
                    Item::Success { msg } if msg == "authenticated" => Message::Authenticated,
                    Item::Success { .. } | Item::Other => Message::Other,
                    Item::Error { code, msg } => Message::Refused(refusal(code, msg, &self.symbols)),
                    Item::Subscription { trades } => Message::Subscribed(trades),
                    Item::Trade { symbol, id, price, size, time } => Message::Trade(Trade {
                        ts: rfc3339(VENUE, &time, frame)?,
                        trade_id: id,
                        symbol,
                        price,
                        size,
                    }),
                })
            })
            .collect()
    }
}

/// The documented error codes, by what fixes them.
fn refusal(code: u16, msg: String, symbols: &[String]) -> Refusal {
    let reason = format!("{code} {msg}");
    match code {
        // auth failed; insufficient subscription (the feed is not in the plan).
        402 | 409 => Refusal::Auth { venue: VENUE, reason, env: KEY_ENV },
        // invalid syntax (also a symbol in a bad format); symbol limit exceeded.
        400 | 405 => Refusal::UnknownSymbol { venue: VENUE, symbol: symbols.join(","), reason },
        // connection limit exceeded (another session holds it); slow client.
        406 | 407 => Refusal::RateLimited { venue: VENUE, reason },
        _ => Refusal::Other { venue: VENUE, reason },
    }
}

#[cfg(test)]
mod tests;
