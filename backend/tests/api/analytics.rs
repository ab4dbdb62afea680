//! Alerts from the live simulation, through REST.

use std::time::Duration;

use marquee_shared::{Alert, AlertKind, ApiError, IndicatorSeries};

use crate::helpers::{config, spawn_app};

#[tokio::test]
async fn the_simulations_jumps_raise_price_alerts() {
    // Fast ticks fill the 200-return window in about a second; frequent
    // jumps make alerts certain within the test's time.
    let mut config = config(5);
    config.tick_interval = Duration::from_millis(5);
    config.jump_probability = 0.01;
    config.jump_size = 0.02;
    let app = spawn_app(config).await;
    let mut alerts: Vec<Alert> = Vec::new();
    for _ in 0..100 {
        alerts = app.get_json("/api/v1/alerts?limit=100", 200).await;
        if alerts.iter().any(|a| a.kind == AlertKind::PriceJump) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let jump = alerts.iter().find(|a| a.kind == AlertKind::PriceJump).expect("a price alert within 10 s");
    assert!(jump.value.abs() >= jump.threshold.abs(), "{jump:?}");
    assert!(jump.ts > 0 && !jump.symbol.is_empty());

    // Indicators answer for a known symbol (empty until a minute closes) and not for an unknown one.
    let series: IndicatorSeries = app.get_json("/api/v1/indicators/AAPL?interval=1m", 200).await;
    assert_eq!(series.symbol, "AAPL");
    let _: ApiError = app.get_json("/api/v1/indicators/NOPE", 404).await;
    let _: ApiError = app.get_json("/api/v1/indicators/AAPL?interval=1w", 400).await;
    app.stop().await.expect("clean stop");
}
