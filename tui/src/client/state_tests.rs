//! The client state's tests: listings applied in order, connections counted, addresses kept.

use super::*;
use ringshop_shared::wire::Member as Row;

fn row(name: &str, port: u16, status: MemberStatus, incarnation: u64) -> Row {
    Row {
        name: NodeId::new(name).expect("valid"),
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        incarnation,
        status,
        heartbeat_age: Duration::from_millis(100),
        acked_epoch: 0,
    }
}

fn listing(epoch: u64, rows: Vec<Row>) -> Membership {
    Membership {
        epoch,
        members: rows,
    }
}

#[test]
fn the_ring_is_the_active_members_whether_connected_or_not() {
    let mut state = State::new(16, vec![], vec![]);
    let m = listing(
        3,
        vec![
            row("n1", 7001, MemberStatus::Active, 1),
            row("n2", 7002, MemberStatus::Dead, 1),
            row("n3", 7003, MemberStatus::Active, 2),
        ],
    );
    assert!(state.apply(&m, BTreeMap::new()));
    let ring: Vec<&str> = state.ring.members().map(NodeId::as_str).collect();
    assert_eq!(ring, ["n1", "n3"]);
    assert_eq!(state.epoch, 3);
    assert!(
        state.members[&NodeId::new("n1").expect("valid")]
            .down_since
            .is_some(),
        "active without a connection is down here"
    );
    assert!(
        state.members[&NodeId::new("n2").expect("valid")]
            .down_since
            .is_none(),
        "dead is a status, not a local fault"
    );
    assert_eq!(state.unconnected(&m).len(), 2);
}

#[test]
fn an_older_listing_never_replaces_a_newer_one() {
    let mut state = State::new(16, vec![], vec![]);
    assert!(state.apply(
        &listing(5, vec![row("n1", 7001, MemberStatus::Active, 1)]),
        BTreeMap::new()
    ));
    assert!(!state.apply(
        &listing(4, vec![row("n9", 7009, MemberStatus::Active, 1)]),
        BTreeMap::new()
    ));
    assert!(
        state
            .members
            .contains_key(&NodeId::new("n1").expect("valid"))
    );
    assert_eq!(state.epoch, 5);
}

#[test]
fn a_new_incarnation_needs_a_new_connection() {
    let mut state = State::new(16, vec![], vec![]);
    let m1 = listing(1, vec![row("n1", 7001, MemberStatus::Active, 1)]);
    state.apply(&m1, BTreeMap::new());
    let m2 = listing(2, vec![row("n1", 7001, MemberStatus::Active, 2)]);
    assert_eq!(state.unconnected(&m2).len(), 1);
}

/// A connection to `name` at `port` that is never used (its dispatch is not run).
fn connection(name: &str, port: u16) -> Connected {
    let (transport, _server) = tarpc::transport::channel::unbounded();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    Connected {
        channel: tarpc::client::new(tarpc::client::Config::default(), transport).client,
        info: NodeInfo {
            name: NodeId::new(name).expect("valid"),
            addr,
            version: "test".into(),
            uptime: Duration::ZERO,
            ttl: Duration::from_secs(1),
        },
        addr,
        closed: CancellationToken::new(),
    }
}

#[test]
fn a_member_whose_connection_ended_is_down_and_dialled_again() {
    let mut state = State::new(16, vec![], vec![]);
    let n1 = NodeId::new("n1").expect("valid");
    let c = connection("n1", 7001);
    let closed = c.closed.clone();
    let m = listing(1, vec![row("n1", 7001, MemberStatus::Active, 1)]);
    state.apply(&m, BTreeMap::from([(n1.clone(), c)]));
    assert!(state.members[&n1].up() && state.any_up());
    assert!(state.unconnected(&m).is_empty());
    let generation = state.members[&n1].generation;

    closed.cancel();
    assert!(!state.members[&n1].up(), "an ended connection is not up");
    assert!(!state.any_up());
    assert_eq!(state.unconnected(&m).len(), 1, "it needs a new connection");
    assert_eq!(state.drop_closed(), vec![n1.clone()]);
    let member = &state.members[&n1];
    assert!(member.client.is_none() && member.down_since.is_some());
    assert!(
        member.generation > generation,
        "calls on the old one cannot mark it"
    );
    assert!(state.drop_closed().is_empty(), "counted once");
}

#[test]
fn every_address_ever_known_is_kept_members_now_first() {
    let addr = |port| SocketAddr::from(([127, 0, 0, 1], port));
    let mut state = State::new(16, vec![addr(7009)], vec![]);
    state.apply(
        &listing(
            1,
            vec![
                row("n1", 7001, MemberStatus::Active, 1),
                row("n2", 7002, MemberStatus::Active, 1),
            ],
        ),
        BTreeMap::new(),
    );
    state.apply(
        &listing(
            2,
            vec![
                row("n1", 7001, MemberStatus::Active, 1),
                row("n3", 7003, MemberStatus::Active, 1),
            ],
        ),
        BTreeMap::new(),
    );
    assert_eq!(
        state.every_addr(),
        [addr(7001), addr(7003), addr(7009), addr(7002)]
    );
}

#[test]
fn remembered_addresses_are_bounded_newest_kept() {
    let mut state = State::new(16, vec![], vec![]);
    for i in 0..200u16 {
        let m = listing(
            u64::from(i),
            vec![row("n1", 7000 + i, MemberStatus::Active, 1)],
        );
        state.apply(&m, BTreeMap::new());
    }
    assert_eq!(state.remembered.len(), REMEMBERED_ADDRS);
    let all = state.every_addr();
    assert_eq!(all.len(), REMEMBERED_ADDRS);
    assert_eq!(all[0], SocketAddr::from(([127, 0, 0, 1], 7199)));
}

#[test]
fn seeds_that_turn_out_to_be_members_are_no_longer_unknown() {
    let seed = SocketAddr::from(([127, 0, 0, 1], 7002));
    let mut state = State::new(16, vec![seed], vec![seed]);
    state.apply(
        &listing(1, vec![row("n2", 7002, MemberStatus::Active, 1)]),
        BTreeMap::new(),
    );
    assert!(state.unknown.is_empty());
}
