//! Which symbols the driver knows: the stored ones it can simulate (an
//! impossible stored close replaced by the newest valid one, or the symbol
//! left out) and the ones the venues' feeds stream.

use marquee_shared::{DataSource, Feed, SymbolInfo, SymbolSummary, Validate, validate};

use super::{Driver, REPAIR_DAYS};
use crate::store::{BarQuery, StoreError, screen};

impl Driver {
    /// The symbols the venues' feeds stream, named as stored where they are.
    pub(super) fn live_symbols(&self, stored: &[SymbolSummary]) -> Vec<SymbolInfo> {
        let mut live: Vec<SymbolInfo> = self
            .settings
            .live
            .iter()
            .map(|(symbol, venue)| {
                let known = stored.iter().find(|s| &s.symbol == symbol);
                SymbolInfo {
                    symbol: symbol.clone(),
                    name: known.and_then(|s| s.name.clone()),
                    source: known.map_or(DataSource::Live, |s| s.source),
                    feed: Some(Feed::Live { venue: venue.clone() }),
                }
            })
            .collect();
        live.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        live
    }

    /// The stored symbols the walk can start from. One whose latest close is
    /// impossible (stored before prices were checked) starts from its newest
    /// valid close instead, or, with none, is left out; either is logged
    /// once, naming the symbol and the date of the bad close.
    pub(super) async fn usable(
        &mut self,
        summaries: Vec<SymbolSummary>,
    ) -> Result<Vec<SymbolSummary>, StoreError> {
        let mut usable = Vec::with_capacity(summaries.len());
        let simulated = summaries
            .into_iter()
            .filter(|s| self.settings.simulate && !self.settings.live.contains_key(&s.symbol));
        for mut summary in simulated {
            let Err(invalid) = validate::price("close", summary.last) else {
                usable.push(summary);
                continue;
            };
            let query = BarQuery { symbol: summary.symbol.clone(), from: None, to: None, limit: REPAIR_DAYS };
            let bars = self.store.daily_bars(query).await?;
            let newest_valid = bars.iter().rev().find(|bar| bar.validate().is_ok());
            let first_time = self.reported.insert(summary.symbol.clone());
            match newest_valid {
                Some(bar) => {
                    if first_time {
                        tracing::warn!(
                            symbol = %summary.symbol,
                            date = %screen::day(summary.latest_ts),
                            %invalid,
                            instead = %screen::day(bar.ts),
                            "the latest stored close is impossible; simulating from an earlier one"
                        );
                    }
                    summary.last = bar.close;
                    summary.latest_ts = bar.ts;
                    usable.push(summary);
                }
                None if first_time => tracing::warn!(
                    symbol = %summary.symbol,
                    date = %screen::day(summary.latest_ts),
                    %invalid,
                    "the latest stored close is impossible and no recent one is valid; not simulated \
                     (import the symbol again)"
                ),
                None => {}
            }
        }
        Ok(usable)
    }
}
