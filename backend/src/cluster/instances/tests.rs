use super::*;

fn beat(id: &str, roles: &[&str], seen: i64, simulation: Option<SimulationState>) -> Heartbeat {
    Heartbeat {
        instance: Instance {
            id: id.into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            address: format!("http://{id}"),
            status: Status::Up,
            seen,
            uptime_ms: 0,
            stages: vec![],
            dependencies: vec![],
        },
        simulation,
    }
}

fn key() -> ClusterKey {
    ClusterKey::new(&crate::config::Secret::new("the cluster's own secret")).expect("long enough")
}

fn instances() -> Instances {
    Instances::new(&ThisInstance {
        id: "me".into(),
        roles: Roles::all(),
        address: "http://me".into(),
        key: Some(key()),
    })
}

/// Sent `ago` before the clock reads 1000 s.
const NOW_NS: i64 = 1_000_000_000_000;

#[test]
fn silent_instances_turn_down_then_disappear() {
    let list = instances();
    let start = Instant::now();
    list.record_at(beat("me", &["gateway"], 1, None), start, 1).expect("recorded");
    list.record_at(beat("r1", &["receiver"], 1, None), start, 1).expect("recorded");
    list.record_at(beat("d1", &["driver"], 1, None), start + Duration::from_secs(4), 1).expect("recorded");
    let at = |s: u64| list.others(start + Duration::from_secs(s));
    let statuses = |v: Vec<Instance>| v.into_iter().map(|i| (i.id, i.status)).collect::<Vec<_>>();
    assert_eq!(statuses(at(1)), [("d1".into(), Status::Up), ("r1".into(), Status::Up)], "own beats ignored");
    assert_eq!(statuses(at(6)), [("d1".into(), Status::Up), ("r1".into(), Status::Down)]);
    assert_eq!(statuses(at(62)), [("d1".into(), Status::Down)]);
    assert_eq!(statuses(at(65)), Vec::<(String, Status)>::new());
}

#[test]
fn the_simulation_and_addresses_come_from_live_instances_only() {
    let list = instances();
    let start = Instant::now();
    let running = SimulationState::Stopped { symbols: 7 };
    list.record_at(beat("d1", &["ingest", "driver"], 1, Some(running)), start, 1).expect("recorded");
    assert_eq!(list.simulation(start + Duration::from_secs(1)), Some(running));
    assert_eq!(list.address_of(Role::Driver, start).as_deref(), Some("http://d1"));
    assert_eq!(list.address_of(Role::Receiver, start), None);
    assert_eq!(list.simulation(start + STALE_AFTER), None, "a silent driver says nothing");
    assert_eq!(list.address_of(Role::Driver, start + STALE_AFTER), None);
}

#[test]
fn an_older_heartbeat_arriving_late_does_not_replace_a_newer_one() {
    let list = instances();
    let start = Instant::now();
    list.record_at(beat("r1", &["receiver"], 20, None), start, 20).expect("recorded");
    list.record_at(beat("r1", &["receiver"], 10, None), start + Duration::from_secs(1), 20)
        .expect("recorded");
    assert_eq!(list.others(start + Duration::from_secs(2))[0].seen, 20);
}

#[test]
fn a_heartbeat_from_the_future_is_ignored() {
    let list = instances();
    let start = Instant::now();
    let refused = list.record_at(beat("d1", &["driver"], i64::MAX, None), start, NOW_NS);
    assert!(matches!(refused, Err(HeartbeatRefused::Future(_))), "{refused:?}");
    let refused = list.record_at(beat("d2", &["driver"], NOW_NS + 60_000_000_000, None), start, NOW_NS);
    assert!(matches!(refused, Err(HeartbeatRefused::Future(60))), "{refused:?}");
    assert!(list.others(start).is_empty(), "{:?}", list.others(start));
    assert_eq!(list.address_of(Role::Driver, start), None);
    // Within the clocks' skew it is an ordinary heartbeat.
    list.record_at(beat("d3", &["driver"], NOW_NS + 2_000_000_000, None), start, NOW_NS).expect("recorded");
    assert_eq!(list.others(start).len(), 1);
}

#[test]
fn a_heartbeat_sent_long_ago_does_not_say_its_sender_is_alive() {
    let list = instances();
    let start = Instant::now() + Duration::from_secs(100);
    let old = NOW_NS - 30_000_000_000;
    list.record_at(
        beat("d1", &["driver"], old, Some(SimulationState::Stopped { symbols: 1 })),
        start,
        NOW_NS,
    )
    .expect("recorded");
    assert_eq!(list.others(start)[0].status, Status::Down, "30 s late");
    assert_eq!(list.address_of(Role::Driver, start), None);
    list.record_at(beat("d1", &["driver"], NOW_NS - 1_000_000_000, None), start, NOW_NS).expect("recorded");
    assert_eq!(list.others(start)[0].status, Status::Up, "a second late is fine");
}

/// Found by fuzzing (`fuzz::kafka::heartbeats`): `seen: i64::MIN`
/// overflowed working out how late the heartbeat was.
#[test]
fn a_heartbeat_dated_before_any_clock_is_late_not_a_panic() {
    let list = instances();
    let start = Instant::now() + Duration::from_secs(100);
    list.record_at(beat("d1", &["driver"], i64::MIN, None), start, NOW_NS).expect("recorded");
    assert_eq!(list.others(start)[0].status, Status::Down);
}

#[test]
fn only_heartbeats_signed_with_the_cluster_secret_are_listed() {
    let list = instances();
    let heartbeat = beat("d1", &["driver"], crate::common::time::now_ns(), None);
    let payload = serde_json::to_vec(&heartbeat).expect("json");
    let forger = ClusterKey::new(&crate::config::Secret::new("not the cluster's secret")).expect("key");
    assert!(matches!(list.receive(&payload, None), Err(HeartbeatRefused::Unsigned)));
    let forged = forger.sign_heartbeat(&payload);
    assert!(matches!(list.receive(&payload, Some(forged.as_bytes())), Err(HeartbeatRefused::Signature)));
    assert!(list.others(Instant::now()).is_empty(), "nothing forged is listed");
    assert_eq!(list.address_of(Role::Driver, Instant::now()), None);

    let signed = key().sign_heartbeat(&payload);
    list.receive(&payload, Some(signed.as_bytes())).expect("a signed heartbeat");
    assert_eq!(list.address_of(Role::Driver, Instant::now()).as_deref(), Some("http://d1"));
    // The signature covers the bytes: another address under it fails.
    let moved = String::from_utf8(payload).expect("utf-8").replace("http://d1", "http://evil");
    let refused = list.receive(moved.as_bytes(), Some(signed.as_bytes()));
    assert!(matches!(refused, Err(HeartbeatRefused::Signature)), "{refused:?}");

    let without = Instances::new(&ThisInstance {
        id: "me".into(),
        roles: Roles::all(),
        address: "http://me".into(),
        key: None,
    });
    assert!(matches!(without.receive(b"{}", Some(signed.as_bytes())), Err(HeartbeatRefused::NoSecret)));
}

/// Signed heartbeats with the most extreme numbers JSON can carry (and
/// clocks at the ends of the range): no arithmetic overflows, nothing
/// panics, and what is listed is what was sent.
#[test]
fn hostile_numbers_in_a_heartbeat_overflow_nothing() {
    let list = instances();
    let start = Instant::now();
    for (id, seen, now_ns) in
        [("a", i64::MIN, i64::MAX), ("b", i64::MIN, i64::MIN), ("c", 0, i64::MAX), ("d", i64::MIN, 0)]
    {
        let mut hostile = beat(
            id,
            &["receiver"],
            seen,
            Some(SimulationState::Running { symbols: u64::MAX, speed: f64::MAX }),
        );
        hostile.instance.uptime_ms = u64::MAX;
        list.record_at(hostile, start, now_ns).expect("sent long ago: listed, shown as silent");
    }
    for (seen, now_ns) in [(i64::MAX, i64::MIN), (i64::MAX, 0), (1, i64::MIN)] {
        let refused = list.record_at(beat("e", &["driver"], seen, None), start, now_ns);
        assert!(matches!(refused, Err(HeartbeatRefused::Future(ahead)) if ahead > 0), "{refused:?}");
    }
    let listed = list.others(start);
    assert_eq!(listed.len(), 4);
    assert!(listed.iter().all(|i| i.uptime_ms == u64::MAX), "{listed:?}");
    let statuses: Vec<Status> = listed.iter().map(|i| i.status).collect();
    assert_eq!(statuses, [Status::Down, Status::Up, Status::Down, Status::Down], "b's clock agrees");
    // Out of range for JSON numbers: refused as malformed, not wrapped.
    let key = key();
    for payload in [
        r#"{"instance":{"id":"x","roles":[],"address":"","status":"up","seen":1e400,"uptime_ms":0,"stages":[]}}"#,
        r#"{"instance":{"id":"x","roles":[],"address":"","status":"up","seen":0,"uptime_ms":-1,"stages":[]}}"#,
        r#"{"instance":{"id":"x","roles":[],"address":"","status":"up","seen":0,"uptime_ms":18446744073709551616,"stages":[]}}"#,
    ] {
        let signature = key.sign_heartbeat(payload.as_bytes());
        let refused = list.receive(payload.as_bytes(), Some(signature.as_bytes()));
        assert!(matches!(refused, Err(HeartbeatRefused::Malformed(_))), "{refused:?}");
    }
    // Instants at the far end of the clock.
    let far = start + Duration::from_secs(u32::MAX.into());
    assert!(list.others(far).is_empty(), "all forgotten");
    assert_eq!(list.simulation(far), None);
}

#[test]
fn the_list_is_bounded() {
    let list = instances();
    let start = Instant::now();
    for n in 0..MAX_INSTANCES {
        list.record_at(beat(&format!("i{n}"), &["receiver"], NOW_NS, None), start, NOW_NS).expect("room");
    }
    let refused = list.record_at(beat("one-more", &["receiver"], NOW_NS, None), start, NOW_NS);
    assert!(matches!(refused, Err(HeartbeatRefused::Full)), "{refused:?}");
    // A known one still updates; once the others are forgotten there is room.
    list.record_at(beat("i0", &["receiver"], NOW_NS + 1, None), start, NOW_NS).expect("known");
    let later = start + FORGET_AFTER;
    list.record_at(beat("one-more", &["receiver"], NOW_NS, None), later, NOW_NS).expect("room again");
}
