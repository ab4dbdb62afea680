//! Renders the charts to SVG natively and checks what was drawn where.

mod svg;
mod throughput;

use plotters::prelude::*;

use super::candles::{Layout, layout};
use super::*;
use svg::{Element, hex, parse_svg, polylines};

const SIZE: (u32, u32) = (800, 600);
const NONE: Overlays = Overlays { sma: false, ema: false, bollinger: false };
const MINUTE: i64 = 60_000_000_000;

fn render_candles(candles: &[Candle], overlays: Overlays, time: TimeFormat) -> Vec<Element> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw_candles(&root, candles, overlays, time, &ChartTheme::dark()).expect("draws");
        root.present().expect("presents");
    }
    parse_svg(&svg)
}

fn chart_layout() -> Layout {
    layout(SIZE.0, SIZE.1, &ChartTheme::dark())
}

fn candle(i: i64, open: f64, high: f64, low: f64, close: f64, volume: f64) -> Candle {
    Candle {
        start: 1_763_900_000_000_000_000 + i * MINUTE,
        open,
        high,
        low,
        close,
        volume,
        ..Candle::default()
    }
}

/// Up, down and doji.
fn three() -> Vec<Candle> {
    vec![
        candle(0, 100.0, 112.0, 98.0, 110.0, 300.0),
        candle(1, 110.0, 111.0, 102.0, 104.0, 100.0),
        candle(2, 105.0, 107.0, 103.0, 105.0, 200.0),
    ]
}

/// Filled rectangles of `color` at full opacity inside `pane`, left to right.
fn solid_rects(elements: &[Element], pane: super::scale::Rect, color: RGBColor) -> Vec<&Element> {
    let mut rects: Vec<_> = elements
        .iter()
        .filter(|e| e.tag == "rect" && e.attr("fill") == hex(color) && e.num("opacity") == 1.0)
        .filter(|e| e.int("x") >= pane.x0 && e.int("x") + e.int("width") <= pane.x1)
        .filter(|e| e.int("y") >= pane.y0 && e.int("y") + e.int("height") <= pane.y1)
        .collect();
    rects.sort_by_key(|e| e.int("x"));
    rects
}

#[test]
fn bodies_are_coloured_and_placed_by_price() {
    let theme = ChartTheme::dark();
    let svg = render_candles(&three(), NONE, TimeFormat::Intraday);
    let price = chart_layout().price;
    let bodies = |color| -> Vec<_> {
        solid_rects(&svg, price, color).into_iter().filter(|e| e.int("width") > 1).collect()
    };
    let (ups, downs) = (bodies(theme.up), bodies(theme.down));
    assert_eq!((ups.len(), downs.len()), (2, 1), "up, doji (up) and down bodies");
    let (up, doji, down) = (ups[0], ups[1], downs[0]);
    assert!(up.int("x") < down.int("x") && down.int("x") < doji.int("x"), "bars in index order");

    // Scale: 98..112 padded 4% each side over the pane less 20 + 4 px of insets.
    let per_unit = f64::from(price.height() - 24) / (14.0 * 1.08);
    assert!((up.num("height") - 10.0 * per_unit).abs() <= 1.0, "up body {up:?}, {per_unit} px/unit");
    assert!((down.num("height") - 6.0 * per_unit).abs() <= 1.0, "down body {down:?}");
    assert_eq!(doji.int("height"), 1, "a doji is a one-pixel line");
    // Both tops are at 110; the doji (105) sits above the down close (104).
    assert!((up.int("y") - down.int("y")).abs() <= 1);
    let down_bottom = down.int("y") + down.int("height");
    assert!(doji.int("y") < down_bottom && doji.int("y") > up.int("y"));
    assert!(((down_bottom - doji.int("y")) as f64 - per_unit).abs() <= 1.0);

    // Wicks: one pixel wide, high to low.
    let wicks: Vec<_> =
        solid_rects(&svg, price, theme.up).into_iter().filter(|e| e.int("width") == 1).collect();
    assert_eq!(wicks.len(), 2);
    assert!((wicks[0].num("height") - 14.0 * per_unit).abs() <= 1.0, "up wick {:?}", wicks[0]);
}

#[test]
fn forming_candle_is_translucent_and_outlined() {
    let theme = ChartTheme::dark();
    let mut bars = three();
    let outlines =
        |svg: &[Element]| svg.iter().filter(|e| e.tag == "rect" && e.attr("fill") == "none").count();
    assert_eq!(outlines(&render_candles(&bars, NONE, TimeFormat::Intraday)), 0);

    bars[2].forming = true;
    let svg = render_candles(&bars, NONE, TimeFormat::Intraday);
    let forming: Vec<_> = svg
        .iter()
        .filter(|e| e.tag == "rect" && e.attr("fill") == hex(theme.up))
        .filter(|e| (e.num("opacity") - theme.forming_alpha).abs() < 1e-9)
        .collect();
    assert_eq!(forming.len(), 1, "the forming body is translucent");
    let outline = svg.iter().find(|e| e.tag == "rect" && e.attr("fill") == "none").expect("an outline");
    assert_eq!(outline.attr("stroke"), hex(theme.up));
    assert_eq!((outline.int("x"), outline.int("y")), (forming[0].int("x"), forming[0].int("y")));
    let bodies: Vec<_> = solid_rects(&svg, chart_layout().price, theme.up)
        .into_iter()
        .filter(|e| e.int("width") > 1)
        .collect();
    assert_eq!(bodies.len(), 1, "only the closed up bar is solid");
    assert!(bodies[0].int("x") < forming[0].int("x"));
}

#[test]
fn volume_bars_follow_volumes_and_candle_colours() {
    let theme = ChartTheme::dark();
    let svg = render_candles(&three(), NONE, TimeFormat::Intraday);
    let pane = chart_layout().volume;
    let mut bars: Vec<_> = svg
        .iter()
        .filter(|e| e.tag == "rect" && (e.num("opacity") - theme.volume_alpha).abs() < 1e-9)
        .filter(|e| pane.contains_y(e.int("y")))
        .collect();
    bars.sort_by_key(|e| e.int("x"));
    let colours: Vec<_> = bars.iter().map(|e| e.attr("fill")).collect();
    assert_eq!(colours, [hex(theme.up), hex(theme.down), hex(theme.up)]);
    let heights: Vec<_> = bars.iter().map(|e| e.num("height")).collect();
    assert!(heights[0] > heights[2] && heights[2] > heights[1], "{heights:?}");
    // The largest volume reaches 1/1.1 of the pane (less a 4 px inset); all stand on its floor.
    assert!((heights[0] - f64::from(pane.height() - 4) / 1.1).abs() <= 1.0, "{heights:?}");
    assert!((heights[1] / heights[0] - 1.0 / 3.0).abs() < 0.02);
    assert!(bars.iter().all(|e| e.int("y") + e.int("height") == pane.y1));
}

#[test]
fn empty_input_waits() {
    let svg = render_candles(&[], Overlays::default(), TimeFormat::Intraday);
    let texts: Vec<_> = svg.iter().filter(|e| e.tag == "text").map(|e| e.content.as_str()).collect();
    assert_eq!(texts, [WAITING]);
    let rects: Vec<_> = svg.iter().filter(|e| e.tag == "rect").collect();
    assert_eq!(rects.len(), 1, "the background only");
    assert_eq!((rects[0].int("width"), rects[0].int("height")), (800, 600));
    assert_eq!(rects[0].attr("fill"), hex(ChartTheme::dark().background));
}

fn with_sma20(values: &[Option<f64>]) -> Vec<Candle> {
    values
        .iter()
        .enumerate()
        .map(|(i, &sma20)| {
            let mut c = candle(i as i64, 100.0, 102.0, 99.0, 101.0, 10.0);
            c.indicators.sma20 = sma20;
            c
        })
        .collect()
}

#[test]
fn missing_indicators_draw_no_lines() {
    let svg = render_candles(&with_sma20(&[None; 6]), Overlays::default(), TimeFormat::Intraday);
    let lines: Vec<_> = svg.iter().filter(|e| e.tag == "polyline").collect();
    assert!(lines.is_empty(), "{lines:?}");
    assert!(!svg.iter().any(|e| e.tag == "polygon"), "no Bollinger fill");

    // Runs of one point draw nothing; the line breaks at None.
    let values = [None, None, Some(100.5), Some(101.0), None, Some(100.0), Some(100.2), Some(100.4)];
    let svg = render_candles(&with_sma20(&values), Overlays::default(), TimeFormat::Intraday);
    let sma = polylines(&svg, ChartTheme::dark().sma20);
    let lengths: Vec<_> = sma.iter().map(|e| e.points().len()).collect();
    assert_eq!(lengths, [2, 3]);
    let (a, b) = (sma[0].points(), sma[1].points());
    assert!(a[1].1 < a[0].1, "101.0 is drawn above 100.5");
    assert!(a[1].0 < b[0].0, "the second run starts later");

    let svg = render_candles(
        &with_sma20(&values),
        Overlays { sma: false, ..Overlays::default() },
        TimeFormat::Intraday,
    );
    assert!(polylines(&svg, ChartTheme::dark().sma20).is_empty(), "SMA turned off");
}

#[test]
fn rsi_and_macd_draw_in_their_panes() {
    let theme = ChartTheme::dark();
    let mut bars = three();
    for (c, (rsi, hist)) in bars.iter_mut().zip([(20.0, -0.5), (50.0, 0.25), (80.0, 1.0)]) {
        c.indicators.rsi14 = Some(rsi);
        c.indicators.macd_hist = Some(hist);
        c.indicators.macd = Some(hist * 2.0);
        c.indicators.macd_signal = Some(hist);
    }
    let svg = render_candles(&bars, NONE, TimeFormat::Intraday);
    let layout = chart_layout();

    let rsi = polylines(&svg, theme.rsi);
    assert_eq!(rsi.len(), 1);
    let ys: Vec<_> = rsi[0].points().iter().map(|p| p.1).collect();
    assert!(ys.iter().all(|&y| layout.rsi.contains_y(y)), "{ys:?} in {:?}", layout.rsi);
    assert!(ys[0] > ys[1] && ys[1] > ys[2], "higher RSI is higher up: {ys:?}");
    // 0..100 over the pane less a 4 px top and a 2 px bottom inset.
    let per_unit = f64::from(layout.rsi.height() - 6) / 100.0;
    assert!((f64::from(ys[0] - ys[2]) - 60.0 * per_unit).abs() <= 1.0);

    let macd = polylines(&svg, theme.macd);
    assert_eq!(macd.len(), 1);
    assert!(macd[0].points().iter().all(|p| layout.macd.contains_y(p.1)));
    let hist: Vec<_> = svg
        .iter()
        .filter(|e| e.tag == "rect" && layout.macd.contains_y(e.int("y")) && e.num("opacity") < 1.0)
        .filter(|e| e.attr("fill") == hex(theme.up) || e.attr("fill") == hex(theme.down))
        .collect();
    assert_eq!(hist.len(), 3);
    let zero_bottom =
        hist.iter().filter(|e| e.attr("fill") == hex(theme.up)).map(|e| e.int("y") + e.int("height"));
    let zero_top =
        hist.iter().find(|e| e.attr("fill") == hex(theme.down)).map(|e| e.int("y")).expect("a red bar");
    assert!(zero_bottom.into_iter().all(|y| y == zero_top), "bars stand on the zero line");

    let titles: Vec<_> = svg.iter().filter(|e| e.tag == "text").map(|e| e.content.as_str()).collect();
    for title in ["Vol", "RSI 14", "MACD 12 26 9", "80.0"] {
        assert!(titles.contains(&title), "{title} in {titles:?}");
    }
}

#[test]
fn time_labels_follow_the_format() {
    let texts = |time| -> Vec<String> {
        let svg = render_candles(&three(), NONE, time);
        let y = chart_layout().time_y.to_string();
        let mut labels: Vec<_> = svg.into_iter().filter(|e| e.tag == "text" && e.attr("y") == y).collect();
        labels.sort_by_key(|e| e.int("x"));
        labels.into_iter().map(|e| e.content).collect()
    };
    assert_eq!(texts(TimeFormat::Intraday), ["12:13", "12:14", "12:15"]);
    assert_eq!(texts(TimeFormat::Daily), ["2025-11-23"; 3]);

    // Many bars: a few labels, never overlapping, the newest always labelled.
    let bars: Vec<_> = (0..200).map(|i| candle(i, 1.0, 2.0, 0.5, 1.5, 1.0)).collect();
    let svg = render_candles(&bars, NONE, TimeFormat::Intraday);
    let y = chart_layout().time_y.to_string();
    let mut xs: Vec<_> =
        svg.iter().filter(|e| e.tag == "text" && e.attr("y") == y).map(|e| e.int("x")).collect();
    xs.sort_unstable();
    assert!((3..=12).contains(&xs.len()), "{xs:?}");
    assert!(xs.windows(2).all(|w| w[1] - w[0] >= 75), "{xs:?}");
    let slots =
        super::scale::Slots { x0: chart_layout().price.x0, width: chart_layout().price.width(), n: 200 };
    assert_eq!(xs.last(), Some(&slots.center(199)), "the newest bar is labelled");
}

#[test]
fn candle_geometry_keeps_pixel_rules() {
    let theme = ChartTheme::dark();
    let slots = super::scale::Slots { x0: 0, width: 100, n: 10 };
    let scale = super::scale::YScale { lo: 90.0, hi: 110.0, top: 0, bottom: 200 };
    let geometry = |c: Candle| super::candles::candle_geometry(&c, 3, &slots, &scale, &theme);

    let up = geometry(candle(0, 95.0, 105.0, 92.5, 100.0, 1.0));
    assert!(up.up);
    assert_eq!((up.body.y0, up.body.y1), (100, 150), "close 100 at the top, open 95 below");
    assert_eq!((up.wick.y0, up.wick.y1), (50, 175));
    assert_eq!(up.body.width() % 2, 1, "odd bodies centre the wick");
    assert_eq!(up.wick.x0 - up.body.x0, up.body.x1 - up.wick.x1);

    let doji = geometry(candle(0, 100.0, 100.0, 100.0, 100.0, 1.0));
    assert_eq!((doji.body.height(), doji.wick.height()), (1, 1));
    let down = geometry(candle(0, 100.0, 99.0, 96.0, 97.0, 1.0));
    assert!(!down.up);
    assert!(down.wick.y0 <= down.body.y0, "a high below the open still covers the body");
}

#[test]
fn scaled_themes_draw_bigger_text() {
    let sizes = |theme: &ChartTheme| -> Vec<f64> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            draw_candles(&root, &three(), NONE, TimeFormat::Intraday, theme).expect("draws");
        }
        parse_svg(&svg).iter().filter(|e| e.tag == "text").map(|e| e.num("font-size")).collect()
    };
    let (normal, double) = (sizes(&ChartTheme::dark()), sizes(&ChartTheme::dark().scaled(2.0)));
    assert!(!normal.is_empty());
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    assert!((max(&double) - 2.0 * max(&normal)).abs() < 1e-9, "{normal:?} {double:?}");
    assert_eq!(ChartTheme::dark().scaled(f64::NAN).scale, 1.0);
}

#[test]
fn stored_history_before_live_bars_is_marked_and_labelled_in_its_own_format() {
    let mut bars = three();
    bars[0] = bars[0].as_context(TimeFormat::Daily);
    bars[1] = bars[1].as_context(TimeFormat::Daily);
    let svg = render_candles(&bars, NONE, TimeFormat::Intraday);
    let texts: Vec<&str> = svg.iter().filter(|e| e.tag == "text").map(|e| e.content.as_str()).collect();
    assert!(texts.contains(&"history") && texts.contains(&"live"), "{texts:?}");
    let y = chart_layout().time_y.to_string();
    let mut labels: Vec<_> = svg.iter().filter(|e| e.tag == "text" && e.attr("y") == y).collect();
    labels.sort_by_key(|e| e.int("x"));
    let labels: Vec<&str> = labels.iter().map(|e| e.content.as_str()).collect();
    assert_eq!(labels, ["2025-11-23", "2025-11-23", "12:15"]);
    // Without history, no boundary.
    let plain = render_candles(&three(), NONE, TimeFormat::Intraday);
    assert!(!plain.iter().any(|e| e.tag == "text" && e.content == "live"));
}
