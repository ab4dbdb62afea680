//! The venues' feeds against local venues (`fake_venue.rs`) speaking their
//! documented protocols: the handshakes (Coinbase's and Binance's
//! subscriptions, Finnhub's key in the URL, Alpaca's auth then subscribe)
//! and trade normalisation, a venue's announced close, a bad key or symbol;
//! and the key never in a log line. Every venue through every fault:
//! `venue_faults.rs`.

use std::sync::Arc;
use std::time::Duration;

use marquee::driver::feed::{Feed, FeedSettings, FeedStats, FeedStatus};
use marquee::metrics::feeds::{FeedMeter, dependency};
use marquee::sources::feed::Resume;
use marquee::sources::venues::Venue;
use marquee::sources::venues::coinbase::Coinbase;
use marquee_shared::Tick;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::fake_venue::{FakeVenue, Script, Step};

fn fixture(name: &str) -> String {
    crate::fake_venue::fixture("coinbase", name)
}

pub fn quick(url: String) -> FeedSettings {
    FeedSettings {
        url,
        connect_timeout: Duration::from_secs(2),
        ping_every: Duration::from_millis(100),
        silence: Duration::from_secs(2),
        backoff_first: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        probe_every: Duration::from_millis(150),
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
pub async fn collect(ticks: &mut mpsc::Receiver<Vec<Tick>>, count: usize) -> Vec<Tick> {
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
    let script: Script = Arc::new(|_| {
        vec![Step::Recv, Step::Send(fixture("subscriptions.json")), Step::Send(fixture("match.json"))]
    });
    let venue = FakeVenue::start(script).await;
    let stats = FeedStats::new(Venue::Coinbase);
    let (feed, mut ticks) = feed(quick(venue.url()), &stats);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(feed.run(shutdown.clone()));

    let tick = collect(&mut ticks, 1).await.remove(0);
    assert_eq!((tick.symbol.as_str(), tick.seq, tick.price, tick.size), ("BTC-USD", 1, 400.23, 5.23512));
    assert_eq!(tick.ts, 1_415_348_367_028_459_000, "the venue's event time");
    let sent: serde_json::Value = serde_json::from_str(&venue.received()[0]).expect("json");
    let documented: serde_json::Value =
        serde_json::from_str(&fixture("subscribe.json").replace(r#","ETH-USD""#, "")).expect("json");
    assert_eq!(sent, documented);
    assert_eq!(stats.status(), FeedStatus::Connected);
    shutdown.cancel();
    running.await.expect("stops");
    assert_eq!(stats.status(), FeedStatus::Stopped);
}

/// A feed of `protocol` for `symbols` on `settings`, starting at seq 1.
pub fn feed_of(
    protocol: Box<dyn marquee::sources::venues::Protocol>,
    symbols: &[&str],
    settings: FeedSettings,
    stats: &Arc<FeedStats>,
) -> (Feed, mpsc::Receiver<Vec<Tick>>) {
    let (out, ticks) = mpsc::channel(64);
    let named: Vec<(String, String)> = symbols.iter().map(|s| (s.to_string(), s.to_string())).collect();
    let resume =
        symbols.iter().map(|s| Resume { symbol: s.to_string(), last_seq: 0, reference: None }).collect();
    (Feed::new(protocol, settings, &named, resume, out, Arc::clone(stats)), ticks)
}

async fn until_status(stats: &FeedStats, what: &str, done: impl Fn(&FeedStatus) -> bool) -> FeedStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = stats.status();
        if done(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "{what}: still {status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn binance_subscribes_reads_wrapped_trades_and_reconnects_when_told_it_closes() {
    use marquee::sources::venues::binance::Binance;
    let trade = |id: u64| {
        format!(
            r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":{id},"p":"16541.8{id}","q":"0.0012","T":1672515782134,"m":false,"M":true}}}}"#
        )
    };
    let script: Script = Arc::new(move |n| match n {
        0 => vec![
            Step::Recv,
            Step::Send(crate::fake_venue::fixture("binance", "subscribed.json")),
            Step::Send(trade(1)),
            Step::Send(crate::fake_venue::fixture("binance", "server_shutdown.json")),
        ],
        _ => vec![Step::Recv, Step::Send(trade(1)), Step::Send(trade(2))],
    });
    let venue = FakeVenue::start(script).await;
    let stats = FeedStats::new(Venue::Binance);
    let binance = Box::new(Binance::new(vec!["BTCUSDT".into()]));
    let (feed, mut ticks) = feed_of(binance, &["BTCUSDT"], quick(venue.url()), &stats);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(feed.run(shutdown.clone()));

    let got = collect(&mut ticks, 2).await;
    assert_eq!(got.iter().map(|t| (t.seq, t.price)).collect::<Vec<_>>(), [(1, 16541.81), (2, 16541.82)]);
    assert_eq!(got[0].ts, 1_672_515_782_134_000_000, "the trade time, not the event time");
    let subscribe: serde_json::Value = serde_json::from_str(&venue.received()[0]).expect("json");
    assert_eq!(subscribe, serde_json::json!({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 1}));
    assert_eq!(
        (venue.connections(), stats.counts().duplicates),
        (2, 1),
        "reconnected at once; the repeat dropped"
    );
    shutdown.cancel();
    running.await.expect("stops");
}

#[tokio::test]
async fn finnhub_sends_the_key_in_the_url_and_a_refused_key_fails_the_feed_without_logging_it() {
    use marquee::config::Secret;
    use marquee::sources::venues::finnhub::Finnhub;
    crate::logs::capture();
    const KEY: &str = "finnhub-key-never-logged-7f2d";
    let script: Script = Arc::new(|n| match n {
        0 => vec![
            Step::Recv,
            Step::Recv,
            Step::Send(crate::fake_venue::fixture("finnhub", "trade.json")),
            Step::Send(crate::fake_venue::fixture("finnhub", "ping.json")),
            Step::Drop,
        ],
        _ => vec![Step::Reject(401)],
    });
    let venue = FakeVenue::start(script).await;
    let stats = FeedStats::new(Venue::Finnhub);
    let finnhub =
        Box::new(Finnhub::new(vec!["BINANCE:BTCUSDT".into(), "AAPL".into()], Some(Secret::new(KEY))));
    let (feed, mut ticks) = feed_of(finnhub, &["BINANCE:BTCUSDT", "AAPL"], quick(venue.url()), &stats);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(feed.run(shutdown.clone()));

    let tick = collect(&mut ticks, 1).await.remove(0);
    assert_eq!((tick.symbol.as_str(), tick.price, tick.size), ("BINANCE:BTCUSDT", 7296.89, 0.011467));
    let FeedStatus::Failed { reason } =
        until_status(&stats, "refused", |s| matches!(s, FeedStatus::Failed { .. })).await
    else {
        unreachable!()
    };
    assert!(reason.contains("401") && reason.contains("FINNHUB_API_KEY"), "{reason}");
    assert_eq!(venue.urls()[0], format!("/?token={KEY}"), "the key went where Finnhub wants it");
    let subscribes: Vec<serde_json::Value> =
        venue.received().iter().map(|f| serde_json::from_str(f).expect("json")).collect();
    assert_eq!(subscribes[1], serde_json::json!({"type": "subscribe", "symbol": "AAPL"}));
    shutdown.cancel();
    running.await.expect("stops");
    crate::logs::assert_absent_where(KEY, "HTTP 401 Unauthorized at the upgrade");
}

#[tokio::test]
async fn alpaca_authenticates_subscribes_and_a_refused_key_is_a_typed_failure() {
    use marquee::config::Secret;
    use marquee::sources::venues::alpaca::Alpaca;
    crate::logs::capture();
    const SECRET: &str = "alpaca-secret-never-logged-91c3";
    let fx = |name: &str| crate::fake_venue::fixture("alpaca", name);
    let script: Script = Arc::new(move |n| match n {
        0 => vec![
            Step::Send(fx("connected.json")),
            Step::Recv,
            Step::Send(fx("authenticated.json")),
            Step::Recv,
            Step::Send(fx("subscription.json")),
            Step::Send(fx("trades.json")),
            Step::Drop,
        ],
        _ => vec![Step::Send(fx("connected.json")), Step::Recv, Step::Send(fx("error_auth_failed.json"))],
    });
    let venue = FakeVenue::start(script).await;
    let stats = FeedStats::new(Venue::Alpaca);
    let alpaca = Box::new(Alpaca::new(
        vec!["AAPL".into(), "FAKEPACA".into()],
        Some(Secret::new("AKTESTKEYID")),
        Some(Secret::new(SECRET)),
    ));
    let (feed, mut ticks) = feed_of(alpaca, &["AAPL", "FAKEPACA"], quick(venue.url()), &stats);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(feed.run(shutdown.clone()));

    let got = collect(&mut ticks, 2).await;
    assert_eq!(
        got.iter().map(|t| (t.symbol.as_str(), t.price, t.size)).collect::<Vec<_>>(),
        [("AAPL", 126.55, 1.0), ("FAKEPACA", 109.17, 100.0)]
    );
    let FeedStatus::Failed { reason } =
        until_status(&stats, "refused", |s| matches!(s, FeedStatus::Failed { .. })).await
    else {
        unreachable!()
    };
    assert!(reason.contains("402 auth failed") && reason.contains("ALPACA_API_KEY_ID"), "{reason}");
    let sent: Vec<serde_json::Value> =
        venue.received().iter().map(|f| serde_json::from_str(f).expect("json")).collect();
    assert_eq!(sent[0], serde_json::json!({"action": "auth", "key": "AKTESTKEYID", "secret": SECRET}));
    assert_eq!(sent[1], serde_json::json!({"action": "subscribe", "trades": ["AAPL", "FAKEPACA"]}));
    shutdown.cancel();
    running.await.expect("stops");
    crate::logs::assert_absent_where(SECRET, "402 auth failed");
}

#[tokio::test]
async fn an_unknown_product_fails_with_a_typed_reason_and_is_not_retried_in_a_tight_loop() {
    let script: Script = Arc::new(|_| vec![Step::Recv, Step::Send(fixture("error_unknown_product.json"))]);
    let venue = FakeVenue::start(script).await;
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
    let figures = stats.measure(1.0);
    assert_eq!((figures.venue.as_str(), figures.status), ("coinbase", marquee_shared::Status::Down));
    let health = dependency(&figures);
    assert_eq!(health.name, "feed coinbase");
    assert!(
        health.detail.starts_with("Coinbase: failed: Coinbase does not know \"BTC-XXX\""),
        "{}",
        health.detail
    );
    shutdown.cancel();
    running.await.expect("stops");
}
