//! Read endpoints: symbols, quotes, bars, companies, ticks, events.

use std::collections::HashMap;

use axum::extract::State;
use marquee_shared::{
    Alert, Bar, BarInterval, BarSeries, Company, Event, IndicatedBar, IndicatorPoint, IndicatorSeries,
    IntradayInterval, Quote, SymbolSummary, Tick,
};
use serde::Deserialize;

use super::extract::{Json, Path, Query};
use super::{ApiError, params};
use crate::analytics;
use crate::gateway::AppState;
use crate::store::{BarQuery, screen};

/// Stored symbols; the price is live once the simulation streams it.
pub async fn symbols(State(state): State<AppState>) -> Result<Json<Vec<SymbolSummary>>, ApiError> {
    let mut symbols = state.store.symbols().await?;
    let live: HashMap<String, Tick> =
        live_quotes(&state).await.into_iter().map(|t| (t.symbol.clone(), t)).collect();
    for summary in &mut symbols {
        if let Some(tick) = live.get(&summary.symbol) {
            summary.last = tick.price;
            summary.change = tick.change;
            summary.change_pct = tick.change_pct;
        }
    }
    Ok(Json(symbols))
}

pub async fn quote(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Json<Quote>, ApiError> {
    let symbol = params::symbol(&raw)?;
    let stored = state.store.symbols().await?;
    let summary =
        stored.into_iter().find(|s| s.symbol == symbol).ok_or_else(|| ApiError::unknown_symbol(&symbol))?;
    let live = live_quotes(&state).await.into_iter().find(|t| t.symbol == symbol);
    let quote = match live {
        Some(tick) => Quote {
            symbol,
            price: tick.price,
            change: tick.change,
            change_pct: tick.change_pct,
            ts: tick.ts,
            source: summary.source,
            live: true,
            seq: Some(tick.seq),
        },
        None => Quote {
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

/// The last `keep` of `bars` (oldest first) with indicators computed over all of them.
fn indicated(bars: Vec<Bar>, keep: usize) -> BarSeries {
    let indicators = analytics::indicators_over(bars.iter().map(|b| b.close));
    let skip = bars.len().saturating_sub(keep);
    let series = bars.into_iter().zip(indicators).skip(skip);
    BarSeries::Indicated(series.map(|(bar, indicators)| IndicatedBar { bar, indicators }).collect())
}

#[derive(Debug, Deserialize)]
pub struct BarParams {
    pub(crate) interval: Option<String>,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) limit: Option<usize>,
    /// For stored series: add indicators, warmed up on earlier bars.
    #[serde(default)]
    pub(crate) indicators: bool,
}

/// Extra stored bars read before the window so its first indicators are warm.
const WARM_UP: usize = 200;

pub async fn bars(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(query): Query<BarParams>,
) -> Result<Json<BarSeries>, ApiError> {
    let symbol = params::symbol(&raw)?;
    let interval = query.interval.as_deref().unwrap_or("1d").to_owned();
    let with_indicators = query.indicators;
    let limit = params::limit(query.limit, 100, 5_000)?;
    let mut query = BarQuery {
        from: params::time_bound("from", query.from.as_deref())?,
        to: params::time_bound("to", query.to.as_deref())?,
        limit,
        symbol,
    };
    let symbol = query.symbol.clone();
    let stored = interval == "1d" || IntradayInterval::parse(&interval).is_some();
    if stored && with_indicators && query.from.is_none() {
        query.limit += WARM_UP;
    }
    let series = if stored {
        let bars = match IntradayInterval::parse(&interval) {
            Some(intraday) => state.store.intraday_bars(intraday, query).await?,
            None => state.store.daily_bars(query).await?,
        };
        // Rows stored before values were checked may be impossible: an
        // indicator summed over a close of 1e308 overflows.
        let bars = screen::valid_bars(bars);
        if with_indicators { indicated(bars, limit) } else { BarSeries::Stored(bars) }
    } else if let Some(live) = BarInterval::parse(&interval) {
        BarSeries::Live(state.store.analyzed_bars(live, query).await?)
    } else {
        return Err(ApiError::bad_request(
            "bad_interval",
            format!(
                "interval {interval:?} is not served: use 1m, 5m or 15m (live bars), 1d (daily history) or \
                 1min/5min/15min/30min/60min (fetched intraday history)"
            ),
        ));
    };
    let empty = match &series {
        BarSeries::Live(bars) => bars.is_empty(),
        BarSeries::Indicated(bars) => bars.is_empty(),
        BarSeries::Stored(bars) => bars.is_empty(),
    };
    if empty && !is_stored(&state, &symbol).await? {
        return Err(ApiError::unknown_symbol(&symbol));
    }
    Ok(Json(series))
}

#[derive(Debug, Deserialize)]
pub struct IndicatorParams {
    pub(crate) interval: Option<String>,
    pub(crate) limit: Option<usize>,
}

/// The latest indicators and a recent series, from the stored closed bars.
pub async fn indicators(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(query): Query<IndicatorParams>,
) -> Result<Json<IndicatorSeries>, ApiError> {
    let symbol = params::symbol(&raw)?;
    let name = query.interval.as_deref().unwrap_or("1m");
    let interval = BarInterval::parse(name).ok_or_else(|| {
        ApiError::bad_request(
            "bad_interval",
            format!("interval {name:?} has no indicators: use 1m, 5m or 15m"),
        )
    })?;
    let limit = params::limit(query.limit, 100, 5_000)?;
    if !is_stored(&state, &symbol).await? {
        return Err(ApiError::unknown_symbol(&symbol));
    }
    let bars = state
        .store
        .analyzed_bars(interval, BarQuery { symbol: symbol.clone(), from: None, to: None, limit })
        .await?;
    let latest = bars.last().map(|b| b.indicators);
    let series = bars
        .into_iter()
        .map(|b| IndicatorPoint { start: b.bar.start, close: b.bar.close, indicators: b.indicators })
        .collect();
    Ok(Json(IndicatorSeries { symbol, interval, latest, series }))
}

pub async fn alerts(
    State(state): State<AppState>,
    Query(query): Query<LimitParams>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let limit = params::limit(query.limit, 50, 1_000)?;
    Ok(Json(state.store.recent_alerts(limit).await?))
}

pub async fn company(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<Company>, ApiError> {
    let symbol = params::symbol(&raw)?;
    let company = state.store.company(symbol.clone()).await?;
    company.map(Json).ok_or_else(|| ApiError::unknown_symbol(&symbol))
}

#[derive(Debug, Deserialize)]
pub struct LimitParams {
    pub(crate) limit: Option<usize>,
}

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

pub async fn events(
    State(state): State<AppState>,
    Query(query): Query<LimitParams>,
) -> Result<Json<Vec<Event>>, ApiError> {
    let limit = params::limit(query.limit, 50, 1_000)?;
    Ok(Json(state.store.recent_events(limit).await?))
}

async fn is_stored(state: &AppState, symbol: &str) -> Result<bool, ApiError> {
    Ok(state.store.symbols().await?.iter().any(|s| s.symbol == symbol))
}

/// The hub's latest ticks; empty while it is not running (shutdown).
async fn live_quotes(state: &AppState) -> Vec<Tick> {
    state.hub.quotes().await.unwrap_or_default()
}
