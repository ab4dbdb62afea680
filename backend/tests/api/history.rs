//! History windows: indicators on any `from`/`to`/`limit` window equal
//! TA-Lib's over the whole series at those dates (the fixture in
//! `tests/fixtures/talib`), and `from` + `limit` is the first bars after `from`.

use marquee_shared::{ApiError, BarSeries, IndicatedBar, IndicatorSeries, Indicators};

use crate::helpers::{TestApp, config, spawn_app};

#[path = "../../src/analytics/talib_reference.rs"]
mod talib_reference;

use talib_reference::{Reference, reference};

/// Day `i` of the series: 2020-01-01 plus `i` days.
fn date(i: usize) -> String {
    let day = jiff::civil::date(2020, 1, 1) + jiff::Span::new().days(i as i64);
    day.to_string()
}

/// The fixture's closes as a CSV of flat daily bars.
fn csv(closes: &[f64]) -> String {
    let mut text = String::from("date,open,high,low,close,volume\n");
    for (i, close) in closes.iter().enumerate() {
        text.push_str(&format!("{},{close},{close},{close},{close},1000\n", date(i)));
    }
    text
}

/// Equal within 1e-9 relative, and warm (a number) exactly where TA-Lib is.
fn assert_same(at: &str, name: &str, ours: Option<f64>, talib: Option<f64>) {
    match (ours, talib) {
        (None, None) => {}
        (Some(a), Some(b)) => {
            let scale = a.abs().max(b.abs()).max(1e-12);
            assert!((a - b).abs() / scale <= 1e-9, "{at} {name}: ours {a} vs TA-Lib {b}");
        }
        _ => panic!("{at} {name}: ours {ours:?} vs TA-Lib {talib:?} (warm-up differs)"),
    }
}

fn assert_indicators(r: &Reference, i: usize, got: &Indicators) {
    let at = format!("{} (bar {i})", date(i));
    let pairs = [
        ("sma20", got.sma20, r.sma20[i]),
        ("sma50", got.sma50, r.sma50[i]),
        ("ema12", got.ema12, r.ema12[i]),
        ("ema26", got.ema26, r.ema26[i]),
        ("rsi14", got.rsi14, r.rsi14[i]),
        ("macd", got.macd, r.macd[i]),
        ("macd_signal", got.macd_signal, r.macd_signal[i]),
        ("macd_hist", got.macd_hist, r.macd_hist[i]),
        ("bb_upper", got.bb_upper, r.bb_upper[i]),
        ("bb_middle", got.bb_middle, r.bb_middle[i]),
        ("bb_lower", got.bb_lower, r.bb_lower[i]),
    ];
    for (name, ours, talib) in pairs {
        assert_same(&at, name, ours, talib);
    }
}

async fn window(app: &TestApp, query: &str) -> Vec<IndicatedBar> {
    let series: BarSeries = app.get_json(&format!("/api/v1/bars/TAL?indicators=true&{query}"), 200).await;
    match series {
        BarSeries::Indicated(bars) => bars,
        other => panic!("{query}: expected indicated bars, got {other:?}"),
    }
}

#[tokio::test]
async fn every_window_carries_the_full_series_indicators_at_its_dates() {
    let r = reference();
    let n = r.close.len();
    let mut config = config(0);
    config.load_demo = false;
    let app = spawn_app(config).await;
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/import?symbol=TAL"))
        .body(csv(&r.close))
        .send()
        .await
        .expect("import");
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());

    // (query, index of the first bar expected, how many bars)
    let cases: Vec<(String, usize, usize)> = vec![
        (format!("limit={n}"), 0, n),
        ("limit=100".into(), n - 100, 100),
        ("limit=7".into(), n - 7, 7),
        (format!("from={}", date(152)), 152, 100),
        (format!("from={}&limit=10", date(20)), 20, 10),
        (format!("from={}&limit=40", date(5)), 5, 40),
        (format!("to={}&limit=30", date(300)), 271, 30),
        (format!("to={}", date(60)), 0, 61),
        (format!("from={}&to={}", date(200), date(219)), 200, 20),
        (format!("from={}&to={}&limit=5", date(200), date(390)), 200, 5),
        (format!("from={}&limit=50", date(n - 10)), n - 10, 10),
    ];
    for (query, first, count) in cases {
        let bars = window(&app, &query).await;
        assert_eq!(bars.len(), count, "{query}: number of bars");
        for (k, bar) in bars.iter().enumerate() {
            let i = first + k;
            assert_eq!(bar.bar.close, r.close[i], "{query}: bar {k} is day {i}");
            assert_indicators(&r, i, &bar.indicators);
        }
    }

    // The same windows through /api/v1/indicators, which also serves daily history.
    let series: IndicatorSeries =
        app.get_json(&format!("/api/v1/indicators/TAL?interval=1d&from={}&limit=30", date(100)), 200).await;
    assert_eq!((series.interval.as_str(), series.series.len()), ("1d", 30));
    for (k, point) in series.series.iter().enumerate() {
        assert_indicators(&r, 100 + k, &point.indicators);
    }
    assert_eq!(series.latest.as_ref(), series.series.last().map(|p| &p.indicators));
    let latest: IndicatorSeries = app.get_json("/api/v1/indicators/TAL?interval=1d&limit=1", 200).await;
    assert_indicators(&r, n - 1, latest.latest.as_ref().expect("latest indicators"));
    let _: ApiError = app.get_json("/api/v1/indicators/TAL?interval=2d", 400).await;
    app.stop().await.expect("clean stop");
}
