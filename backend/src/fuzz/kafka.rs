//! Kafka records from another process: ticks, bars, alerts and heartbeats,
//! decoded as the consumers decode them and handed to what reads them next
//! (the receiver's buffer and analytics, the hub's market, the list of
//! instances). A case is a batch: one payload per line.

use std::time::{Duration, Instant};

use marquee_shared::{
    Alert, AlertKind, AnalyzedBar, BarInterval, Indicators, Instance, OhlcvBar, ServerMessage, Severity,
    SimulationState, Status, Tick,
};
use serde::Serialize;

use super::{Seeds, fuzz, inputs::cases};
use crate::analytics::{Analytics, Output};
use crate::cluster::cluster_key::ClusterKey;
use crate::cluster::instances::{Heartbeat, Instances, ThisInstance};
use crate::config::{Role, Roles, Secret};
use crate::hub::encode;
use crate::hub::market::Market;
use crate::kafka::{BarRecord, decode, decode_ticks, encode_ticks};
use crate::receiver::buffer::{BufferLimits, Pushed, TickBuffer};

fn payloads(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|&b| b == b'\n')
}

/// Each record as a line of JSON, as the producers send them.
fn lines<T: Serialize>(records: &[T]) -> Vec<u8> {
    let lines: Vec<String> = records.iter().map(|r| serde_json::to_string(r).expect("JSON")).collect();
    lines.join("\n").into_bytes()
}

fn tick(symbol: &str, seq: u64, ts: i64, price: f64, size: f64) -> Tick {
    Tick {
        symbol: symbol.into(),
        seq,
        ts,
        price,
        size,
        change: price - 100.0,
        change_pct: (price - 100.0) / 100.0,
    }
}

fn assert_bar(bar: &OhlcvBar) {
    assert!(bar.low <= bar.open.min(bar.close) && bar.high >= bar.open.max(bar.close), "{bar:?}");
    assert!(bar.trades >= 1 && bar.start % bar.interval.nanos() == 0, "{bar:?}");
    assert!(bar.vwap >= bar.low && bar.vwap <= bar.high, "VWAP outside the bar: {bar:?}");
}

fn tick_batch(bytes: &[u8]) {
    let records = payloads(bytes).filter_map(|p| decode_ticks(p).ok());
    let ticks: Vec<Tick> = records.flatten().flatten().collect();
    let limits = BufferLimits { capacity: 8, batch: 4, max_age: Duration::from_millis(1) };
    let mut buffer = TickBuffer::new(limits);
    let mut analytics = Analytics::default();
    let mut market = Market::new(4);
    let mut output = Output::default();
    for tick in &ticks {
        market.apply(tick);
        if buffer.is_duplicate(tick) {
            continue;
        }
        analytics.on_tick(tick, &mut output);
        if let Pushed::Full(refused) = buffer.push(tick.clone(), Instant::now()) {
            let flushed = buffer.take();
            assert!(flushed.windows(2).all(|w| (&w[0].symbol, w[0].ts) <= (&w[1].symbol, w[1].ts)));
            assert_eq!(buffer.push(refused, Instant::now()), Pushed::Accepted);
        }
    }
    for bar in output.bars.iter().chain(&analytics.forming_bars()) {
        assert_bar(&bar.bar);
    }
    for quote in market.quotes() {
        assert_eq!(market.last_seqs().get(&quote.symbol), Some(&quote.seq));
    }
    assert!(encode(&ServerMessage::Ticks { ticks }).is_some());
    assert!(encode(&ServerMessage::Bars { bars: output.bars, closed: true }).is_some());
}

#[test]
fn ticks() {
    let day = 86_400_000_000_000;
    let seeds = Seeds::new(
        [
            (
                "ticks",
                lines(&[
                    tick("IBM", 1, day, 100.5, 10.0),
                    tick("IBM", 2, day + 1, 101.0, 0.0),
                    tick("MSFT", 1, day, 3.0, 7.0),
                ]),
            ),
            (
                "records of several ticks",
                [
                    encode_ticks(&[tick("IBM", 3, day + 2, 100.0, 1.0), tick("KO", 1, day, 60.0, 2.0)])
                        .expect("JSON"),
                    encode_ticks(&[tick("IBM", 4, day + 3, 100.5, 3.0)]).expect("JSON"),
                ]
                .join(&b'\n'),
            ),
            (
                "ticks over bars",
                lines(&[
                    tick("IBM", 7, 60_000_000_000, 99.0, 5.0),
                    tick("IBM", 8, 3_600_000_000_000, 98.0, 5.0),
                    tick("IBM", 9, 3_600_000_000_001, 120.0, 1.0),
                ]),
            ),
        ],
        &["symbol", "seq", "ts", "price", "size"],
    );
    fuzz("kafka::ticks", cases(seeds), tick_batch);
}

fn bar_batch(bytes: &[u8]) {
    let mut market = Market::new(4);
    let mut bars = Vec::new();
    for record in payloads(bytes).filter_map(|p| decode::<BarRecord>(p).ok()) {
        market.apply_bar(&record.bar);
        bars.push(record.bar);
    }
    for held in market.forming_bars() {
        let newest =
            bars.iter().filter(|b| (&b.bar.symbol, b.bar.interval) == (&held.bar.symbol, held.bar.interval));
        assert_eq!(newest.map(|b| b.bar.start).max(), Some(held.bar.start), "{held:?}");
    }
    assert!(encode(&ServerMessage::Bars { bars, closed: false }).is_some());
}

fn bar(symbol: &str, interval: BarInterval, start: i64) -> AnalyzedBar {
    let bar = OhlcvBar {
        symbol: symbol.into(),
        interval,
        start,
        open: 10.0,
        high: 12.0,
        low: 9.5,
        close: 11.0,
        volume: 40.0,
        vwap: 10.5,
        trades: 3,
    };
    AnalyzedBar {
        bar,
        indicators: Indicators { sma20: Some(10.2), rsi14: Some(55.0), ..Indicators::default() },
    }
}

#[test]
fn bars() {
    let records = [
        BarRecord { closed: true, bar: bar("IBM", BarInterval::OneMinute, 60_000_000_000) },
        BarRecord { closed: false, bar: bar("IBM", BarInterval::FiveMinutes, 300_000_000_000) },
        BarRecord { closed: false, bar: bar("MSFT", BarInterval::FifteenMinutes, 0) },
    ];
    let seeds = Seeds::new(
        [("bars", lines(&records))],
        &["closed", "bar", "interval", "start", "indicators", "1m", "5m", "15m"],
    );
    fuzz("kafka::bars", cases(seeds), bar_batch);
}

fn alert_batch(bytes: &[u8]) {
    for alert in payloads(bytes).filter_map(|p| decode::<Alert>(p).ok()) {
        assert!(encode(&ServerMessage::Alert { alert }).is_some());
    }
}

#[test]
fn alerts() {
    let alert = |kind, severity, value, threshold| Alert {
        symbol: "IBM".into(),
        kind,
        severity,
        value,
        threshold,
        ts: 1_700_000_000_000_000_000,
    };
    let records = [
        alert(AlertKind::PriceJump, Severity::Critical, -9.5, -4.0),
        alert(AlertKind::VolumeSpike, Severity::Warning, 3.2, 3.0),
        alert(AlertKind::RsiOverbought, Severity::Info, 71.0, 70.0),
    ];
    let seeds = Seeds::new(
        [("alerts", lines(&records))],
        &["price_jump", "volume_spike", "rsi_oversold", "critical", "info"],
    );
    fuzz("kafka::alerts", cases(seeds), alert_batch);
}

fn heartbeat_batch(bytes: &[u8]) {
    let key = ClusterKey::new(&Secret::new("the fuzzed cluster's secret")).expect("key");
    let this = ThisInstance {
        id: "this".into(),
        roles: Roles::from_iter([Role::Gateway]),
        address: "http://this".into(),
        key: Some(key.clone()),
    };
    let instances = Instances::new(&this);
    for payload in payloads(bytes) {
        // Unsigned, nothing is even parsed; signed, the parse and the list
        // take whatever the bytes say.
        assert!(instances.receive(payload, None).is_err(), "an unsigned heartbeat was taken");
        let signature = key.sign_heartbeat(payload);
        instances.receive(payload, Some(signature.as_bytes())).ok();
    }
    let now = Instant::now();
    let others = instances.others(now);
    assert!(others.iter().all(|o| o.id != this.id), "this process listed as another: {others:?}");
    instances.simulation(now);
    if let Some(address) = instances.address_of(Role::Driver, now) {
        assert!(
            others.iter().any(|o| o.address == address && o.roles.iter().any(|r| r == "driver")),
            "{address}"
        );
    }
}

#[test]
fn heartbeats() {
    let now = crate::common::time::now_ns();
    let beat = |id: &str, roles: &[&str], seen: i64, simulation| Heartbeat {
        instance: Instance {
            id: id.into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            address: format!("http://{id}:8080"),
            status: Status::Up,
            seen,
            uptime_ms: 1_000,
            stages: Vec::new(),
            dependencies: Vec::new(),
        },
        simulation,
    };
    let records = [
        beat("driver-1", &["driver"], now, Some(SimulationState::Running { symbols: 5, speed: 2.0 })),
        beat("receiver-1", &["receiver", "ingest"], now - 1_000_000_000, None),
        beat("this", &["gateway"], now, None),
    ];
    let seeds = Seeds::new(
        [("heartbeats", lines(&records))],
        &["instance", "seen", "roles", "driver", "simulation", "running"],
    );
    fuzz("kafka::heartbeats", cases(seeds), heartbeat_batch);
}
