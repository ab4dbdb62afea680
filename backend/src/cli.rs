//! The `fetch` and `import` subcommands: the same ingest as the server,
//! straight into the store, with progress bars. A running server picks the
//! new symbols up at its next store check.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use marquee_shared::{FetchRequest, FetchState, IntradayInterval, OutputSize};
use tokio_util::sync::CancellationToken;

use crate::config::{FetchArgs, ImportArgs, Secrets};
use crate::events::{Events, InProcessBus};
use crate::ingest::alphavantage::{AlphaVantageClient, ClientSettings};
use crate::ingest::fetch::Fetcher;
use crate::metrics::StageStats;
use crate::store::SharedStore;

async fn open_store(args: &crate::config::StoreArgs) -> anyhow::Result<SharedStore> {
    crate::pipeline::wiring::open_store(&args.data_dir, args.mongodb()?.as_ref(), None).await
}

fn events(store: &SharedStore) -> Events {
    Events::new(Arc::new(InProcessBus::new(64)), Arc::clone(store), "cli")
}

/// `marquee fetch SYMBOL...`: one bar per symbol showing its state.
pub async fn fetch(args: FetchArgs) -> anyhow::Result<()> {
    let secrets = Secrets::from_env();
    let Some(api_key) = secrets.alphavantage_api_key else {
        bail!("set ALPHAVANTAGE_API_KEY to fetch from Alpha Vantage (or use `marquee import` for CSV files)");
    };
    let av = args.alphavantage.to_config()?;
    let store = open_store(&args.store).await?;
    let client = AlphaVantageClient::new(ClientSettings {
        base_url: av.url,
        api_key,
        requests_per_minute: av.requests_per_minute,
        timeout: av.timeout,
        max_retries: av.retries,
        retry_backoff: av.backoff,
    })?;
    let (fetcher, handle) = Fetcher::new(
        Arc::new(client),
        Arc::clone(&store),
        events(&store),
        Arc::new(StageStats::new(crate::common::Stage::Ingest)),
    );
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(fetcher.run(shutdown.clone()));

    let outputsize = if args.full { OutputSize::Full } else { OutputSize::Compact };
    let intraday = args.intraday.as_deref().map(parse_intraday).transpose()?;
    let request = FetchRequest { symbols: args.symbols, outputsize, intraday, replace: args.replace };
    let job = handle.submit(request).await?;
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{spinner} {prefix:<8} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let lines: HashMap<String, ProgressBar> = job
        .entries
        .iter()
        .map(|e| {
            let bar =
                bars.add(ProgressBar::new_spinner().with_style(style.clone()).with_prefix(e.symbol.clone()));
            bar.enable_steady_tick(Duration::from_millis(120));
            (e.symbol.clone(), bar)
        })
        .collect();
    let finished = loop {
        let now = handle.job(job.id.clone()).await?.context("the fetch job vanished from the store")?;
        for entry in &now.entries {
            if let Some(bar) = lines.get(&entry.symbol) {
                match &entry.state {
                    FetchState::Queued => bar.set_message("queued"),
                    FetchState::Fetching => bar.set_message("fetching…"),
                    FetchState::Stored { records } => {
                        bar.finish_with_message(format!("stored {records} daily bars"))
                    }
                    FetchState::Failed { reason } => bar.finish_with_message(format!("failed: {reason}")),
                }
            }
        }
        if now.finished {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    shutdown.cancel();
    running.await.context("the fetcher panicked")?;
    let failed = finished.entries.iter().filter(|e| matches!(e.state, FetchState::Failed { .. })).count();
    if failed > 0 {
        bail!("{failed} of {} symbols failed", finished.entries.len());
    }
    Ok(())
}

fn parse_intraday(name: &str) -> anyhow::Result<IntradayInterval> {
    IntradayInterval::parse(name)
        .with_context(|| format!("--intraday must be 1min, 5min, 15min, 30min or 60min, not {name:?}"))
}

/// `marquee import FILE --symbol X`: a bar over the file's bytes.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let store = open_store(&args.store).await?;
    let bar = ProgressBar::new(text.len() as u64).with_style(
        ProgressStyle::with_template("{prefix} [{bar:40}] {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(args.symbol.to_ascii_uppercase());
    let stored =
        crate::ingest::import_csv(&store, &events(&store), &args.symbol, &text, args.replace, |bytes| {
            bar.set_position(bytes)
        })
        .await
        .with_context(|| format!("{} was not imported (nothing was stored)", args.file.display()))?;
    let replaced = match stored.replaced {
        Some(previous) => format!(" (replacing the {} bars)", previous.label()),
        None => String::new(),
    };
    bar.finish_with_message(format!("stored {} daily bars{replaced}", stored.records));
    Ok(())
}
