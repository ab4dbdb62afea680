use marquee_shared::{Health, Status};

use crate::helpers::{config, spawn_app};

#[tokio::test]
async fn health_reports_every_stage_up_with_counted_work() {
    let app = spawn_app(config(5)).await;
    // Let the driver make a few steps first.
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;

    let response = reqwest::get(app.url("/health")).await.expect("GET /health");
    assert_eq!(response.status(), 200);
    let health: Health = response.json().await.expect("health JSON");
    assert_eq!(health.status, Status::Up);
    let names: Vec<_> = health.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["driver", "gateway"]);
    let driver = &health.stages[0];
    // 5 symbols, one batch at start and then every 100 ms: at least 3 steps in 350 ms.
    assert!(
        driver.processed >= 15 && driver.processed.is_multiple_of(5),
        "driver processed {}",
        driver.processed
    );
    assert!(health.uptime_ms >= 350);
    assert_eq!(health.clients, 0);
    app.stop().await.expect("clean stop");
}
