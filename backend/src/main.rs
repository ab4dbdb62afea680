//! The `marquee` binary: parse the command line, install logging, bind, run.
//! Everything else lives in the library so tests can drive it.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use marquee::config::{Cli, Command};

/// jemalloc rather than glibc's malloc: after 1,000 WebSocket clients leave,
/// it returns what they used; glibc keeps it (BENCHMARKS.md, fan-out memory).
/// Its background thread returns the pages of threads that have gone quiet
/// (the server's, once the clients have left), which otherwise wait for the
/// next allocation on that thread.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// After `run` returns, how long blocking work still running (a store write
/// abandoned at the end of the shutdown grace, its ticks spilled) may hold
/// the exit. Dropping the runtime would wait for it however long it takes.
const BLOCKING_AT_EXIT: Duration = Duration::from_millis(500);

fn main() -> ExitCode {
    let cli = Cli::parse();
    marquee::common::telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("marquee: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    runtime.shutdown_timeout(BLOCKING_AT_EXIT);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("marquee: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(marquee::Config::from_args(*args)?).await,
        Command::Replay(command) => serve(marquee::Config::for_replay(*command)?).await,
        Command::Fetch(args) => marquee::cli::fetch(args).await,
        Command::Import(args) => marquee::cli::import(args).await,
    }
}

async fn serve(config: marquee::Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr().context("listener has no local address")?;
    #[expect(clippy::print_stdout, reason = "the dashboard URL is the command's output")]
    {
        println!("Marquee dashboard: http://{addr}/");
    }
    marquee::run(listener, config, marquee::common::shutdown::signal()).await
}
