use super::*;

fn tick(symbol: &str, seq: u64, price: f64) -> Tick {
    Tick {
        symbol: symbol.into(),
        seq,
        ts: 0,
        price,
        size: 100.0,
        change: price - 100.0,
        change_pct: price - 100.0,
    }
}

fn ticks(ticks: Vec<Tick>) -> ServerMessage {
    ServerMessage::Ticks { ticks }
}

fn snapshot(quotes: Vec<Tick>) -> ServerMessage {
    let running = SimulationState::Running { symbols: 2, speed: 1.0 };
    snapshot_of(running, quotes, BTreeMap::new(), vec![])
}

fn snapshot_of(
    simulation: SimulationState,
    quotes: Vec<Tick>,
    sparklines: BTreeMap<String, Vec<f64>>,
    bars: Vec<AnalyzedBar>,
) -> ServerMessage {
    ServerMessage::Snapshot {
        server_time: 1,
        simulation,
        symbols: vec![],
        quotes,
        sparklines,
        bars,
        metrics: None,
        health: None,
    }
}

fn info(symbol: &str, source: DataSource) -> SymbolInfo {
    SymbolInfo { symbol: symbol.into(), name: None, source, feed: None }
}

#[test]
fn symbols_and_the_simulation_state_come_from_the_server() {
    let mut state = MarketState::default();
    assert_eq!(state.simulation, None);
    state.apply(ServerMessage::Simulation {
        state: SimulationState::Waiting { have: 2, need: 5 },
        symbols: vec![info("KO", DataSource::Csv), info("IBM", DataSource::AlphaVantage)],
    });
    assert_eq!(state.simulation, Some(SimulationState::Waiting { have: 2, need: 5 }));
    assert_eq!(state.symbols(), ["IBM", "KO"], "known symbols show before they tick");
    assert_eq!(state.sources(), [DataSource::AlphaVantage, DataSource::Csv]);
    assert_eq!(state.info("KO").map(|i| i.source), Some(DataSource::Csv));
}

#[test]
fn a_snapshot_lists_symbols_in_order_without_counting_ticks() {
    let mut state = MarketState::default();
    state.apply(snapshot(vec![tick("MSFT", 4, 1.0), tick("AAPL", 9, 2.0)]));
    assert_eq!(state.symbols(), ["AAPL", "MSFT"]);
    assert_eq!(state.stream.ticks_received, 0);
    assert_eq!(state.quote("AAPL").map(|q| q.tick.seq), Some(9));
}

#[test]
fn ticks_update_price_and_direction() {
    let mut state = MarketState::default();
    state.apply(ticks(vec![tick("AAPL", 1, 100.0)]));
    state.apply(ticks(vec![tick("AAPL", 2, 101.0)]));
    assert_eq!(state.quote("AAPL").map(|q| (q.tick.price, q.last_move)), Some((101.0, Move::Up)));
    state.apply(ticks(vec![tick("AAPL", 3, 99.5)]));
    assert_eq!(
        state.quote("AAPL").map(|q| (q.tick.price, q.last_move, q.ticks)),
        Some((99.5, Move::Down, 3))
    );
    assert_eq!(state.stream.ticks_received, 3);
}

#[test]
fn duplicates_are_ignored_and_gaps_counted() {
    let mut state = MarketState::default();
    state.apply(ticks(vec![tick("KO", 1, 60.0), tick("KO", 2, 61.0)]));
    state.apply(ticks(vec![tick("KO", 2, 99.0), tick("KO", 1, 98.0)]));
    assert_eq!(state.quote("KO").map(|q| q.tick.price), Some(61.0));
    state.apply(ticks(vec![tick("KO", 6, 62.0)]));
    assert_eq!(state.stream.seqs.gaps(), 3);
    assert_eq!(state.stream.ticks_received, 3);
}

#[test]
fn a_resume_fills_the_gap_behind_a_newer_snapshot() {
    let mut state = MarketState::default();
    state.apply(ticks(vec![tick("A", 1, 10.0), tick("A", 2, 10.5)]));
    assert_eq!(state.last_seqs(), BTreeMap::from([("A".to_owned(), 2)]));
    // Reconnected: the snapshot is at 5, the stream goes on from 6, and
    // the replay of 3..=5 arrives after it.
    state.apply(snapshot(vec![tick("A", 5, 11.0)]));
    state.apply(ticks(vec![tick("A", 6, 11.5)]));
    assert_eq!(state.stream.seqs.gaps(), 3);
    state.apply(ticks(vec![tick("A", 3, 1.0), tick("A", 4, 1.0), tick("A", 5, 11.0)]));
    state.apply(ServerMessage::Resumed { replayed: 3 });
    assert_eq!(
        (state.stream.seqs.gaps(), state.stream.resumed_ticks, state.stream.ticks_received),
        (0, 3, 6)
    );
    assert_eq!(state.quote("A").map(|q| q.tick.price), Some(11.5), "replays do not move the price back");
}

#[test]
fn a_snapshot_after_reconnect_moves_forward_but_never_back() {
    let mut state = MarketState::default();
    state.apply(ticks(vec![tick("A", 5, 10.0)]));
    state.apply(snapshot(vec![tick("A", 3, 9.0)]));
    assert_eq!(state.quote("A").map(|q| q.tick.seq), Some(5));
    state.apply(snapshot(vec![tick("A", 8, 11.0)]));
    assert_eq!(state.quote("A").map(|q| (q.tick.seq, q.last_move)), Some((8, Move::Up)));
    state.apply(ticks(vec![tick("A", 9, 11.5)]));
    assert_eq!(state.quote("A").map(|q| q.tick.seq), Some(9));
}

fn forming_bar(symbol: &str, interval: BarInterval, start: i64, volume: f64) -> AnalyzedBar {
    AnalyzedBar {
        bar: marquee_shared::OhlcvBar {
            symbol: symbol.into(),
            interval,
            start,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume,
            vwap: 1.0,
            trades: 1,
        },
        indicators: Default::default(),
    }
}

#[test]
fn a_snapshot_replaces_what_every_symbol_shows() {
    let mut state = MarketState::default();
    let spark_ticks = |symbol: &str| (1..=20).map(|seq| tick(symbol, seq, seq as f64)).collect();
    state.apply(ticks(spark_ticks("A")));
    state.apply(ticks(spark_ticks("B")));
    state.apply(ServerMessage::Bars {
        bars: vec![
            forming_bar("A", BarInterval::OneMinute, 60, 10.0),
            forming_bar("A", BarInterval::FifteenMinutes, 0, 30.0),
            forming_bar("B", BarInterval::OneMinute, 60, 20.0),
        ],
        closed: false,
    });
    assert_eq!(state.sparkline("B"), [10.0, 20.0]);

    // The server moved on while the page lagged: B left the market, A's
    // 15-minute bar closed, and its 1-minute bar is a new one.
    state.apply(ServerMessage::Lagged { skipped: 40 });
    state.apply(snapshot_of(
        SimulationState::Running { symbols: 1, speed: 1.0 },
        vec![tick("A", 90, 42.0)],
        BTreeMap::from([("A".to_owned(), vec![30.0, 90.0])]),
        vec![forming_bar("A", BarInterval::OneMinute, 120, 5.0)],
    ));
    assert_eq!(state.symbols(), ["A"], "B has no stale row");
    assert_eq!(state.quote("A").map(|q| (q.tick.seq, q.tick.price, q.last_move)), Some((90, 42.0, Move::Up)));
    assert_eq!(state.quote("B"), None);
    assert_eq!(state.sparkline("A"), [30.0, 90.0]);
    assert_eq!(state.sparkline("B"), Vec::<f64>::new());
    assert_eq!(state.forming("A", BarInterval::OneMinute).map(|b| b.bar.volume), Some(5.0));
    assert_eq!(state.forming("A", BarInterval::FifteenMinutes), None, "closed while the page lagged");
    assert_eq!(state.forming("B", BarInterval::OneMinute), None);
    assert_eq!(state.stream.ticks_received, 40, "a snapshot is not ticks");
}

#[test]
fn alerts_are_kept_newest_first_and_bounded() {
    let mut state = MarketState::default();
    for ts in 0..60 {
        let alert = Alert {
            symbol: "A".into(),
            kind: marquee_shared::AlertKind::PriceJump,
            severity: marquee_shared::Severity::Warning,
            value: 6.0,
            threshold: 5.0,
            ts,
        };
        state.apply(ServerMessage::Alert { alert });
    }
    assert_eq!(state.feeds.alerts.len(), crate::state::feeds::RECENT_ALERTS);
    assert_eq!(state.feeds.alerts.front().map(|a| a.ts), Some(59));
}

#[test]
fn lagged_notices_and_errors_are_recorded() {
    let mut state = MarketState::default();
    state.apply(ticks(vec![tick("A", 1, 1.0), tick("A", 5, 1.0)]));
    assert_eq!(state.stream.seqs.gaps(), 3);
    state.apply(ServerMessage::Lagged { skipped: 4 });
    state.apply(ServerMessage::Lagged { skipped: 2 });
    assert_eq!((state.stream.batches_skipped, state.stream.lagged_notices), (6, 2));
    assert_eq!(state.stream.seqs.gaps(), 0, "a lagged notice explains the gap");
    state.apply(ServerMessage::Error { code: marquee_shared::ErrorCode::BadMessage, message: "nope".into() });
    assert_eq!(state.stream.last_error.as_deref(), Some("BadMessage: nope"));
}

#[test]
fn only_the_symbols_that_ticked_are_changed_and_a_snapshot_changes_all() {
    let mut market = MarketState::default();
    market.apply(snapshot(vec![tick("A", 1, 100.0), tick("B", 1, 100.0)]));
    assert!(market.take_changed().all, "a snapshot may change every row");
    market.apply(ticks(vec![tick("A", 2, 101.0), tick("A", 3, 102.0)]));
    market.apply(ticks(vec![tick("A", 3, 102.0)]));
    let changed = market.take_changed();
    assert!(!changed.all);
    assert_eq!(changed.symbols.into_iter().collect::<Vec<_>>(), ["A"]);
    assert_eq!(market.take_changed(), Changed::default(), "taken: nothing left");
    market.apply(ticks(vec![tick("B", 1, 100.0)]));
    assert_eq!(market.take_changed(), Changed::default(), "a repeat changes nothing");
}
