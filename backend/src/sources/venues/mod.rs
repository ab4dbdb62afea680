//! The venues' WebSocket protocols, each written from the venue's published
//! documentation: the frames that subscribe, and what a frame from the
//! venue means. Pure: no socket, no clock, no task; `driver::feed` runs a
//! connection and hands every text frame to [`Protocol::read`].

pub mod alpaca;
pub mod binance;
pub mod coinbase;
pub mod finnhub;
#[cfg(test)]
mod testing;

use std::fmt;

use crate::config::Secret;

/// A venue Marquee can stream trades from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Venue {
    Coinbase,
    Binance,
    Finnhub,
    Alpaca,
}

impl Venue {
    pub const ALL: [Venue; 4] = [Venue::Coinbase, Venue::Binance, Venue::Finnhub, Venue::Alpaca];

    /// The name in `--source NAME:SYMBOLS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Venue::Coinbase => "coinbase",
            Venue::Binance => "binance",
            Venue::Finnhub => "finnhub",
            Venue::Alpaca => "alpaca",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Venue::Coinbase => "Coinbase",
            Venue::Binance => "Binance",
            Venue::Finnhub => "Finnhub",
            Venue::Alpaca => "Alpaca",
        }
    }

    /// What to check when the venue refuses the credentials.
    pub fn key_hint(self) -> &'static str {
        match self {
            Venue::Coinbase | Venue::Binance => "the venue's URL (it needs no key)",
            Venue::Finnhub => "FINNHUB_API_KEY",
            Venue::Alpaca => alpaca::KEY_ENV,
        }
    }

    /// How the venue's trade ids run (see [`Ids`]).
    pub fn ids(self) -> Ids {
        match self {
            Venue::Coinbase | Venue::Binance => Ids::Contiguous,
            Venue::Finnhub | Venue::Alpaca => Ids::Unordered,
        }
    }

    pub fn parse(name: &str) -> Option<Venue> {
        Venue::ALL.into_iter().find(|venue| venue.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A trade as the venue reported it, before Marquee gives it a seq.
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    /// The venue's symbol (`BTC-USD`), as subscribed.
    pub symbol: String,
    pub price: f64,
    pub size: f64,
    /// The venue's event time, ns since the epoch (UTC).
    pub ts: i64,
    /// The venue's trade id: a trade seen twice (across a reconnect) is
    /// dropped by it. A venue without ids gets one made of the trade's
    /// time, price and size.
    pub trade_id: u64,
}

/// How a venue's trade ids run, per symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// One more per trade (Coinbase's `trade_id`, Binance's `t`): an id at
    /// or below the last is a repeat, one further on means trades were
    /// missed.
    Contiguous,
    /// Unique but in no order (Alpaca's ids come from several exchanges;
    /// Finnhub sends none): repeats are found among the recent ones, gaps
    /// cannot be told.
    Unordered,
}

/// An id for a trade the venue gave none: the same trade sent twice gets
/// the same one.
pub fn fingerprint(ts: i64, price: f64, size: f64) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (ts, price.to_bits(), size.to_bits()).hash(&mut hasher);
    hasher.finish()
}

/// What one frame from a venue says.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Trade(Trade),
    /// The venue confirmed these symbols.
    Subscribed(Vec<String>),
    /// The venue's hello (Alpaca's `connected`): time to authenticate.
    Greeted,
    /// The venue accepted the credentials: time to subscribe.
    Authenticated,
    /// The venue says it is about to close the connection (Binance's
    /// `serverShutdown`): reconnect now rather than wait for it.
    Closing,
    /// The venue's own liveness signal, with the id of the last trade it
    /// sent for `symbol` where it tells (gaps are counted against it).
    Heartbeat {
        symbol: String,
        last_trade_id: Option<u64>,
    },
    /// The venue refused something: typed, so the feed knows whether
    /// reconnecting can help.
    Refused(Refusal),
    /// Nothing Marquee acts on (a channel it does not use).
    Other,
}

/// What a venue refused, in words that say what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{venue} does not know {symbol:?}: {reason}; check the symbol in --source")]
    UnknownSymbol { venue: Venue, symbol: String, reason: String },
    #[error("{venue} refused the credentials: {reason}; check {env}")]
    Auth { venue: Venue, reason: String, env: &'static str },
    #[error("{venue} limits this connection: {reason}")]
    RateLimited { venue: Venue, reason: String },
    #[error("{venue} says: {reason}")]
    Other { venue: Venue, reason: String },
}

impl Refusal {
    /// Reconnecting at once cannot help: the user must change something
    /// (the feed then retries only at its slowest pace).
    pub fn needs_the_user(&self) -> bool {
        matches!(self, Refusal::UnknownSymbol { .. } | Refusal::Auth { .. })
    }
}

/// A frame that is not what the venue's protocol says: reported and
/// skipped, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{venue} sent a frame Marquee cannot read ({reason}): {excerpt}")]
pub struct BadFrame {
    pub venue: Venue,
    pub reason: String,
    /// The frame's first characters, for the log.
    pub excerpt: String,
}

impl BadFrame {
    pub fn new(venue: Venue, reason: impl fmt::Display, frame: &str) -> Self {
        const SHOWN: usize = 120;
        let excerpt = match frame.char_indices().nth(SHOWN) {
            Some((end, _)) => format!("{}… ({} bytes)", &frame[..end], frame.len()),
            None => frame.to_owned(),
        };
        Self { venue, reason: reason.to_string(), excerpt }
    }
}

/// One venue's protocol for one connection's symbols.
pub trait Protocol: Send + Sync + fmt::Debug {
    fn venue(&self) -> Venue;

    /// The URL to connect to (with a key in it where the venue wants one
    /// there: never logged).
    fn url(&self, base: &str) -> String;

    /// Frames to send once connected, in order.
    fn greeting(&self) -> Vec<String>;

    /// Frames to send in answer to a message (a venue that wants its
    /// subscription after authenticating).
    fn answer(&self, _message: &Message) -> Vec<String> {
        Vec::new()
    }

    /// What a text frame says.
    fn read(&self, frame: &str) -> Result<Vec<Message>, BadFrame>;
}

/// A decimal the venue sent as a string (`"0.01655371"`), as a number.
pub(crate) fn decimal(venue: Venue, field: &str, value: &str, frame: &str) -> Result<f64, BadFrame> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| BadFrame::new(venue, format!("{field} {value:?} is not a number"), frame))
}

/// An RFC 3339 time (`2014-11-07T08:19:27.028459Z`, any number of
/// fractional digits) as ns since the epoch.
pub(crate) fn rfc3339(venue: Venue, value: &str, frame: &str) -> Result<i64, BadFrame> {
    value
        .parse::<jiff::Timestamp>()
        .ok()
        .and_then(|t| i64::try_from(t.as_nanosecond()).ok())
        .ok_or_else(|| BadFrame::new(venue, format!("time {value:?} is not RFC 3339"), frame))
}

/// The protocol of `venue` for its symbols (as the venue writes them).
pub fn protocol(venue: Venue, symbols: Vec<String>, keys: Keys) -> Box<dyn Protocol> {
    match venue {
        Venue::Coinbase => Box::new(coinbase::Coinbase::new(symbols)),
        Venue::Binance => Box::new(binance::Binance::new(symbols)),
        Venue::Finnhub => Box::new(finnhub::Finnhub::new(symbols, keys.key)),
        Venue::Alpaca => Box::new(alpaca::Alpaca::new(symbols, keys.key, keys.secret)),
    }
}

/// A venue's credentials, from the environment; `Debug` shows neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    pub key: Option<Secret>,
    pub secret: Option<Secret>,
}
