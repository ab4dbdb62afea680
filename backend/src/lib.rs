//! Marquee's server: a market-data pipeline and the gateway that streams it to
//! browsers.
//!
//! Layout (see ARCHITECTURE.md for the full map):
//! - [`config`]: the command line and the one validated [`Config`].
//! - [`pipeline`]: wires the stages together, the only place that does.
//! - [`driver`]: the tick simulation (a pure [`driver::RandomWalk`] plus its task).
//! - [`hub`]: the fan-out actor that owns the latest quotes and feeds clients.
//! - [`gateway`]: HTTP: the dashboard files, `/health` and the `/ws` stream.
//! - [`metrics`]: counters every stage updates, sampled for `/health` and `/metrics`.
//! - [`spill`]: ticks not stored by the end of the shutdown grace, stored at the next start.
//! - [`common`]: the stages' shared vocabulary and process plumbing (time, shutdown, logging).
//! - [`cluster`]: instances and the key that signs what crosses between them.
//! - [`sources`]: the demo universe and the simulation's model.

pub mod analytics;
pub mod cli;
pub mod cluster;
pub mod common;
pub mod config;
pub mod driver;
pub mod events;
#[cfg(test)]
mod fuzz;
pub mod gateway;
pub mod hub;
pub mod ingest;
pub mod kafka;
pub mod links;
pub mod metrics;
pub mod notify;
pub mod pipeline;
pub mod receiver;
pub mod sns;
pub mod sources;
pub mod spill;
pub mod store;

use std::future::Future;

use anyhow::Context;
pub use config::Config;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Runs every stage and the HTTP server on `listener` until `shutdown`
/// completes, then drains: the server stops accepting, clients are closed and
/// every stage task has finished before this returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let token = CancellationToken::new();
    let addr = listener.local_addr().context("listener has no local address")?;
    let open_files = gateway::connections::raise_open_file_limit();
    let pipeline = pipeline::Pipeline::start(&config, addr, token.clone()).await?;
    let state = gateway::AppState::new(&config, &pipeline, token.clone(), open_files);
    let edge = state.edge();
    let app = gateway::router(state);

    tracing::info!(%addr, symbols = config.symbols.len(), "marquee is serving");

    let server =
        gateway::server::start(listener, app, edge, token.clone()).context("cannot start the server")?;

    tokio::select! {
        () = shutdown => tracing::info!("shutdown requested"),
        () = token.cancelled() => {}
    }
    token.cancel();
    server.await;
    pipeline.wait().await;
    tracing::info!("marquee stopped");
    Ok(())
}
