//! Every venue through the same faults, against a local venue speaking its
//! protocol (`fake_venue.rs`): the connection dropped mid-stream, a trade
//! repeated after the reconnect, a skipped trade id, malformed JSON and a
//! 1 MB frame, silence without closing, a clean close, the server restarted
//! on the same port. The feed reconnects and subscribes again each time,
//! drops the repeat, counts the gap where the venue's ids tell one, reports
//! the bad frames without dying, and its ticks' seqs run 1, 2, 3, ... once.

use std::sync::Arc;
use std::time::Duration;

use marquee::config::Secret;
use marquee::driver::feed::FeedStats;
use marquee::sources::venues::alpaca::Alpaca;
use marquee::sources::venues::binance::Binance;
use marquee::sources::venues::coinbase::Coinbase;
use marquee::sources::venues::finnhub::Finnhub;
use marquee::sources::venues::{Ids, Protocol, Venue};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::fake_venue::{FakeVenue, Script, Step, coinbase_trade, fixture};
use crate::feeds::{collect, feed_of, quick};

/// What differs between venues in the fault run.
struct Dialect {
    venue: Venue,
    symbol: &'static str,
    protocol: fn() -> Box<dyn Protocol>,
    /// The frames of a connection before its trades (subscribing).
    handshake: fn() -> Vec<Step>,
    /// Frames the client sends per connection.
    sent_per_connection: usize,
    /// Trade `id` of the symbol: price `6000{id}.5`, size `0.0{id}`.
    trade: fn(u64) -> String,
}

const COINBASE: Dialect = Dialect {
    venue: Venue::Coinbase,
    symbol: "BTC-USD",
    protocol: || Box::new(Coinbase::new(vec!["BTC-USD".into()])),
    handshake: || vec![Step::Recv, Step::Send(fixture("coinbase", "subscriptions.json"))],
    sent_per_connection: 1,
    trade: coinbase_trade,
};

const BINANCE: Dialect = Dialect {
    venue: Venue::Binance,
    symbol: "BTCUSDT",
    protocol: || Box::new(Binance::new(vec!["BTCUSDT".into()])),
    handshake: || vec![Step::Recv, Step::Send(fixture("binance", "subscribed.json"))],
    sent_per_connection: 1,
    trade: |id| {
        format!(
            r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":{id},"p":"6000{id}.5","q":"0.0{id}","T":{},"m":false,"M":true}}}}"#,
            1_672_515_782_000_u64 + id
        )
    },
};

const FINNHUB: Dialect = Dialect {
    venue: Venue::Finnhub,
    symbol: "AAPL",
    protocol: || Box::new(Finnhub::new(vec!["AAPL".into()], Some(Secret::new("test-key")))),
    // Finnhub acknowledges nothing: one subscribe per symbol.
    handshake: || vec![Step::Recv],
    sent_per_connection: 1,
    trade: |id| {
        format!(
            r#"{{"type":"trade","data":[{{"c":["1"],"p":6000{id}.5,"s":"AAPL","t":{},"v":0.0{id}}}]}}"#,
            1_672_348_887_000_u64 + id
        )
    },
};

const ALPACA: Dialect = Dialect {
    venue: Venue::Alpaca,
    symbol: "AAPL",
    protocol: || {
        Box::new(Alpaca::new(vec!["AAPL".into()], Some(Secret::new("key-id")), Some(Secret::new("secret"))))
    },
    handshake: || {
        vec![
            Step::Send(fixture("alpaca", "connected.json")),
            Step::Recv,
            Step::Send(fixture("alpaca", "authenticated.json")),
            Step::Recv,
            Step::Send(fixture("alpaca", "subscription.json")),
        ]
    },
    // The auth message, then the subscription.
    sent_per_connection: 2,
    trade: |id| {
        format!(
            r#"[{{"T":"t","S":"AAPL","i":{id},"x":"V","p":6000{id}.5,"s":0.0{id},"t":"2021-02-22T15:51:44.{id:09}Z","c":["@"],"z":"C"}}]"#
        )
    },
};

/// The local venue's connections, numbered from 0.
fn script(dialect: &'static Dialect) -> Script {
    Arc::new(move |n| {
        let trade = |id| Step::Send((dialect.trade)(id));
        let mut steps = (dialect.handshake)();
        steps.extend(match n {
            // Three trades, then the connection drops mid-stream.
            0 => vec![trade(1), trade(2), trade(3), Step::Drop],
            // Trade 3 again (a repeat after the reconnect), 4 skipped,
            // malformed JSON and a 1 MB frame, then silence without closing.
            1 => vec![
                trade(3),
                trade(5),
                Step::Send("{\"type\":\"trade\",".into()),
                Step::Send(format!(r#"{{"junk":"{}"#, "x".repeat(1 << 20))),
                trade(6),
                Step::Hang,
            ],
            // A clean close after one trade.
            2 => vec![trade(7), Step::Close],
            // Quiet but alive (it answers pings), until the server restarts.
            3 => vec![],
            // The restarted server.
            _ => vec![trade(8), trade(9)],
        });
        steps
    })
}

async fn rides_out_every_fault(dialect: &'static Dialect) {
    let mut venue = FakeVenue::start(script(dialect)).await;
    let stats = FeedStats::new(dialect.venue);
    let (feed, mut ticks) = feed_of((dialect.protocol)(), &[dialect.symbol], quick(venue.url()), &stats);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(feed.run(shutdown.clone()));

    let mut got = collect(&mut ticks, 6).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    // The fourth connection has subscribed (counting accepts could restart mid-handshake).
    while venue.received().len() < 4 * dialect.sent_per_connection {
        assert!(Instant::now() < deadline, "no fourth subscription");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Down for a moment, and back on the same port.
    venue.restart().await;
    got.extend(collect(&mut ticks, 2).await);

    assert!(got.iter().all(|t| t.symbol == dialect.symbol), "{got:?}");
    let trades: Vec<(f64, f64)> = got.iter().map(|t| (t.price, t.size)).collect();
    let expected: Vec<(f64, f64)> = [1, 2, 3, 5, 6, 7, 8, 9]
        .into_iter()
        .map(|id| {
            (format!("6000{id}.5").parse().expect("a price"), format!("0.0{id}").parse().expect("a size"))
        })
        .collect();
    assert_eq!(trades, expected, "every trade once, in order");
    let seqs: Vec<u64> = got.iter().map(|t| t.seq).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>(), "strictly increasing, no repeats");
    let counts = stats.counts();
    assert_eq!(counts.duplicates, 1, "trade 3 sent again after the reconnect");
    let gaps = match dialect.venue.ids() {
        Ids::Contiguous => (1, 1),
        // Ids in no order (or none): a gap cannot be told.
        Ids::Unordered => (0, 0),
    };
    assert_eq!((counts.gaps, counts.missed), gaps, "trade 4 skipped");
    assert_eq!(stats.bad_frames(), 2, "the malformed frame and the 1 MB one");
    assert_eq!(venue.connections(), 5, "reconnected after the drop, the silence, the close and the restart");
    assert_eq!(stats.reconnects(), 4);
    assert_eq!(
        venue.received().len(),
        venue.connections() * dialect.sent_per_connection,
        "subscribed again on every connection"
    );
    shutdown.cancel();
    running.await.expect("stops");
}

#[tokio::test]
async fn coinbase_rides_out_drops_silence_restarts_repeats_gaps_and_bad_frames() {
    rides_out_every_fault(&COINBASE).await;
}

#[tokio::test]
async fn binance_rides_out_drops_silence_restarts_repeats_gaps_and_bad_frames() {
    rides_out_every_fault(&BINANCE).await;
}

#[tokio::test]
async fn finnhub_rides_out_drops_silence_restarts_repeats_and_bad_frames() {
    rides_out_every_fault(&FINNHUB).await;
}

#[tokio::test]
async fn alpaca_rides_out_drops_silence_restarts_repeats_and_bad_frames() {
    rides_out_every_fault(&ALPACA).await;
}
