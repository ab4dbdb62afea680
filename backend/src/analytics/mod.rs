//! Analytics over the tick stream, as pure synchronous types: OHLCV bars
//! with VWAP ([`bars`]) and streaming indicators ([`indicators`]).

pub mod bars;
pub mod indicators;
