//! The chart's history, fetched over REST. A live interval (1m, 5m, 15m)
//! with few live bars yet opens with context: the symbol's fetched intraday
//! history of that size where it is stored, otherwise its daily history,
//! before the live bars (the chart marks where they begin), so a first view
//! is never one lonely forming candle.

use leptos::prelude::*;
use marquee_shared::{BarInterval, BarSeries};

use crate::api;
use crate::chart::{Candle, TimeFormat};
use crate::state::Dashboard;
use crate::state::chart::{ChartInterval, HistoryRequest, MAX_CANDLES};

/// Fewer live bars than this: stored history is shown before them.
pub const CONTEXT_WANTED: usize = 60;

/// Fetches the history `request` asks for and hands it to the chart.
pub fn fetch_history(dash: RwSignal<Dashboard>, request: HistoryRequest) {
    leptos::task::spawn_local(async move {
        let candles = match request.interval {
            ChartInterval::Live(interval) => with_context(&request.symbol, interval).await,
            ChartInterval::Daily => series(&request.symbol, "1d", None).await,
        };
        dash.update(|d| d.chart.on_history(request.id, candles));
    });
}

/// The live bars, behind stored history when there are few of them.
async fn with_context(symbol: &str, interval: BarInterval) -> Result<Vec<Candle>, String> {
    let live = series(symbol, interval.as_str(), None).await?;
    if live.len() >= CONTEXT_WANTED {
        return Ok(live);
    }
    // Only what comes before the first live bar.
    let before = live.first().map(|c| c.start - 1);
    let intraday = series(symbol, stored_intraday(interval), before).await.unwrap_or_default();
    let (context, format) = if intraday.is_empty() {
        (series(symbol, "1d", before).await.unwrap_or_default(), TimeFormat::Daily)
    } else {
        (intraday, TimeFormat::Intraday)
    };
    Ok(join(context, format, live))
}

/// `context` (the newest that fit), marked, then `live`.
pub fn join(context: Vec<Candle>, format: TimeFormat, live: Vec<Candle>) -> Vec<Candle> {
    let room = MAX_CANDLES.saturating_sub(live.len()).min(context.len());
    let skip = context.len() - room;
    context.into_iter().skip(skip).map(|c| c.as_context(format)).chain(live).collect()
}

/// The fetched intraday series of the live interval's size.
fn stored_intraday(interval: BarInterval) -> &'static str {
    match interval {
        BarInterval::OneMinute => "1min",
        BarInterval::FiveMinutes => "5min",
        BarInterval::FifteenMinutes => "15min",
    }
}

/// One series over REST, oldest bar first, up to `to` (ns) when given.
async fn series(symbol: &str, interval: &str, to: Option<i64>) -> Result<Vec<Candle>, String> {
    let to = to.map(|ns| format!("&to={ns}")).unwrap_or_default();
    let path = format!("/api/v1/bars/{symbol}?interval={interval}&limit={MAX_CANDLES}&indicators=true{to}");
    let series = api::get::<BarSeries>(&path).await.map_err(|err| err.message().to_owned())?;
    Ok(match series {
        BarSeries::Live(bars) => bars.iter().map(|b| Candle::from_analyzed(b, false)).collect(),
        BarSeries::Indicated(bars) => bars.iter().map(Candle::from).collect(),
        BarSeries::Stored(bars) => bars.iter().map(Candle::from).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candle(start: i64) -> Candle {
        Candle { start, ..Candle::default() }
    }

    #[test]
    fn context_goes_first_marked_and_only_as_much_as_fits() {
        let joined = join(vec![candle(1), candle(2)], TimeFormat::Daily, vec![candle(10)]);
        let marks: Vec<_> = joined.iter().map(|c| (c.start, c.context)).collect();
        assert_eq!(marks, [(1, Some(TimeFormat::Daily)), (2, Some(TimeFormat::Daily)), (10, None)]);
        let many: Vec<Candle> = (0..MAX_CANDLES as i64 + 50).map(candle).collect();
        let live: Vec<Candle> = (1_000..1_010).map(candle).collect();
        let joined = join(many, TimeFormat::Intraday, live);
        assert_eq!(joined.len(), MAX_CANDLES);
        assert_eq!(joined[MAX_CANDLES - 11].start, MAX_CANDLES as i64 + 49, "the newest history kept");
    }
}
