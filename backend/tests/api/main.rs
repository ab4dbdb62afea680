//! Integration tests: the real server on a free port, driven over HTTP and
//! WebSocket like a browser would.

mod analytics;
mod edge;
mod engines;
mod errors;
mod failover;
mod fake_alphavantage;
mod fake_venue;
mod feeds;
mod fetch;
mod health;
mod helpers;
mod history;
mod import;
mod kafka;
mod live;
mod logs;
mod market;
mod notify;
mod origin;
mod peers;
mod replay;
mod shutdown;
mod spill;
mod static_files;
mod stream;
#[path = "../support/mod.rs"]
mod support;
mod venue_faults;
mod ws;
