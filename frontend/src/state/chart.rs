//! The chart's data for the selected symbol and interval: stored history
//! (fetched over REST) joined with live bars from the stream.

use marquee_shared::{AnalyzedBar, BarInterval};

use crate::chart::{Candle, TimeFormat};

/// Candles kept for drawing; older ones drop off the left.
pub const MAX_CANDLES: usize = 400;

/// The intervals the chart offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartInterval {
    Live(BarInterval),
    Daily,
}

impl ChartInterval {
    pub const ALL: [ChartInterval; 4] = [
        ChartInterval::Live(BarInterval::OneMinute),
        ChartInterval::Live(BarInterval::FiveMinutes),
        ChartInterval::Live(BarInterval::FifteenMinutes),
        ChartInterval::Daily,
    ];

    /// `1m`, `5m`, `15m` or `1d`: the label and the REST `interval`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChartInterval::Live(interval) => interval.as_str(),
            ChartInterval::Daily => "1d",
        }
    }

    pub fn time_format(self) -> TimeFormat {
        match self {
            ChartInterval::Live(_) => TimeFormat::Intraday,
            ChartInterval::Daily => TimeFormat::Daily,
        }
    }
}

/// A history fetch the view should make; its answer goes to [`ChartState::on_history`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRequest {
    pub id: u64,
    pub symbol: String,
    pub interval: ChartInterval,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Load {
    Idle,
    Loading,
    Ready,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChartState {
    pub symbol: Option<String>,
    pub interval: ChartInterval,
    pub load: Load,
    /// Bumped on every change the canvas must show.
    pub version: u64,
    closed: Vec<Candle>,
    forming: Option<Candle>,
    request: u64,
    /// A history fetch asked for by the stream rather than by a click,
    /// waiting for the view to make it.
    reload: Option<HistoryRequest>,
}

impl Default for ChartState {
    fn default() -> Self {
        Self {
            symbol: None,
            interval: ChartInterval::Live(BarInterval::OneMinute),
            load: Load::Idle,
            version: 0,
            closed: Vec::new(),
            forming: None,
            request: 0,
            reload: None,
        }
    }
}

impl ChartState {
    /// Shows `symbol`; returns the history to fetch if it changed.
    pub fn select(&mut self, symbol: &str) -> Option<HistoryRequest> {
        if self.symbol.as_deref() == Some(symbol) {
            return None;
        }
        self.symbol = Some(symbol.to_owned());
        Some(self.restart())
    }

    /// Shows `interval`; returns the history to fetch if it changed.
    pub fn set_interval(&mut self, interval: ChartInterval) -> Option<HistoryRequest> {
        if self.interval == interval {
            return None;
        }
        self.interval = interval;
        self.symbol.is_some().then(|| self.restart())
    }

    fn restart(&mut self) -> HistoryRequest {
        self.request += 1;
        self.closed.clear();
        self.forming = None;
        self.reload = None;
        self.load = Load::Loading;
        self.version += 1;
        HistoryRequest {
            id: self.request,
            symbol: self.symbol.clone().unwrap_or_default(),
            interval: self.interval,
        }
    }

    /// The answer to request `id`, oldest bar first. Answers to older
    /// requests are ignored; live bars that arrived meanwhile are kept.
    pub fn on_history(&mut self, id: u64, history: Result<Vec<Candle>, String>) {
        if id != self.request {
            return;
        }
        match history {
            Ok(mut candles) => {
                let last = candles.last().map_or(i64::MIN, |c| c.start);
                candles.extend(self.closed.drain(..).filter(|c| c.start > last));
                self.closed = candles;
                self.trim();
                self.load = Load::Ready;
            }
            // A reload that failed leaves the chart as it was.
            Err(_) if self.load == Load::Ready => {}
            Err(message) => self.load = Load::Failed(message),
        }
        self.version += 1;
    }

    /// Live bars from the stream: those of the shown symbol and interval.
    pub fn on_bars(&mut self, bars: &[AnalyzedBar], closed: bool) {
        let ChartInterval::Live(interval) = self.interval else { return };
        let Some(symbol) = self.symbol.as_deref() else { return };
        for bar in bars.iter().filter(|b| b.bar.interval == interval && b.bar.symbol == symbol) {
            let candle = Candle::from_analyzed(bar, !closed);
            if closed {
                match self.closed.last_mut() {
                    Some(last) if last.start == candle.start => *last = candle,
                    Some(last) if last.start > candle.start => continue,
                    _ => self.closed.push(candle),
                }
                if self.forming.is_some_and(|f| f.start <= candle.start) {
                    self.forming = None;
                }
            } else if self.closed.last().is_none_or(|last| last.start < candle.start) {
                self.forming = Some(candle);
            }
            self.version += 1;
        }
        self.trim();
    }

    /// A snapshot: its forming bar of the shown series replaces the drawn
    /// one, and none in it means the drawn one has closed meanwhile.
    pub fn on_snapshot(&mut self, bars: &[AnalyzedBar]) {
        if self.forming.take().is_some() {
            self.version += 1;
        }
        self.on_bars(bars, false);
    }

    /// The stream skipped messages (closed bars among them) and has caught
    /// up: the stored history is read again, behind the candles drawn now.
    pub fn reload_history(&mut self) {
        if self.symbol.is_none() || !matches!(self.load, Load::Ready) {
            return;
        }
        self.request += 1;
        self.reload = Some(HistoryRequest {
            id: self.request,
            symbol: self.symbol.clone().unwrap_or_default(),
            interval: self.interval,
        });
    }

    /// The reload the view should fetch now, if any.
    pub fn take_reload(&mut self) -> Option<HistoryRequest> {
        self.reload.take().filter(|request| request.id == self.request)
    }

    /// True while a reload waits to be fetched.
    pub fn wants_reload(&self) -> bool {
        self.reload.is_some()
    }

    fn trim(&mut self) {
        if self.closed.len() > MAX_CANDLES {
            self.closed.drain(..self.closed.len() - MAX_CANDLES);
        }
    }

    /// What the canvas draws: closed bars, then the forming one.
    pub fn candles(&self) -> Vec<Candle> {
        self.closed.iter().copied().chain(self.forming).collect()
    }
}

#[cfg(test)]
mod tests {
    use marquee_shared::{Indicators, OhlcvBar};

    use super::*;

    const MINUTE: i64 = 60_000_000_000;

    fn bar(symbol: &str, interval: BarInterval, minute: i64, close: f64) -> AnalyzedBar {
        AnalyzedBar {
            bar: OhlcvBar::opened(symbol, interval, minute * MINUTE, close, 1.0),
            indicators: Indicators::default(),
        }
    }

    fn closes(chart: &ChartState) -> Vec<(f64, bool)> {
        chart.candles().iter().map(|c| (c.close, c.forming)).collect()
    }

    #[test]
    fn history_then_live_bars_of_the_shown_series_only() {
        let mut chart = ChartState::default();
        let request = chart.select("AAPL").expect("a fetch");
        assert_eq!((request.symbol.as_str(), request.interval.as_str()), ("AAPL", "1m"));
        assert_eq!(chart.load, Load::Loading);
        // A live bar arrives before the history does.
        chart.on_bars(&[bar("AAPL", BarInterval::OneMinute, 3, 13.0)], true);
        let history = vec![1.0, 2.0].into_iter().enumerate();
        let history = history.map(|(i, c)| {
            Candle::from_analyzed(&bar("AAPL", BarInterval::OneMinute, i as i64 + 1, c), false)
        });
        chart.on_history(request.id, Ok(history.collect()));
        assert_eq!(closes(&chart), [(1.0, false), (2.0, false), (13.0, false)]);

        chart.on_bars(
            &[bar("MSFT", BarInterval::OneMinute, 4, 99.0), bar("AAPL", BarInterval::FiveMinutes, 0, 98.0)],
            false,
        );
        assert_eq!(chart.candles().len(), 3, "other symbols and intervals are not shown");
        let version = chart.version;
        chart.on_bars(&[bar("AAPL", BarInterval::OneMinute, 4, 14.0)], false);
        chart.on_bars(&[bar("AAPL", BarInterval::OneMinute, 4, 14.5)], false);
        assert_eq!(closes(&chart).last(), Some(&(14.5, true)), "the forming candle moves");
        assert!(chart.version > version);
        chart.on_bars(&[bar("AAPL", BarInterval::OneMinute, 4, 14.7)], true);
        assert_eq!(closes(&chart).last(), Some(&(14.7, false)), "it closes in place");
        assert_eq!(chart.candles().len(), 4);
    }

    #[test]
    fn a_snapshot_replaces_the_forming_candle_and_a_reload_fills_what_was_skipped() {
        let mut chart = ChartState::default();
        let request = chart.select("AAPL").expect("a fetch");
        chart.reload_history();
        assert!(!chart.wants_reload(), "the first fetch is still under way");
        let history = |closes: &[f64]| {
            closes
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    Candle::from_analyzed(&bar("AAPL", BarInterval::OneMinute, i as i64 + 1, c), false)
                })
                .collect::<Vec<_>>()
        };
        chart.on_history(request.id, Ok(history(&[1.0, 2.0])));
        chart.on_bars(&[bar("AAPL", BarInterval::OneMinute, 3, 3.0)], false);
        assert_eq!(closes(&chart).last(), Some(&(3.0, true)));

        // The page lagged: minute 3 closed and minute 4 closed unseen; the
        // snapshot holds minute 5, forming.
        chart.on_snapshot(&[bar("AAPL", BarInterval::OneMinute, 5, 5.0)]);
        assert_eq!(closes(&chart), [(1.0, false), (2.0, false), (5.0, true)]);
        chart.on_snapshot(&[bar("MSFT", BarInterval::OneMinute, 5, 9.0)]);
        assert_eq!(closes(&chart), [(1.0, false), (2.0, false)], "no forming bar of ours: it closed");

        chart.reload_history();
        assert!(chart.wants_reload());
        let reload = chart.take_reload().expect("a reload");
        assert_eq!(
            (reload.symbol.as_str(), reload.interval, chart.take_reload()),
            ("AAPL", chart.interval, None)
        );
        chart.on_bars(&[bar("AAPL", BarInterval::OneMinute, 5, 5.5)], true);
        chart.on_history(reload.id, Ok(history(&[1.0, 2.0, 3.0, 4.0])));
        assert_eq!(
            closes(&chart),
            [(1.0, false), (2.0, false), (3.0, false), (4.0, false), (5.5, false)],
            "the skipped bars come from the store, the live one stays"
        );
        assert_eq!(chart.load, Load::Ready);
    }

    #[test]
    fn a_failed_reload_keeps_the_chart() {
        let mut chart = ChartState::default();
        let request = chart.select("AAPL").expect("a fetch");
        chart.on_history(request.id, Ok(vec![Candle::default()]));
        chart.reload_history();
        let reload = chart.take_reload().expect("a reload");
        chart.on_history(reload.id, Err("busy".into()));
        assert_eq!((chart.candles().len(), &chart.load), (1, &Load::Ready));
    }

    #[test]
    fn a_reload_made_stale_by_a_new_selection_is_dropped() {
        let mut chart = ChartState::default();
        let request = chart.select("AAPL").expect("a fetch");
        chart.on_history(request.id, Ok(vec![]));
        chart.reload_history();
        assert!(chart.select("MSFT").is_some());
        assert_eq!(chart.take_reload(), None);
    }

    #[test]
    fn an_answer_to_an_old_request_is_ignored() {
        let mut chart = ChartState::default();
        let first = chart.select("AAPL").expect("fetch");
        let second = chart.set_interval(ChartInterval::Daily).expect("fetch");
        assert!(chart.set_interval(ChartInterval::Daily).is_none(), "no change, no fetch");
        chart.on_history(first.id, Ok(vec![Candle::default()]));
        assert_eq!((chart.candles().len(), &chart.load), (0, &Load::Loading));
        chart.on_history(second.id, Err("unknown symbol".into()));
        assert_eq!(chart.load, Load::Failed("unknown symbol".into()));
        chart.on_bars(&[bar("AAPL", BarInterval::OneMinute, 1, 1.0)], false);
        assert!(chart.candles().is_empty(), "daily charts take no live bars");
    }
}
