//! One source per symbol's daily history. Bars from a second source are
//! never stored beside the first: demo (synthetic) history is replaced by
//! real data as a matter of course (it is a placeholder), and anything else
//! is replaced only when asked (`replace`), else refused with a sentence
//! that says how to ask.

use marquee_shared::{Bar, DataSource};

use crate::store::{SharedStore, StoreError};

/// How bars are written over what a symbol holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// Nothing stored, or the same source: bars are added or updated by date.
    Merge,
    /// Another source: its bars are all removed first.
    Replace { previous: DataSource },
}

/// A write that would mix two sources.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{symbol} holds {} daily bars; storing {} bars beside them would mix two sources. To replace them, \
     ask again with replace: `?replace=true` on the import, `marquee import --replace`, or \
     `\"replace\": true` in a fetch request",
    existing.label(),
    incoming.label()
)]
pub struct MixedSources {
    pub symbol: String,
    pub existing: DataSource,
    pub incoming: DataSource,
}

/// Decides how `incoming` bars are written over a symbol holding `existing` ones.
pub fn plan(
    symbol: &str,
    existing: Option<DataSource>,
    incoming: DataSource,
    replace: bool,
) -> Result<Write, MixedSources> {
    match existing {
        None => Ok(Write::Merge),
        Some(existing) if existing == incoming => Ok(Write::Merge),
        Some(DataSource::Synthetic) => Ok(Write::Replace { previous: DataSource::Synthetic }),
        Some(previous) if replace => Ok(Write::Replace { previous }),
        Some(existing) => Err(MixedSources { symbol: symbol.to_owned(), existing, incoming }),
    }
}

/// Why daily bars were not stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreDailyError {
    #[error(transparent)]
    Mixed(#[from] MixedSources),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`store_daily`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub records: u64,
    /// The source whose bars were replaced, if any.
    pub replaced: Option<DataSource>,
}

/// Stores `bars` (all of `symbol`, from `incoming`) by [`plan`].
pub async fn store_daily(
    store: &SharedStore,
    symbol: &str,
    bars: Vec<Bar>,
    incoming: DataSource,
    replace: bool,
) -> Result<Stored, StoreDailyError> {
    let existing = store.symbols().await?.into_iter().find(|s| s.symbol == symbol).map(|s| s.source);
    match plan(symbol, existing, incoming, replace)? {
        Write::Merge => Ok(Stored { records: store.upsert_daily_bars(bars).await?, replaced: None }),
        Write::Replace { previous } => {
            let records = store.replace_daily_bars(symbol.to_owned(), bars).await?;
            tracing::info!(%symbol, previous = previous.label(), now = incoming.label(), records, "daily history replaced");
            Ok(Stored { records, replaced: Some(previous) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DataSource::{AlphaVantage, Csv, Synthetic};

    #[test]
    fn a_second_source_replaces_demo_data_and_otherwise_only_when_asked() {
        assert_eq!(plan("IBM", None, Csv, false), Ok(Write::Merge));
        assert_eq!(plan("IBM", Some(Csv), Csv, false), Ok(Write::Merge));
        assert_eq!(plan("IBM", Some(Synthetic), Csv, false), Ok(Write::Replace { previous: Synthetic }));
        assert_eq!(
            plan("IBM", Some(Synthetic), AlphaVantage, false),
            Ok(Write::Replace { previous: Synthetic })
        );
        assert_eq!(plan("IBM", Some(AlphaVantage), Csv, true), Ok(Write::Replace { previous: AlphaVantage }));
        let refused = plan("IBM", Some(AlphaVantage), Csv, false).expect_err("mixing refused");
        assert_eq!(
            refused.to_string(),
            "IBM holds Alpha Vantage daily bars; storing CSV import bars beside them would mix two sources. \
             To replace them, ask again with replace: `?replace=true` on the import, `marquee import \
             --replace`, or `\"replace\": true` in a fetch request"
        );
    }
}
