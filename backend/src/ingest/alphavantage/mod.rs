//! Alpha Vantage: the HTTP client, response parsing (pure, in [`parse`]) and
//! the error type.

mod client;
mod error;
pub mod parse;

pub use client::{AlphaVantageClient, ClientSettings, IntradayInterval};
pub use error::AlphaVantageError;
