use std::time::{Duration, Instant};

use marquee_shared::ServerMessage;

use crate::helpers::{config, next_message, spawn_app};

#[tokio::test]
async fn shutdown_closes_clients_and_returns_promptly() {
    let app = spawn_app(config(5)).await;
    let mut ws = app.connect().await;
    assert!(matches!(next_message(&mut ws).await, Some(ServerMessage::Snapshot { .. })));

    let started = Instant::now();
    app.stop().await.expect("run returns Ok");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());

    // The client sees its stream end (after any frames already in flight).
    loop {
        match next_message(&mut ws).await {
            Some(ServerMessage::Ticks { .. } | ServerMessage::Simulation { .. }) => {}
            None => break,
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
}
