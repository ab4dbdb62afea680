//! `--failover`: a feed moves to the backup venue when its venue is down and
//! back when it returns, each move an event; the ticks' seq runs on across
//! both venues without a repeat.

use std::sync::Arc;
use std::time::Duration;

use marquee::driver::feed::{Feed, FeedStats, FeedStatus};
use marquee::events::{Events, InProcessBus};
use marquee::sources::feed::Resume;
use marquee::sources::venues::Venue;
use marquee::sources::venues::binance::Binance;
use marquee::sources::venues::coinbase::Coinbase;
use marquee_shared::EventKind;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::fake_venue::{FakeVenue, Script, Step, coinbase_trade, fixture};
use crate::feeds::{collect, quick};

/// A Binance trade of BTCUSDT with id `id` at 70,000 + id.
fn binance_trade(id: u64) -> String {
    format!(
        r#"{{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":{id},"p":"{}.5","q":"0.5","T":1672515782134,"m":false,"M":true}}"#,
        70_000 + id
    )
}

#[tokio::test]
async fn a_feed_moves_to_its_failover_while_the_venue_is_down_and_back_when_it_returns() {
    // Coinbase: two trades, then down (the connection dropped, then the
    // upgrade refused) for a while, then back with two more.
    let primary: Script = Arc::new(|n| match n {
        0 => vec![
            Step::Recv,
            Step::Send(fixture("coinbase", "subscriptions.json")),
            Step::Send(coinbase_trade(1)),
            Step::Send(coinbase_trade(2)),
            Step::Drop,
        ],
        1..=4 => vec![Step::Reject(503)],
        _ => vec![Step::Recv, Step::Send(coinbase_trade(3)), Step::Send(coinbase_trade(4))],
    });
    let backup: Script = Arc::new(|_| {
        vec![
            Step::Recv,
            Step::Send(binance_trade(1)),
            Step::Send(binance_trade(2)),
            Step::Send(binance_trade(3)),
        ]
    });
    let (coinbase, binance) = (FakeVenue::start(primary).await, FakeVenue::start(backup).await);
    let store: marquee::store::SharedStore =
        Arc::new(marquee::store::SqliteStore::in_memory().expect("store"));
    let events = Events::new(Arc::new(InProcessBus::new(16)), store, "driver");
    let mut told = events.subscribe();

    let stats = FeedStats::new(Venue::Coinbase);
    let (out, mut ticks) = mpsc::channel(64);
    let shown = [("BTC-USD".to_owned(), "BTC-USD".to_owned())];
    let resume = vec![Resume { symbol: "BTC-USD".into(), last_seq: 10, reference: None }];
    let settings = quick(coinbase.url());
    let bound = settings.silence + settings.backoff_max;
    let feed = Feed::new(
        Box::new(Coinbase::new(vec!["BTC-USD".into()])),
        settings,
        &shown,
        resume,
        out,
        Arc::clone(&stats),
    )
    .with_failover(
        Box::new(Binance::new(vec!["BTCUSDT".into()])),
        binance.url(),
        &[("BTCUSDT".to_owned(), "BTC-USD".to_owned())],
        Some(events),
    );
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(feed.run(shutdown.clone()));

    let mut got = collect(&mut ticks, 2).await;
    // Coinbase drops right after its second trade.
    let killed = tokio::time::Instant::now();
    got.extend(collect(&mut ticks, 1).await);
    let switched = killed.elapsed();
    assert!(
        switched < bound,
        "the backup's trades flow within the silence timeout and a backoff step: {switched:?}"
    );
    got.extend(collect(&mut ticks, 4).await);
    let prices: Vec<f64> = got.iter().map(|t| t.price).collect();
    assert_eq!(
        prices,
        [60001.5, 60002.5, 70001.5, 70002.5, 70003.5, 60003.5, 60004.5],
        "Coinbase, Binance, Coinbase"
    );
    assert!(got.iter().all(|t| t.symbol == "BTC-USD"), "shown under the primary's symbol");
    let seqs: Vec<u64> = got.iter().map(|t| t.seq).collect();
    assert_eq!(seqs, (11..=17).collect::<Vec<_>>(), "one seq run across both venues");

    let mut switches = Vec::new();
    while switches.len() < 2 {
        let event =
            tokio::time::timeout(Duration::from_secs(5), told.recv()).await.expect("an event").expect("open");
        if let EventKind::FeedSwitched { symbols, from, to, reason } = event.kind {
            assert_eq!(symbols, ["BTC-USD"]);
            switches.push((from, to, reason));
        }
    }
    assert_eq!((switches[0].0.as_str(), switches[0].1.as_str()), ("Coinbase", "Binance"));
    assert!(switches[0].2.contains("attempts failed"), "{}", switches[0].2);
    assert_eq!(
        (switches[1].0.as_str(), switches[1].1.as_str(), switches[1].2.as_str()),
        ("Binance", "Coinbase", "Coinbase is back")
    );
    assert_eq!(stats.status(), FeedStatus::Connected);
    shutdown.cancel();
    running.await.expect("stops");
}
