//! Integration tests: the real server on a free port, driven over HTTP and
//! WebSocket like a browser would.

mod health;
mod helpers;
mod shutdown;
mod static_files;
mod ws;
