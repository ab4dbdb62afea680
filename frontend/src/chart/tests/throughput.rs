//! The throughput chart, rendered to SVG.

use plotters::prelude::*;

use super::svg::{Element, parse_svg, polylines};
use crate::chart::throughput::throughput_plot;
use crate::chart::{ChartTheme, THROUGHPUT_WINDOW, draw_throughput};

fn render_throughput(samples: &[f64]) -> Vec<Element> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (300, 80)).into_drawing_area();
        draw_throughput(&root, samples, &ChartTheme::light()).expect("draws");
    }
    parse_svg(&svg)
}

#[test]
fn throughput_spans_the_last_minute() {
    let theme = ChartTheme::light();
    let plot = throughput_plot(300, 80, &theme);
    let samples: Vec<f64> = (0..90).map(f64::from).collect();
    let svg = render_throughput(&samples);
    let line = polylines(&svg, theme.throughput);
    assert_eq!(line.len(), 1);
    let points = line[0].points();
    assert_eq!(points.len(), THROUGHPUT_WINDOW, "the last 60 of 90");
    assert_eq!((points[0].0, points[59].0), (plot.x0, plot.x1 - 1));
    assert!(points.windows(2).all(|w| w[1].1 <= w[0].1), "rising samples climb");
    // 89 is the maximum: drawn at 1/1.1 of the height; 30 proportionally lower.
    let height = f64::from(plot.height());
    assert!((f64::from(plot.y1 - points[59].1) - height / 1.1).abs() <= 1.0);
    assert!((f64::from(plot.y1 - points[0].1) - height * 30.0 / 89.0 / 1.1).abs() <= 1.0);
    assert_eq!(svg.iter().filter(|e| e.tag == "polygon").count(), 1, "the filled area");

    let few = polylines(&render_throughput(&[5.0; 10]), theme.throughput)[0].points();
    assert!(few[0].0 > plot.x0 + plot.width() * 4 / 5, "ten samples start near the right edge");
    assert!(polylines(&render_throughput(&[]), theme.throughput).is_empty());
    let idle = polylines(&render_throughput(&[0.0; 60]), theme.throughput)[0].points();
    assert!(idle.iter().all(|p| p.1 == plot.y1), "no ticks lie on the floor of a 0..1 scale");
}
