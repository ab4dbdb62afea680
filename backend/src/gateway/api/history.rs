//! History reads: `GET /api/v1/bars/{symbol}` and `GET /api/v1/indicators/{symbol}`.
//!
//! A window is chosen by `from`, `to` and `limit`: with `from`, the first
//! `limit` bars at or after it; without, the newest `limit` up to `to`.
//! Indicators on a window of stored history are the values over the whole
//! stored series at those dates, whatever the window: they are computed over
//! the window plus up to [`WARM_UP`] stored bars before it. Live bars carry
//! the indicators the receiver computed over the whole stream.

use axum::extract::State;
use marquee_shared::{
    Bar, BarInterval, BarSeries, IndicatedBar, IndicatorPoint, IndicatorSeries, IntradayInterval,
};
use serde::Deserialize;

use super::extract::{Json, Path, Query};
use super::market::is_stored;
use super::{ApiError, params};
use crate::analytics;
use crate::gateway::AppState;
use crate::store::{BarQuery, SharedStore, screen};

/// Stored bars read before a window so its indicators equal those over the
/// whole series. A series with fewer earlier bars is read whole, so its
/// values are identical. With 2,000, the recursive indicators (EMA 12/26,
/// MACD and its signal, Wilder's RSI) have forgotten where they started by a
/// factor of at most (13/14)^2000 ≈ 1e-64, far below what an f64 holds; the
/// others (SMA 20/50, Bollinger 20) look back 50 bars at most.
pub const WARM_UP: usize = 2_000;

/// Which series a request reads.
#[derive(Debug, Clone, Copy)]
enum Series {
    /// Stored history: `None` is daily, else fetched intraday bars.
    Stored(Option<IntradayInterval>),
    /// Bars built from live ticks.
    Live(BarInterval),
}

impl Series {
    fn parse(name: &str) -> Result<Self, ApiError> {
        if name == "1d" {
            Ok(Self::Stored(None))
        } else if let Some(intraday) = IntradayInterval::parse(name) {
            Ok(Self::Stored(Some(intraday)))
        } else if let Some(live) = BarInterval::parse(name) {
            Ok(Self::Live(live))
        } else {
            Err(ApiError::bad_request(
                "bad_interval",
                format!(
                    "interval {} is not served: use 1m, 5m or 15m (live bars), 1d (daily history) or \
                     1min/5min/15min/30min/60min (fetched intraday history)",
                    marquee_shared::validate::quoted(name)
                ),
            ))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BarParams {
    /// `1m`, `5m`, `15m` (live bars), `1d` (daily history) or `1min` to `60min` (fetched intraday).
    pub(crate) interval: Option<String>,
    /// The window's start: a date (`2024-05-01`), an RFC 3339 time or ns since the epoch.
    pub(crate) from: Option<String>,
    /// The window's end, the same way.
    pub(crate) to: Option<String>,
    /// Bars at most (1 to 5000).
    #[param(minimum = 1)]
    pub(crate) limit: Option<usize>,
    /// For stored series: add indicators, equal to those over the whole series.
    #[serde(default)]
    pub(crate) indicators: bool,
}

/// The window a request names.
struct Window {
    interval: String,
    series: Series,
    query: BarQuery,
}

impl Window {
    fn parse(raw_symbol: &str, params: &BarParams, default_interval: &str) -> Result<Self, ApiError> {
        let symbol = params::symbol(raw_symbol)?;
        let interval = params.interval.as_deref().unwrap_or(default_interval).to_owned();
        let series = Series::parse(&interval)?;
        let query = BarQuery {
            from: params::time_bound("from", params.from.as_deref())?,
            to: params::time_bound("to", params.to.as_deref())?,
            limit: params::limit(params.limit, 100, 5_000)?,
            symbol,
        };
        Ok(Self { interval, series, query })
    }
}

/// A window of a symbol's bars: stored daily or intraday history (with
/// indicators on request), or bars built from live ticks.
#[utoipa::path(get, path = "/api/v1/bars/{symbol}", tag = "history", params(super::market::SymbolPath, BarParams),
    responses((status = 200, description = "Bars, oldest first", body = BarSeries),
        (status = 404, description = "`unknown_symbol`", body = marquee_shared::ApiError)))]
pub async fn bars(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(params): Query<BarParams>,
) -> Result<Json<BarSeries>, ApiError> {
    let Window { series, query, .. } = Window::parse(&raw, &params, "1d")?;
    let symbol = query.symbol.clone();
    let series = match series {
        Series::Stored(interval) => {
            let bars = stored(&state.store, interval, query).await?;
            if params.indicators {
                BarSeries::Indicated(indicated(&state.store, interval, bars).await?)
            } else {
                BarSeries::Stored(bars)
            }
        }
        Series::Live(interval) => BarSeries::Live(state.store.analyzed_bars(interval, query).await?),
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

/// Indicators at every bar of a window of any series, and the latest.
#[utoipa::path(get, path = "/api/v1/indicators/{symbol}", tag = "history",
    params(super::market::SymbolPath, BarParams),
    responses((status = 200, body = IndicatorSeries),
        (status = 404, description = "`unknown_symbol`", body = marquee_shared::ApiError)))]
pub async fn indicators(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(params): Query<BarParams>,
) -> Result<Json<IndicatorSeries>, ApiError> {
    let Window { interval, series, query } = Window::parse(&raw, &params, "1m")?;
    let symbol = query.symbol.clone();
    if !is_stored(&state, &symbol).await? {
        return Err(ApiError::unknown_symbol(&symbol));
    }
    let series: Vec<IndicatorPoint> = match series {
        Series::Stored(stored_interval) => {
            let bars = stored(&state.store, stored_interval, query).await?;
            let bars = indicated(&state.store, stored_interval, bars).await?;
            bars.into_iter()
                .map(|b| IndicatorPoint { start: b.bar.ts, close: b.bar.close, indicators: b.indicators })
                .collect()
        }
        Series::Live(live) => {
            let bars = state.store.analyzed_bars(live, query).await?;
            bars.into_iter()
                .map(|b| IndicatorPoint { start: b.bar.start, close: b.bar.close, indicators: b.indicators })
                .collect()
        }
    };
    let latest = series.last().map(|p| p.indicators);
    Ok(Json(IndicatorSeries { symbol, interval, latest, series }))
}

/// A window of stored bars, without impossible rows stored before values
/// were checked (an indicator summed over a close of 1e308 overflows): a
/// skipped row does not count towards `limit`, the window reaches further.
async fn stored(
    store: &SharedStore,
    interval: Option<IntradayInterval>,
    query: BarQuery,
) -> Result<Vec<Bar>, ApiError> {
    let limit = query.limit;
    let mut ask = query.clone();
    for _ in 0..4 {
        let read = match interval {
            Some(intraday) => store.intraday_bars(intraday, ask.clone()).await?,
            None => store.daily_bars(ask.clone()).await?,
        };
        let complete = read.len() < ask.limit;
        let mut bars = screen::valid_bars(read);
        if complete || bars.len() >= limit {
            let extra = bars.len().saturating_sub(limit);
            if query.oldest_first() {
                bars.truncate(limit);
            } else {
                bars.drain(..extra);
            }
            return Ok(bars);
        }
        ask.limit += limit - bars.len();
    }
    Err(ApiError::from(crate::store::StoreError::Corrupt(format!(
        "too many impossible stored bars for {} to fill a window of {limit}",
        query.symbol
    ))))
}

/// `window` with indicators computed over it and up to [`WARM_UP`] stored
/// bars before it.
async fn indicated(
    store: &SharedStore,
    interval: Option<IntradayInterval>,
    window: Vec<Bar>,
) -> Result<Vec<IndicatedBar>, ApiError> {
    let Some(first) = window.first() else { return Ok(Vec::new()) };
    let earlier = BarQuery {
        symbol: first.symbol.clone(),
        from: None,
        to: Some(first.ts.saturating_sub(1)),
        limit: WARM_UP,
    };
    let earlier = stored(store, interval, earlier).await?;
    Ok(with_indicators(&earlier, window))
}

/// `window`'s bars with the indicators over `earlier` followed by `window`.
fn with_indicators(earlier: &[Bar], window: Vec<Bar>) -> Vec<IndicatedBar> {
    let closes = earlier.iter().chain(&window).map(|b| b.close);
    let indicators = analytics::indicators_over(closes).into_iter().skip(earlier.len());
    window.into_iter().zip(indicators).map(|(bar, indicators)| IndicatedBar { bar, indicators }).collect()
}
