//! The venues' feeds against a local Coinbase (`fake_coinbase.rs`): the
//! documented handshake and trade normalisation, then every fault the issue
//! names: the connection dropped mid-stream, silence without closing, the
//! server restarted on the same port, a trade repeated after a reconnect, a
//! skipped trade id, malformed JSON and a 1 MB frame.

use std::sync::Arc;
use std::time::Duration;

use marquee::driver::feed::{Feed, FeedCheck, FeedSettings, FeedStats, FeedStatus};
use marquee::metrics::Checked;
use marquee::sources::feed::Resume;
use marquee::sources::venues::Venue;
use marquee::sources::venues::coinbase::Coinbase;
use marquee_shared::Tick;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::fake_coinbase::{FakeCoinbase, Script, Step, fixture, trade};

fn quick(url: String) -> FeedSettings {
    FeedSettings {
        url,
        connect_timeout: Duration::from_secs(2),
        ping_every: Duration::from_millis(100),
        silence: Duration::from_secs(2),
        backoff_first: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
    }
}

fn feed(settings: FeedSettings, stats: &Arc<FeedStats>) -> (Feed, mpsc::Receiver<Vec<Tick>>) {
    let (out, ticks) = mpsc::channel(64);
    let symbols = [("BTC-USD".to_owned(), "BTC-USD".to_owned())];
    let resume = vec![Resume { symbol: "BTC-USD".into(), last_seq: 0, reference: None }];
    let coinbase = Box::new(Coinbase::new(vec!["BTC-USD".into()]));
    (Feed::new(coinbase, settings, &symbols, resume, out, Arc::clone(stats)), ticks)
}

/// Ticks until `count` have come, or panics after a while.
async fn collect(ticks: &mut mpsc::Receiver<Vec<Tick>>, count: usize) -> Vec<Tick> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.len() < count {
        match tokio::time::timeout_at(deadline, ticks.recv()).await {
            Ok(Some(batch)) => got.extend(batch),
            _ => panic!("{} of {count} ticks came: {got:?}", got.len()),
        }
    }
    got
}

#[tokio::test]
async fn it_subscribes_as_documented_and_streams_the_trades_as_ticks() {
    let script: Script =
        Arc::new(|_| vec![Step::Send(fixture("subscriptions.json")), Step::Send(fixture("match.json"))]);
    let venue = FakeCoinbase::start(script).await;
    let stats = FeedStats::new(Venue::Coinbase);
    let (feed, mut ticks) = feed(quick(venue.url()), &stats);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(feed.run(shutdown.clone()));

    let tick = collect(&mut ticks, 1).await.remove(0);
    assert_eq!((tick.symbol.as_str(), tick.seq, tick.price, tick.size), ("BTC-USD", 1, 400.23, 5.23512));
    assert_eq!(tick.ts, 1_415_348_367_028_459_000, "the venue's event time");
    let sent: serde_json::Value =
        serde_json::from_str(&venue.subscribes.lock().expect("lock")[0]).expect("json");
    let documented: serde_json::Value =
        serde_json::from_str(&fixture("subscribe.json").replace(r#","ETH-USD""#, "")).expect("json");
    assert_eq!(sent, documented);
    assert_eq!(stats.status(), FeedStatus::Connected);
    shutdown.cancel();
    running.await.expect("stops");
    assert_eq!(stats.status(), FeedStatus::Stopped);
}

#[tokio::test]
async fn it_rides_out_drops_silence_restarts_repeats_gaps_and_bad_frames() {
    let script: Script = Arc::new(|n| {
        let subscribed = Step::Send(fixture("subscriptions.json"));
        match n {
            // Three trades, then the connection drops mid-stream.
            0 => {
                vec![subscribed, Step::Send(trade(1)), Step::Send(trade(2)), Step::Send(trade(3)), Step::Drop]
            }
            // Trade 3 again (a repeat after the reconnect), 4 skipped, a
            // malformed frame and a 1 MB one, then silence without closing.
            1 => vec![
                subscribed,
                Step::Send(trade(3)),
                Step::Send(trade(5)),
                Step::Send("{\"type\":\"match\",".into()),
                Step::Send(format!(r#"{{"type":"match","junk":"{}"}}"#, "x".repeat(1 << 20))),
                Step::Send(trade(6)),
                Step::Hang,
            ],
            // A clean close after one trade.
            2 => vec![subscribed, Step::Send(trade(7)), Step::Close],
            // Quiet but alive (it answers pings), until the server restarts.
            3 => vec![subscribed],
            // The restarted server.
            _ => vec![subscribed, Step::Send(trade(8)), Step::Send(trade(9))],
        }
    });
    let mut venue = FakeCoinbase::start(script).await;
    let stats = FeedStats::new(Venue::Coinbase);
    let (feed, mut ticks) = feed(quick(venue.url()), &stats);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(feed.run(shutdown.clone()));

    let mut got = collect(&mut ticks, 6).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while venue.connections() < 4 {
        assert!(Instant::now() < deadline, "no fourth connection");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Down for a moment, and back on the same port.
    venue.restart().await;
    got.extend(collect(&mut ticks, 2).await);

    let prices: Vec<f64> = got.iter().map(|t| t.price).collect();
    assert_eq!(prices, [60001.5, 60002.5, 60003.5, 60005.5, 60006.5, 60007.5, 60008.5, 60009.5]);
    let seqs: Vec<u64> = got.iter().map(|t| t.seq).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>(), "strictly increasing, no repeats");
    let counts = stats.counts();
    assert_eq!((counts.duplicates, counts.gaps, counts.missed), (1, 1, 1));
    assert_eq!(stats.bad_frames(), 2, "the malformed frame and the 1 MB one");
    assert_eq!(venue.connections(), 5, "reconnected after the drop, the silence, the close and the restart");
    assert_eq!(stats.reconnects(), 4);
    let subscribes = venue.subscribes.lock().expect("lock").len();
    assert_eq!(subscribes, venue.connections(), "subscribed again on every connection");
    shutdown.cancel();
    running.await.expect("stops");
}

#[tokio::test]
async fn an_unknown_product_fails_with_a_typed_reason_and_is_not_retried_in_a_tight_loop() {
    let script: Script = Arc::new(|_| vec![Step::Send(fixture("error_unknown_product.json"))]);
    let venue = FakeCoinbase::start(script).await;
    let stats = FeedStats::new(Venue::Coinbase);
    let settings = FeedSettings { backoff_max: Duration::from_secs(30), ..quick(venue.url()) };
    let (feed, _ticks) = feed(settings, &stats);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(feed.run(shutdown.clone()));

    let deadline = Instant::now() + Duration::from_secs(10);
    while !matches!(stats.status(), FeedStatus::Failed { .. }) {
        assert!(Instant::now() < deadline, "never failed: {:?}", stats.status());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let FeedStatus::Failed { reason } = stats.status() else { unreachable!() };
    assert!(reason.contains("BTC-XXX") && reason.contains("check the symbol"), "{reason}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(venue.connections(), 1, "waits the longest backoff before trying again");
    let health = FeedCheck(Arc::clone(&stats)).check(Duration::from_secs(1)).await;
    assert_eq!((health.name.as_str(), health.status), ("feed coinbase", marquee_shared::Status::Down));
    shutdown.cancel();
    running.await.expect("stops");
}

/// The whole pipeline with a live source beside the simulation: the local
/// Coinbase drops the connection mid-stream and repeats a trade after the
/// reconnect; the stored ticks of BTC-USD have seq 1, 2, 3, ... with no
/// repeat, the demo symbols are still simulated, and `/health` lists the
/// feed.
#[tokio::test]
async fn live_trades_are_stored_once_each_in_seq_order_beside_the_simulation() {
    use marquee::config::LiveSource;
    use marquee_shared::Health;

    use crate::helpers::{config, spawn_app};
    use crate::support::eventually;

    let script: Script = Arc::new(|n| {
        let subscribed = Step::Send(fixture("subscriptions.json"));
        match n {
            0 => vec![subscribed, Step::Send(trade(1)), Step::Send(trade(2)), Step::Drop],
            _ => vec![subscribed, Step::Send(trade(2)), Step::Send(trade(3)), Step::Send(trade(4))],
        }
    });
    let venue = FakeCoinbase::start(script).await;
    let mut config = config(5);
    config.sources.live = vec![LiveSource {
        venue: Venue::Coinbase,
        url: venue.url(),
        symbols: vec![("BTC-USD".into(), "BTC-USD".into())],
    }];
    let app = spawn_app(config).await;

    let ticks: Vec<Tick> = eventually("four stored BTC-USD ticks", Duration::from_secs(20), || async {
        let response =
            reqwest::get(app.url("/api/v1/ticks/BTC-USD?limit=100")).await.map_err(|e| e.to_string())?;
        let ticks: Vec<Tick> = response.json().await.map_err(|e| e.to_string())?;
        if ticks.len() >= 4 { Ok(ticks) } else { Err(format!("{} ticks", ticks.len())) }
    })
    .await;
    let mut seqs: Vec<(u64, f64)> = ticks.iter().map(|t| (t.seq, t.price)).collect();
    seqs.sort_by_key(|(seq, _)| *seq);
    assert_eq!(seqs, [(1, 60001.5), (2, 60002.5), (3, 60003.5), (4, 60004.5)], "each trade once, in order");
    assert!(ticks.iter().all(|t| t.size > 0.0 && t.size < 1.0), "fractional sizes kept: {ticks:?}");

    // `/health` is sampled once a second.
    let detail = eventually("the feed on /health", Duration::from_secs(10), || async {
        let health: Health = app.get_json("/health", 200).await;
        let feed = health.dependencies.into_iter().find(|d| d.name == "feed coinbase");
        feed.map(|f| f.detail).filter(|d| d.contains("4 trades")).ok_or_else(|| "not yet".to_owned())
    })
    .await;
    assert!(detail.contains("Coinbase: connected") && detail.contains("1 duplicates dropped"), "{detail}");
    let simulated: Vec<Tick> = app
        .get_json(
            &format!("/api/v1/ticks/{}?limit=5", marquee::sources::demo_universe::SYMBOLS[0].ticker),
            200,
        )
        .await;
    assert!(!simulated.is_empty(), "the demo symbols are still simulated");
    app.stop().await.expect("stops cleanly");
}
