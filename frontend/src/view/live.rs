//! Per-symbol redraws. The stream is applied to the dashboard once a frame,
//! and everything that reads the whole dashboard runs again then. A row of
//! the watchlist or an item of the tape reads its symbol through a version
//! signal of its own instead, bumped only when that symbol changed in the
//! frame (`MarketState::take_changed`): a frame with three symbols ticking
//! redraws three rows, not all of them.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::state::Dashboard;
use crate::state::market::Changed;

#[derive(Clone, Copy)]
pub struct LiveRows {
    versions: StoredValue<HashMap<String, RwSignal<u64>>>,
    /// Bumped when the server's figures (metrics, health) changed: about
    /// once a second, where ticks change the dashboard every frame.
    figures: RwSignal<u64>,
    /// Bumped when an alert or event arrived.
    feeds: RwSignal<u64>,
    /// Bumped when the set of symbols may have changed (a snapshot, a new
    /// symbol list, a tick of a symbol without a row yet).
    symbols: RwSignal<u64>,
    /// Owns the version signals: made on first read from inside a memo,
    /// they must outlive its next run.
    owner: StoredValue<Owner>,
}

impl LiveRows {
    pub fn new() -> Self {
        let owner = Owner::current().unwrap_or_default();
        Self {
            versions: StoredValue::new(HashMap::new()),
            figures: RwSignal::new(0),
            feeds: RwSignal::new(0),
            symbols: RwSignal::new(0),
            owner: StoredValue::new(owner),
        }
    }

    /// Reads the dashboard for the pipeline panel: the running memo or
    /// effect runs again when the server's figures change, not every frame.
    pub fn figures<T>(&self, dash: RwSignal<Dashboard>, read: impl FnOnce(&Dashboard) -> T) -> T {
        self.figures.track();
        dash.with_untracked(read)
    }

    /// Reads the dashboard for what depends on the set of symbols only (the
    /// watchlist's order by symbol): again when it may have changed.
    pub fn symbols<T>(&self, dash: RwSignal<Dashboard>, read: impl FnOnce(&Dashboard) -> T) -> T {
        self.symbols.track();
        dash.with_untracked(read)
    }

    /// Subscribes the running memo or effect to `symbol`'s changes.
    pub fn track(&self, symbol: &str) {
        let existing = self.versions.with_value(|versions| versions.get(symbol).copied());
        let version = existing.unwrap_or_else(|| {
            let version = self.owner.with_value(|owner| owner.with(|| RwSignal::new(0_u64)));
            self.versions.update_value(|versions| {
                versions.insert(symbol.to_owned(), version);
            });
            version
        });
        version.track();
    }

    /// Reads the dashboard for the alert and event lists: again when one
    /// arrived, not every frame.
    pub fn feeds<T>(&self, dash: RwSignal<Dashboard>, read: impl FnOnce(&Dashboard) -> T) -> T {
        self.feeds.track();
        dash.with_untracked(read)
    }

    /// Takes what changed in the frame just applied and tells those rows.
    pub fn publish(&self, dash: RwSignal<Dashboard>) {
        let Some(changed) = dash.try_update_untracked(|d| d.market.take_changed()) else { return };
        let Changed { all, symbols, figures, feeds } = changed;
        if figures || all {
            self.figures.update(|v| *v += 1);
        }
        if feeds || all {
            self.feeds.update(|v| *v += 1);
        }
        let unseen = self.versions.with_value(|versions| symbols.iter().any(|s| !versions.contains_key(s)));
        if all || unseen {
            self.symbols.update(|v| *v += 1);
        }
        self.versions.with_value(|versions| {
            if all {
                versions.values().for_each(|version| version.update(|v| *v += 1));
            } else {
                symbols
                    .iter()
                    .filter_map(|symbol| versions.get(symbol))
                    .for_each(|version| version.update(|v| *v += 1));
            }
        });
    }
}
