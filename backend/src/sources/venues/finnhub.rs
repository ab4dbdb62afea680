//! Finnhub's trades WebSocket, from its published documentation
//! (finnhub.io/docs/api/websocket-trades): the API key goes in the URL's
//! `token` (a bad one is refused with HTTP 401 at the upgrade); one
//! `{"type":"subscribe","symbol":"AAPL"}` per symbol, not acknowledged;
//! trades come in batches `{"type":"trade","data":[{"s","p","t","v","c"}]}`
//! with the price and volume as numbers and the time in ms; the server
//! sends `{"type":"ping"}` on a quiet connection and `{"type":"error",
//! "msg":..}` when it refuses. Trades carry no id: a repeat is recognised
//! by its time, price and size.

use serde::{Deserialize, Serialize};

use super::{BadFrame, Message, Protocol, Refusal, Trade, Venue, fingerprint};
use crate::config::Secret;

/// The trades endpoint.
pub const URL: &str = "wss://ws.finnhub.io";

const VENUE: Venue = Venue::Finnhub;

/// Trades of some symbols (`AAPL`, `BINANCE:BTCUSDT`); `Debug` hides the key.
#[derive(Debug, Clone)]
pub struct Finnhub {
    symbols: Vec<String>,
    token: Option<Secret>,
}

impl Finnhub {
    pub fn new(symbols: Vec<String>, token: Option<Secret>) -> Self {
        Self { symbols, token }
    }
}

#[derive(Serialize)]
struct Subscribe<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    symbol: &'a str,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Frame {
    Trade {
        data: Vec<Print>,
    },
    Ping,
    Error {
        msg: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct Print {
    s: String,
    p: f64,
    t: i64,
    v: f64,
}

impl Protocol for Finnhub {
    fn venue(&self) -> Venue {
        VENUE
    }

    fn url(&self, base: &str) -> String {
        let token = self.token.as_ref().map_or("", Secret::expose);
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("{base}{separator}token={token}")
    }

    fn greeting(&self) -> Vec<String> {
        self.symbols
            .iter()
            .map(|symbol| {
                serde_json::to_string(&Subscribe { kind: "subscribe", symbol })
                    .expect("a subscribe message serialises")
            })
            .collect()
    }

    fn read(&self, frame: &str) -> Result<Vec<Message>, BadFrame> {
        let parsed: Frame = serde_json::from_str(frame).map_err(|e| BadFrame::new(VENUE, e, frame))?;
        Ok(match parsed {
            Frame::Trade { data } => {
                data.into_iter()
                    .map(|print| {
                        let ts = print.t.checked_mul(1_000_000).ok_or_else(|| {
                            BadFrame::new(VENUE, format!("trade time {} ms", print.t), frame)
                        })?;
                        Ok(Message::Trade(Trade {
                            trade_id: fingerprint(ts, print.p, print.v),
                            symbol: print.s,
                            price: print.p,
                            size: print.v,
                            ts,
                        }))
                    })
                    .collect::<Result<_, _>>()?
            }
            // Keeps a quiet connection alive; hearing it is all that counts.
            Frame::Ping => vec![Message::Other],
            Frame::Error { msg } => vec![Message::Refused(refusal(msg))],
            Frame::Other => vec![Message::Other],
        })
    }
}

fn refusal(msg: String) -> Refusal {
    let lower = msg.to_ascii_lowercase();
    if lower.contains("symbol") && (lower.contains("invalid") || lower.contains("unknown")) {
        return Refusal::UnknownSymbol { venue: VENUE, symbol: String::new(), reason: msg };
    }
    if lower.contains("too many") || lower.contains("limit") {
        return Refusal::RateLimited { venue: VENUE, reason: msg };
    }
    if lower.contains("token") || lower.contains("key") || lower.contains("auth") {
        return Refusal::Auth { venue: VENUE, reason: msg, env: "FINNHUB_API_KEY" };
    }
    Refusal::Other { venue: VENUE, reason: msg }
}

#[cfg(test)]
mod tests;
