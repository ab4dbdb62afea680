//! The ingest stage: gets daily history and company data into the store and
//! announces it with events. Sources: Alpha Vantage, CSV files, and the
//! built-in demo universe (synthetic, for running with no API key).

pub mod alphavantage;
mod cells;
pub mod csv_import;
pub mod fetch;
pub mod sources;
pub mod synthetic;

use std::collections::HashSet;

use jiff::Zoned;
use marquee_shared::EventKind;

use crate::events::Events;
use crate::sources::demo_universe::DemoSymbol;
use crate::store::{SharedStore, StoreError};

/// Trading days of synthetic history per demo symbol (about a year).
const DEMO_HISTORY_DAYS: usize = 252;

/// Stores synthetic history for every demo symbol not stored yet, emitting
/// `symbol_data_loaded` for each and `batch_complete` at the end. Symbols
/// already in the store (from any source) are left alone, so a restart
/// changes nothing.
pub async fn load_demo_universe(
    store: &SharedStore,
    events: &Events,
    symbols: &[DemoSymbol],
) -> Result<u64, StoreError> {
    let stored: HashSet<String> = store.symbols().await?.into_iter().map(|s| s.symbol).collect();
    let yesterday = Zoned::now().date().yesterday().unwrap_or_else(|_| Zoned::now().date());
    let mut loaded = Vec::new();
    let mut total = 0;
    for symbol in symbols.iter().filter(|s| !stored.contains(s.ticker)) {
        let bars = synthetic::daily_history(symbol, yesterday, DEMO_HISTORY_DAYS);
        let Some(latest) = bars.last().cloned() else { continue };
        store.upsert_company(synthetic::company(symbol)).await?;
        let records = store.upsert_daily_bars(bars).await?;
        total += records;
        loaded.push(symbol.ticker.to_owned());
        events
            .emit(EventKind::SymbolDataLoaded {
                symbol: symbol.ticker.to_owned(),
                records,
                latest_ts: latest.ts,
                latest_close: latest.close,
            })
            .await;
    }
    if !loaded.is_empty() {
        tracing::info!(symbols = loaded.len(), records = total, "demo universe loaded (synthetic data)");
        events.emit(EventKind::BatchComplete { symbols: loaded, total_records: total }).await;
    }
    Ok(total)
}

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("bad symbol: {0}")]
    Symbol(String),
    #[error(transparent)]
    Csv(#[from] csv_import::CsvError),
    #[error(transparent)]
    Mixed(#[from] sources::MixedSources),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sources::StoreDailyError> for ImportError {
    fn from(err: sources::StoreDailyError) -> Self {
        match err {
            sources::StoreDailyError::Mixed(mixed) => Self::Mixed(mixed),
            sources::StoreDailyError::Store(store) => Self::Store(store),
        }
    }
}

/// Parses `text` as CSV daily bars and stores all of them for `symbol` in one
/// transaction, or none, over what the symbol holds as [`sources::plan`]
/// says (`replace`: replace another source's bars). Announces the symbol
/// like a fetch does.
pub async fn import_csv(
    store: &SharedStore,
    events: &Events,
    symbol: &str,
    text: &str,
    replace: bool,
    progress: impl FnMut(u64),
) -> Result<sources::Stored, ImportError> {
    let symbol = crate::common::symbol::normalize(symbol).map_err(ImportError::Symbol)?;
    let bars = csv_import::parse(text, &symbol, progress)?;
    let latest = bars.last().cloned();
    let stored = sources::store_daily(store, &symbol, bars, marquee_shared::DataSource::Csv, replace).await?;
    let records = stored.records;
    if store.company(symbol.clone()).await?.is_none() {
        let company = marquee_shared::Company {
            symbol: symbol.clone(),
            name: symbol.clone(),
            sector: String::new(),
            industry: String::new(),
            exchange: String::new(),
            currency: String::new(),
            description: "Imported from a CSV file.".into(),
            market_cap: None,
            source: marquee_shared::DataSource::Csv,
        };
        store.upsert_company(company).await?;
    }
    if let Some(latest) = latest {
        events
            .emit(EventKind::SymbolDataLoaded {
                symbol: symbol.clone(),
                records,
                latest_ts: latest.ts,
                latest_close: latest.close,
            })
            .await;
    }
    events.emit(EventKind::BatchComplete { symbols: vec![symbol], total_records: records }).await;
    Ok(stored)
}
