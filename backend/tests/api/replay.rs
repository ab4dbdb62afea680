//! `marquee replay`: a stored session played again through the real server
//! at ten times its pace: the replayed ticks keep the session's order,
//! prices and sizes, come at a tenth of its spacing, continue each symbol's
//! seq after the newest stored, and their symbols say "Replay".

use std::sync::Arc;
use std::time::Duration;

use marquee::config::ReplaySpec;
use marquee::store::{SqliteStore, Store};
use marquee_shared::{Feed, SymbolSummary, Tick};

use crate::helpers::{config, spawn_app_in};

const MS: i64 = 1_000_000;

#[tokio::test]
async fn a_stored_session_plays_again_in_order_at_the_speed_asked_with_new_seqs() {
    // The recorded session: an hour ago.
    let t0 = marquee::common::time::now_ns() - 3_600_000 * MS;
    let data = Arc::new(tempfile::tempdir().expect("temp dir"));
    {
        let store = SqliteStore::open(data.path()).expect("store");
        let session: Vec<Tick> = (1..=10_u64)
            .flat_map(|i| {
                let at = |symbol: &str, price: f64| Tick {
                    symbol: symbol.into(),
                    seq: i,
                    ts: t0 + i as i64 * 100 * MS,
                    price,
                    size: 0.5 * i as f64,
                    change: 0.0,
                    change_pct: 0.0,
                };
                [at("AAPL", 200.0 + i as f64), at("MSFT", 400.0 + i as f64)]
            })
            .collect();
        store.insert_ticks(session).await.expect("the session");
    }
    let mut config = config(5);
    config.sources.simulation = false;
    // The first eight of the ten: ticks 1 to 8.
    config.sources.replay = Some(ReplaySpec { from: t0, to: t0 + 800 * MS, speed: 10.0 });
    let app = spawn_app_in(config, Arc::clone(&data)).await;

    let ticks = app.stored_ticks("AAPL", 18).await;
    let replayed: Vec<&Tick> = ticks.iter().filter(|t| t.seq > 10).collect();
    let shape: Vec<(u64, f64, f64)> = replayed.iter().map(|t| (t.seq, t.price, t.size)).collect();
    let expected: Vec<(u64, f64, f64)> =
        (1..=8_u64).map(|i| (10 + i, 200.0 + i as f64, 0.5 * i as f64)).collect();
    assert_eq!(shape, expected, "in order, recorded values, seqs after the newest stored");
    let gaps: Vec<i64> = replayed.windows(2).map(|w| w[1].ts - w[0].ts).collect();
    assert!(gaps.iter().all(|gap| *gap == 10 * MS), "a tenth of the recorded 100 ms: {gaps:?}");
    assert!(replayed[0].ts > t0 + 3_000_000 * MS, "played now, not at the recorded time");

    let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    let aapl = symbols.iter().find(|s| s.symbol == "AAPL").expect("AAPL");
    assert_eq!(aapl.feed, Some(Feed::Replay));
    app.stop().await.expect("stops cleanly");
}

/// An operator's replay while the simulation runs: refused without the
/// token, for a bad or empty window, and while one plays; stopped by
/// DELETE; played to its end, after which the simulation goes on. Each
/// symbol keeps one run of seqs: the stored ticks, in seq order, are in
/// time order, the replayed session among them whole.
#[tokio::test]
async fn an_operator_replays_a_session_while_the_simulation_waits_and_then_goes_on() {
    use marquee_shared::{Event, EventKind, ReplayState};
    const TOKEN: &str = "replay-token";
    let t0 = marquee::common::time::now_ns() - 7_200_000 * MS;
    let data = Arc::new(tempfile::tempdir().expect("temp dir"));
    {
        let store = SqliteStore::open(data.path()).expect("store");
        let session: Vec<Tick> = (1..=10_u64)
            .map(|i| Tick {
                symbol: "AAPL".into(),
                seq: i,
                ts: t0 + i as i64 * 500 * MS,
                price: 200.0 + i as f64,
                size: i as f64,
                change: 0.0,
                change_pct: 0.0,
            })
            .collect();
        store.insert_ticks(session).await.expect("the session");
    }
    let mut config = config(5);
    config.secrets.operator_token = Some(marquee::config::Secret::new(TOKEN));
    let app = spawn_app_in(config, Arc::clone(&data)).await;
    app.stored_ticks("AAPL", 12).await;
    let client = reqwest::Client::new();
    let window = |speed: f64| serde_json::json!({"from": t0.to_string(), "to": (t0 + 5_000 * MS).to_string(), "speed": speed});
    let post = |body: serde_json::Value, token: Option<&str>| {
        let request = client.post(app.url("/api/v1/replay")).json(&body);
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        request.send()
    };

    assert_eq!(post(window(1.0), None).await.expect("post").status(), 401);
    let backwards = serde_json::json!({"from": "2026-12-08", "to": "2026-12-07"});
    let refused = post(backwards, Some(TOKEN)).await.expect("post");
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.expect("body").contains("is after the end"));
    let empty = serde_json::json!({"from": "2001-01-01", "to": "2001-01-02"});
    assert_eq!(post(empty, Some(TOKEN)).await.expect("post").status(), 404);

    // At the recorded pace (4.5 s): playing, a second refused, then stopped.
    let playing = post(window(1.0), Some(TOKEN)).await.expect("post");
    assert_eq!(playing.status(), 202);
    let playing: ReplayState = playing.json().await.expect("json");
    assert!(matches!(playing, ReplayState::Playing { speed: 1.0, .. }), "{playing:?}");
    assert_eq!(post(window(1.0), Some(TOKEN)).await.expect("post").status(), 409);
    let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    let aapl = symbols.iter().find(|s| s.symbol == "AAPL").expect("AAPL");
    assert_eq!(aapl.feed, Some(Feed::Replay), "the simulation's symbols are replayed meanwhile");
    let stop = || client.delete(app.url("/api/v1/replay")).bearer_auth(TOKEN).send();
    let stopped: ReplayState = stop().await.expect("delete").json().await.expect("json");
    let ReplayState::Finished { played, reason, .. } = stopped else { panic!("{stopped:?}") };
    assert!((1..10).contains(&played), "stopped part-way: {played}");
    assert_eq!(reason, "stopped by the operator");
    assert_eq!(stop().await.expect("delete").status(), 409, "none playing");

    // At ten times the pace, to its end.
    assert_eq!(post(window(10.0), Some(TOKEN)).await.expect("post").status(), 202);
    let finished = crate::support::eventually("the replay ends", Duration::from_secs(10), || async {
        match app.get_json::<ReplayState>("/api/v1/replay", 200).await {
            ReplayState::Finished { played, reason, .. } => Ok((played, reason)),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(finished, (10, "played to the end of the window".to_owned()));

    let ticks = crate::support::eventually("the simulation goes on", Duration::from_secs(20), || async {
        let mut ticks: Vec<Tick> = app.get_json("/api/v1/ticks/AAPL?limit=10000", 200).await;
        ticks.sort_by_key(|t| t.seq);
        let end = ticks.iter().rposition(|t| t.price == 210.0 && t.seq > 10).ok_or("no replayed end yet")?;
        if ticks.len() > end + 3 {
            Ok(ticks)
        } else {
            Err(format!("{} ticks after the replay", ticks.len() - end - 1))
        }
    })
    .await;
    assert!(
        ticks.windows(2).all(|w| w[0].seq < w[1].seq && w[0].ts <= w[1].ts),
        "one run of seqs, in time order"
    );
    let end = ticks.iter().rposition(|t| t.price == 210.0 && t.seq > 10).expect("the replay's last");
    let replayed: Vec<(f64, f64)> = ticks[end - 9..=end].iter().map(|t| (t.price, t.size)).collect();
    let recorded: Vec<(f64, f64)> = (1..=10).map(|i| (200.0 + f64::from(i), f64::from(i))).collect();
    assert_eq!(replayed, recorded, "the whole session, in order, as recorded");
    let around: Vec<(u64, f64)> = ticks[end - 10..end + 3].iter().map(|t| (t.seq, t.price)).collect();
    assert!(ticks[end - 9].seq > 10 && ticks[end + 1].seq == ticks[end].seq + 1, "{around:?}");

    let events: Vec<Event> = app.get_json("/api/v1/events?limit=100", 200).await;
    let replays: Vec<&EventKind> = events
        .iter()
        .map(|e| &e.kind)
        .filter(|k| matches!(k, EventKind::ReplayStarted { .. } | EventKind::ReplayFinished { .. }))
        .collect();
    assert_eq!(replays.len(), 4, "two started, two finished: {replays:?}");
    app.stop().await.expect("stops cleanly");
}
