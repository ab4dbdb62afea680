use std::time::Duration;

use marquee_shared::{Health, SimulationState, Status};

use crate::helpers::{config, spawn_app};

#[tokio::test]
async fn health_reports_every_stage_up_with_counted_work() {
    let app = spawn_app(config(5)).await;
    // Wait for the driver to make a few steps after the demo data is stored
    // (stages report down, and /health 503, for the first moments).
    let mut health: Option<Health> = None;
    for _ in 0..50 {
        let response = reqwest::get(app.url("/health")).await.expect("GET /health");
        let status = response.status();
        let body: Health = response.json().await.expect("health JSON");
        let ready = status == 200 && body.stages.iter().any(|s| s.name == "driver" && s.processed >= 15);
        health = Some(body);
        if ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let health = health.expect("a health answer");
    assert_eq!(health.status, Status::Up);
    let names: Vec<_> = health.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["ingest", "driver", "receiver", "store", "gateway"]);
    let driver = &health.stages[1];
    assert!(
        driver.processed >= 15 && driver.processed.is_multiple_of(5),
        "driver processed {}",
        driver.processed
    );
    assert_eq!(health.stages[0].processed, 5 * 252, "the demo history was counted as stored");
    assert!(
        matches!(health.simulation, SimulationState::Running { symbols: 5, .. }),
        "{:?}",
        health.simulation
    );
    assert_eq!(health.clients, 0);
    let receiver = &health.stages[2];
    assert!(receiver.buffer_fill.is_some_and(|f| (0.0..=1.0).contains(&f)), "{receiver:?}");
    assert!(receiver.flushes.is_some(), "{receiver:?}");
    app.stop().await.expect("clean stop");
}
