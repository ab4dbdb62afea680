use marquee_shared::{Bar, DataSource, SimulationState};

use super::*;
use crate::store::SqliteStore;

fn tick(symbol: &str, seq: u64, price: f64) -> Tick {
    Tick { symbol: symbol.into(), seq, ts: seq as i64, price, size: 1.0, change: 0.0, change_pct: 0.0 }
}

fn stopped() -> SimulationView {
    SimulationView { state: SimulationState::Stopped { symbols: 0 }, symbols: vec![] }
}

struct Running {
    input: mpsc::Sender<Update>,
    view: watch::Sender<SimulationView>,
    handle: HubHandle,
    task: tokio::task::JoinHandle<()>,
}

fn start(store: SharedStore, history: usize) -> Running {
    let (input, rx) = mpsc::channel(4);
    let (view, view_rx) = watch::channel(stopped());
    let (_events_tx, events) = broadcast::channel(4);
    let settings = HubSettings { client_queue: 8, history };
    let (hub, handle) = Hub::new(
        rx,
        view_rx,
        events,
        store,
        settings,
        Arc::new(StageStats::new(crate::common::Stage::Gateway)),
    );
    let task = tokio::spawn(hub.run(CancellationToken::new()));
    Running { input, view, handle, task }
}

fn empty_store() -> SharedStore {
    Arc::new(SqliteStore::in_memory().expect("store"))
}

#[tokio::test]
async fn a_subscriber_sees_the_snapshot_then_every_later_message() {
    let hub = start(empty_store(), 16);
    hub.input.send(Update::Ticks(vec![tick("A", 1, 1.0)])).await.expect("send");
    let mut sub = hub.handle.subscribe().await.expect("subscribe");
    assert!(sub.snapshot.as_str().contains(r#""seq":1"#), "{}", sub.snapshot);
    assert_eq!(*sub.snapshot_seqs, BTreeMap::from([("A".to_owned(), 1)]));

    hub.input.send(Update::Ticks(vec![tick("A", 2, 2.0)])).await.expect("send");
    let quotes = hub.handle.quotes().await.expect("quotes");
    assert_eq!(quotes.iter().map(|t| t.seq).collect::<Vec<_>>(), [2]);
    let next = sub.updates.recv().await.expect("update");
    assert_eq!(next.channel, Some(Channel::Ticks));
    assert!(next.frame.as_str().starts_with(r#"{"type":"ticks""#), "{}", next.frame);
    assert!(matches!(&next.message, ServerMessage::Ticks { ticks } if ticks[0].seq == 2));

    hub.view.send_replace(SimulationView {
        state: SimulationState::Paused { symbols: 1, speed: 1.0 },
        symbols: vec![],
    });
    let change = sub.updates.recv().await.expect("update");
    assert_eq!(change.channel, None, "simulation changes go to every client");
    assert!(change.frame.as_str().contains("paused"), "{}", change.frame);

    drop(hub.input);
    hub.task.await.expect("hub ends when its input closes");
    assert!(matches!(sub.updates.recv().await, Err(RecvError::Closed)));
    assert!(hub.handle.subscribe().await.is_err());
}

#[tokio::test]
async fn history_from_the_store_lets_a_client_resume_after_a_restart() {
    let store = empty_store();
    store
        .upsert_daily_bars(vec![Bar {
            symbol: "A".into(),
            ts: 0,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 1,
            source: DataSource::Synthetic,
        }])
        .await
        .expect("bars");
    store.insert_ticks((1..=30).map(|seq| tick("A", seq, seq as f64)).collect()).await.expect("ticks");

    let hub = start(store, 20);
    let sub = hub.handle.subscribe().await.expect("subscribe");
    assert_eq!(sub.snapshot_seqs.get("A"), Some(&30), "the snapshot starts where the store ends");
    let range = |after| vec![ReplayRange { symbol: "A".into(), after, upto: 30 }];
    let replay = hub.handle.replay(range(25)).await.expect("replay");
    assert_eq!(replay.ticks.iter().map(|t| t.seq).collect::<Vec<_>>(), [26, 27, 28, 29, 30]);
    let too_old = hub.handle.replay(range(5)).await.expect("replay");
    assert_eq!((too_old.ticks.len(), too_old.missing), (0, 25), "only 20 ticks are held");
}

#[tokio::test]
async fn metrics_and_forming_bars_are_in_the_next_snapshot() {
    let hub = start(empty_store(), 4);
    let metrics = Metrics { ts: 9, uptime_ms: 1, throughput: vec![5.0], ..Metrics::default() };
    hub.input.send(Update::Metrics(metrics.clone())).await.expect("send");
    let sub = hub.handle.subscribe().await.expect("subscribe");
    let snapshot: ServerMessage = serde_json::from_str(sub.snapshot.as_str()).expect("json");
    let ServerMessage::Snapshot { metrics: held, .. } = snapshot else { panic!("snapshot") };
    assert_eq!(held, Some(Box::new(metrics)));
}

#[tokio::test]
async fn clients_connecting_between_two_changes_share_one_snapshot() {
    let hub = start(empty_store(), 4);
    hub.input.send(Update::Ticks(vec![tick("A", 1, 1.0)])).await.expect("send");
    let first = hub.handle.subscribe().await.expect("subscribe");
    let second = hub.handle.subscribe().await.expect("subscribe");
    assert!(std::ptr::eq(first.snapshot.as_str().as_ptr(), second.snapshot.as_str().as_ptr()), "built once");
    hub.input.send(Update::Ticks(vec![tick("A", 2, 2.0)])).await.expect("send");
    let third = hub.handle.subscribe().await.expect("subscribe");
    assert!(third.snapshot.as_str().contains(r#""seq":2"#), "a change makes a new one: {}", third.snapshot);
    assert_eq!(*third.snapshot_seqs, BTreeMap::from([("A".to_owned(), 2)]));
}

fn forming(symbol: &str, close: f64) -> marquee_shared::AnalyzedBar {
    marquee_shared::AnalyzedBar {
        bar: marquee_shared::OhlcvBar {
            symbol: symbol.into(),
            interval: marquee_shared::BarInterval::OneMinute,
            start: 60_000_000_000,
            open: 1.0,
            high: close.max(1.0),
            low: 1.0,
            close,
            volume: 1.0,
            vwap: 1.0,
            trades: 1,
        },
        indicators: marquee_shared::Indicators::default(),
    }
}

#[tokio::test]
async fn forming_bars_go_out_only_when_they_changed() {
    let hub = start(empty_store(), 4);
    let mut sub = hub.handle.subscribe().await.expect("subscribe");
    hub.input.send(Update::Forming(vec![forming("A", 2.0), forming("B", 3.0)])).await.expect("send");
    hub.input.send(Update::Forming(vec![forming("A", 2.0), forming("B", 4.0)])).await.expect("send");
    hub.input.send(Update::Forming(vec![forming("A", 2.0), forming("B", 4.0)])).await.expect("send");
    hub.input.send(Update::Ticks(vec![tick("A", 1, 1.0)])).await.expect("send");
    let mut sent = Vec::new();
    loop {
        let envelope = sub.updates.recv().await.expect("update");
        match &envelope.message {
            ServerMessage::Bars { bars, closed: false } => {
                sent.push(bars.iter().map(|b| (b.bar.symbol.clone(), b.bar.close)).collect::<Vec<_>>());
            }
            ServerMessage::Ticks { .. } => break,
            _ => {}
        }
    }
    let (a, b) = ("A".to_owned(), "B".to_owned());
    assert_eq!(sent, [vec![(a, 2.0), (b.clone(), 3.0)], vec![(b, 4.0)]], "the unchanged ones are left out");
}
