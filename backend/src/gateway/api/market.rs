//! Read endpoints: symbols, quotes, companies, ticks, events, alerts
//! (bars and indicators are in `history.rs`).

use std::collections::HashMap;

use axum::extract::State;
use marquee_shared::{Alert, Company, DataSource, Event, Quote, SymbolSummary, Tick};
use serde::Deserialize;

use super::extract::{Json, Path, Query};
use super::{ApiError, params};
use crate::gateway::AppState;

/// Stored symbols and the feeds' symbols, each with where its ticks come
/// from; the price is live once ticks stream.
#[utoipa::path(get, path = "/api/v1/symbols", tag = "market",
    responses((status = 200, description = "Every symbol, by name", body = Vec<SymbolSummary>)))]
pub async fn symbols(State(state): State<AppState>) -> Result<Json<Vec<SymbolSummary>>, ApiError> {
    let mut symbols = state.store.symbols().await?;
    let live: HashMap<String, Tick> =
        live_quotes(&state).await.into_iter().map(|t| (t.symbol.clone(), t)).collect();
    // Where each symbol's ticks come from, as the driver says.
    let known = state.driver.watch().borrow().symbols.clone();
    for summary in &mut symbols {
        if let Some(tick) = live.get(&summary.symbol) {
            summary.last = tick.price;
            summary.change = tick.change;
            summary.change_pct = tick.change_pct;
        }
        summary.feed = known.iter().find(|i| i.symbol == summary.symbol).and_then(|i| i.feed.clone());
    }
    // A feed's symbol with nothing stored but its ticks, once it has a price.
    for info in known {
        if symbols.iter().any(|s| s.symbol == info.symbol) {
            continue;
        }
        if let Some(tick) = live.get(&info.symbol) {
            symbols.push(SymbolSummary {
                symbol: info.symbol,
                name: info.name,
                source: info.source,
                records: 0,
                latest_ts: tick.ts,
                last: tick.price,
                change: tick.change,
                change_pct: tick.change_pct,
                feed: info.feed,
            });
        }
    }
    symbols.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    Ok(Json(symbols))
}

/// A symbol's latest price: live once ticks stream, else its latest stored close.
#[utoipa::path(get, path = "/api/v1/quotes/{symbol}", tag = "market", params(SymbolPath),
    responses((status = 200, body = Quote), (status = 404, description = "`unknown_symbol`", body = marquee_shared::ApiError)))]
pub async fn quote(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Json<Quote>, ApiError> {
    let symbol = params::symbol(&raw)?;
    let stored = state.store.symbols().await?.into_iter().find(|s| s.symbol == symbol);
    let live = live_quotes(&state).await.into_iter().find(|t| t.symbol == symbol);
    let quote = match (live, stored) {
        // A feed's symbol may have nothing stored but its ticks.
        (Some(tick), summary) => Quote {
            symbol,
            price: tick.price,
            change: tick.change,
            change_pct: tick.change_pct,
            ts: tick.ts,
            source: summary.map_or(DataSource::Live, |s| s.source),
            live: true,
            seq: Some(tick.seq),
        },
        (None, None) => return Err(ApiError::unknown_symbol(&symbol)),
        (None, Some(summary)) => Quote {
            symbol,
            price: summary.last,
            change: summary.change,
            change_pct: summary.change_pct,
            ts: summary.latest_ts,
            source: summary.source,
            live: false,
            seq: None,
        },
    };
    Ok(Json(quote))
}

/// Anomaly alerts (price jumps, volume spikes, RSI crossings), newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "market", params(LimitParams),
    responses((status = 200, body = Vec<Alert>)))]
pub async fn alerts(
    State(state): State<AppState>,
    Query(query): Query<LimitParams>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let limit = params::limit(query.limit, 50, 1_000)?;
    Ok(Json(state.store.recent_alerts(limit).await?))
}

/// A symbol's company overview.
#[utoipa::path(get, path = "/api/v1/companies/{symbol}", tag = "market", params(SymbolPath),
    responses((status = 200, body = Company), (status = 404, description = "`unknown_symbol`", body = marquee_shared::ApiError)))]
pub async fn company(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<Company>, ApiError> {
    let symbol = params::symbol(&raw)?;
    let company = state.store.company(symbol.clone()).await?;
    company.map(Json).ok_or_else(|| ApiError::unknown_symbol(&symbol))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitParams {
    /// How many, newest first (default and maximum depend on the endpoint).
    #[param(minimum = 1)]
    pub(crate) limit: Option<usize>,
}

/// A symbol in the path: 1 to 24 of `A-Z 0-9 . - :`, any case.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code, reason = "read by the OpenAPI document only")]
pub struct SymbolPath {
    /// e.g. `AAPL`, `BTC-USD`, `BINANCE:BTCUSDT`.
    symbol: String,
}

/// A symbol's latest stored ticks, newest first.
#[utoipa::path(get, path = "/api/v1/ticks/{symbol}", tag = "market", params(SymbolPath, LimitParams),
    responses((status = 200, body = Vec<Tick>), (status = 404, description = "`unknown_symbol`", body = marquee_shared::ApiError)))]
pub async fn ticks(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(query): Query<LimitParams>,
) -> Result<Json<Vec<Tick>>, ApiError> {
    let symbol = params::symbol(&raw)?;
    let limit = params::limit(query.limit, 100, 10_000)?;
    let ticks = state.store.recent_ticks(symbol.clone(), limit).await?;
    if ticks.is_empty() && !is_stored(&state, &symbol).await? {
        return Err(ApiError::unknown_symbol(&symbol));
    }
    Ok(Json(ticks))
}

/// Pipeline events, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "market", params(LimitParams),
    responses((status = 200, body = Vec<Event>)))]
pub async fn events(
    State(state): State<AppState>,
    Query(query): Query<LimitParams>,
) -> Result<Json<Vec<Event>>, ApiError> {
    let limit = params::limit(query.limit, 50, 1_000)?;
    Ok(Json(state.store.recent_events(limit).await?))
}

pub(super) async fn is_stored(state: &AppState, symbol: &str) -> Result<bool, ApiError> {
    Ok(state.store.symbols().await?.iter().any(|s| s.symbol == symbol))
}

/// The hub's latest ticks; empty while it is not running (shutdown).
async fn live_quotes(state: &AppState) -> Vec<Tick> {
    state.hub.quotes().await.unwrap_or_default()
}
