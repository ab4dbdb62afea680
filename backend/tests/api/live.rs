//! The whole pipeline with a live source: the real server on port 0 with
//! `--source` pointing at a local Coinbase (`fake_venue.rs`).

use std::sync::Arc;
use std::time::Duration;

use marquee::config::LiveSource;
use marquee::sources::venues::Venue;
use marquee_shared::{DataSource, Feed, Health, Quote, SymbolSummary, Tick};

use crate::fake_venue::{FakeVenue, Script, Step, coinbase_trade as trade, fixture};
use crate::helpers::{config, spawn_app};
use crate::support::eventually;

/// The whole pipeline with a live source beside the simulation: the local
/// Coinbase drops the connection mid-stream and repeats a trade after the
/// reconnect; the stored ticks of BTC-USD have seq 1, 2, 3, ... with no
/// repeat, the demo symbols are still simulated, and `/health` lists the
/// feed.
#[tokio::test]
async fn live_trades_are_stored_once_each_in_seq_order_beside_the_simulation() {
    let script: Script = Arc::new(|n| {
        let subscribed = Step::Send(fixture("coinbase", "subscriptions.json"));
        match n {
            0 => vec![Step::Recv, subscribed, Step::Send(trade(1)), Step::Send(trade(2)), Step::Drop],
            _ => {
                vec![Step::Recv, subscribed, Step::Send(trade(2)), Step::Send(trade(3)), Step::Send(trade(4))]
            }
        }
    });
    let venue = FakeVenue::start(script).await;
    let mut config = config(5);
    config.sources.live = vec![LiveSource {
        venue: Venue::Coinbase,
        url: venue.url(),
        symbols: vec![("BTC-USD".into(), "BTC-USD".into())],
        keys: Default::default(),
        failover: None,
    }];
    let app = spawn_app(config).await;

    let ticks = app.stored_ticks("BTC-USD", 4).await;
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
    let symbols: Vec<SymbolSummary> = app.get_json("/api/v1/symbols", 200).await;
    let btc = symbols.iter().find(|s| s.symbol == "BTC-USD").expect("a feed's symbol is listed");
    assert_eq!(btc.feed, Some(Feed::Live { venue: "Coinbase".into() }));
    assert_eq!((btc.source, btc.records, btc.last), (DataSource::Live, 0, 60004.5));
    let demo = marquee::sources::demo_universe::SYMBOLS[0].ticker;
    assert_eq!(symbols.iter().find(|s| s.symbol == demo).and_then(|s| s.feed.clone()), Some(Feed::Simulated));
    let quote: Quote = app.get_json("/api/v1/quotes/BTC-USD", 200).await;
    assert_eq!((quote.price, quote.seq, quote.live), (60004.5, Some(4), true));
    let metrics = reqwest::get(app.url("/metrics")).await.expect("GET /metrics").text().await.expect("text");
    for line in [
        "marquee_feed_up{venue=\"coinbase\"} 1",
        "marquee_feed_trades_total{venue=\"coinbase\"} 4",
        "marquee_feed_duplicates_total{venue=\"coinbase\"} 1",
        "marquee_feed_reconnects_total{venue=\"coinbase\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} not in /metrics:\n{metrics}");
    }
    assert!(
        metrics.contains("marquee_feed_latency_seconds{venue=\"coinbase\",quantile=\"0.99\"}"),
        "{metrics}"
    );
    let simulated: Vec<Tick> = app
        .get_json(
            &format!("/api/v1/ticks/{}?limit=5", marquee::sources::demo_universe::SYMBOLS[0].ticker),
            200,
        )
        .await;
    assert!(!simulated.is_empty(), "the demo symbols are still simulated");
    app.stop().await.expect("stops cleanly");
}
