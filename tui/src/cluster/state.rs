//! The client's picture of the cluster: the members as the store last listed them (with the
//! epoch), the connections it holds to them, and the ring built from the active ones, exactly
//! as every node builds its own. Pure state: no I/O, no await, so it is tested directly.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringshop_shared::wire::{MemberStatus, Membership};
use ringshop_shared::{NodeId, NodeInfo, Ring, ShardClient};
use tokio_util::sync::CancellationToken;

/// Member addresses remembered beyond the current listing, for finding the cluster again once
/// no member can be reached.
const REMEMBERED_ADDRS: usize = 64;

pub(crate) struct Member {
    pub addr: SocketAddr,
    pub status: MemberStatus,
    pub incarnation: u64,
    pub heartbeat_age: Duration,
    pub info: Option<NodeInfo>,
    pub client: Option<ShardClient>,
    /// Cancelled when `client`'s connection has ended (the node died or restarted).
    pub closed: CancellationToken,
    /// Counts connections, so a failure on an old one cannot mark a fresh one down.
    pub generation: u64,
    /// Since when this client cannot reach it although the store lists it active.
    pub down_since: Option<Instant>,
    pub reconnecting: Arc<tokio::sync::Mutex<()>>,
}

impl Member {
    /// Its client, if the connection is still open.
    pub fn live(&self) -> Option<&ShardClient> {
        self.client.as_ref().filter(|_| !self.closed.is_cancelled())
    }

    /// Active and reachable from this client now.
    pub fn up(&self) -> bool {
        self.status.in_ring() && self.live().is_some()
    }

    /// Uses a fresh connection from now on.
    pub fn attach(&mut self, c: Connected) {
        self.client = Some(c.client);
        self.closed = c.closed;
        self.info = Some(c.info);
        self.generation += 1;
        self.down_since = None;
    }
}

/// A fresh connection to a member, made outside the lock.
pub(crate) struct Connected {
    pub client: ShardClient,
    pub info: NodeInfo,
    pub addr: SocketAddr,
    /// Cancelled when the connection ends.
    pub closed: CancellationToken,
}

pub(crate) struct State {
    pub epoch: u64,
    pub ring: Ring,
    pub members: BTreeMap<NodeId, Member>,
    /// Seed addresses that have never answered; probed.
    pub unknown: Vec<SocketAddr>,
    /// Every seed address this client was given.
    pub seeds: Vec<SocketAddr>,
    /// Addresses of members listed before, newest last, at most `REMEMBERED_ADDRS`.
    pub remembered: VecDeque<SocketAddr>,
}

impl State {
    /// `seeds`: every address given; `unknown`: those that did not answer.
    pub fn new(vnodes: u32, seeds: Vec<SocketAddr>, unknown: Vec<SocketAddr>) -> State {
        State {
            epoch: 0,
            ring: Ring::new(vnodes),
            members: BTreeMap::new(),
            seeds,
            unknown,
            remembered: VecDeque::new(),
        }
    }

    /// Every address the cluster might be found at again: the members' now, the seeds, then
    /// the members' before (newest first), each once.
    pub fn every_addr(&self) -> Vec<SocketAddr> {
        let mut all: Vec<SocketAddr> = Vec::new();
        let members = self.members.values().map(|m| m.addr);
        let before = self.remembered.iter().rev().copied();
        for addr in members.chain(self.seeds.iter().copied()).chain(before) {
            if !all.contains(&addr) {
                all.push(addr);
            }
        }
        all
    }

    /// Whether some active member can be reached now.
    pub fn any_up(&self) -> bool {
        self.members.values().any(Member::up)
    }

    /// Counts members whose connection has ended as down (what `mark_down` does for a failed
    /// call): their names.
    pub fn drop_closed(&mut self) -> Vec<NodeId> {
        let now = Instant::now();
        let mut dropped = Vec::new();
        for (name, m) in &mut self.members {
            if m.client.is_some() && m.closed.is_cancelled() {
                m.client = None;
                m.generation += 1;
                if m.status.in_ring() {
                    m.down_since.get_or_insert(now);
                }
                dropped.push(name.clone());
            }
        }
        dropped
    }

    /// Active members this client has no connection to (name, address).
    pub fn unconnected(&self, m: &Membership) -> Vec<(NodeId, SocketAddr)> {
        m.active()
            .filter(|a| {
                self.members.get(&a.name).is_none_or(|mine| {
                    mine.live().is_none()
                        || mine.addr != a.addr
                        || mine.incarnation != a.incarnation
                })
            })
            .map(|a| (a.name.clone(), a.addr))
            .collect()
    }

    /// Takes a membership listing (if it is not older than what we have) and any connections
    /// made for it. True if the listing was applied.
    pub fn apply(&mut self, m: &Membership, mut fresh: BTreeMap<NodeId, Connected>) -> bool {
        if m.epoch < self.epoch {
            return false;
        }
        let now = Instant::now();
        let mut next = BTreeMap::new();
        for row in &m.members {
            let old = self.members.remove(&row.name);
            let same_life = old
                .as_ref()
                .is_some_and(|o| o.addr == row.addr && o.incarnation == row.incarnation);
            let mut member = match old {
                Some(o) if same_life => o,
                Some(o) => Member {
                    client: None,
                    info: None,
                    generation: o.generation + 1,
                    down_since: None,
                    ..o
                },
                None => Member {
                    addr: row.addr,
                    status: row.status,
                    incarnation: row.incarnation,
                    heartbeat_age: row.heartbeat_age,
                    info: None,
                    client: None,
                    closed: CancellationToken::new(),
                    generation: 0,
                    down_since: None,
                    reconnecting: Arc::new(tokio::sync::Mutex::new(())),
                },
            };
            member.addr = row.addr;
            member.status = row.status;
            member.incarnation = row.incarnation;
            member.heartbeat_age = row.heartbeat_age;
            if let Some(c) = fresh.remove(&row.name).filter(|c| c.addr == row.addr) {
                member.attach(c);
            }
            if row.status.in_ring() {
                if member.live().is_none() && member.down_since.is_none() {
                    member.down_since = Some(now);
                }
            } else {
                member.client = None;
                member.down_since = None;
            }
            next.insert(row.name.clone(), member);
        }
        for (_, gone) in std::mem::replace(&mut self.members, next) {
            self.remember(gone.addr);
        }
        for row in &m.members {
            self.remember(row.addr);
        }
        self.ring = Ring::with_members(self.ring.vnodes(), m.active().map(|a| a.name.clone()));
        self.epoch = m.epoch;
        self.unknown
            .retain(|addr| !m.members.iter().any(|r| r.addr == *addr));
        true
    }

    fn remember(&mut self, addr: SocketAddr) {
        self.remembered.retain(|a| *a != addr);
        self.remembered.push_back(addr);
        while self.remembered.len() > REMEMBERED_ADDRS {
            self.remembered.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
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
            client: ShardClient::new(tarpc::client::Config::default(), transport).client,
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
}
