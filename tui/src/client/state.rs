//! The client's picture of the cluster: the members as the store last listed them (with the
//! epoch), the connections it holds to them, and the ring built from the active ones, exactly
//! as every node builds its own. Pure state: no I/O, no await, so it is tested directly.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use ringshop_shared::wire::{MemberStatus, Membership};
use ringshop_shared::{NodeId, NodeInfo, ProductId, Quote, Ring, Served, ShardClient};

use super::types::ClusterConfig;

pub(crate) struct Member {
    pub addr: SocketAddr,
    pub status: MemberStatus,
    pub incarnation: u64,
    pub heartbeat_age: Duration,
    pub info: Option<NodeInfo>,
    pub client: Option<ShardClient>,
    /// Counts connections, so a failure on an old one cannot mark a fresh one down.
    pub generation: u64,
    /// Since when this client cannot reach it although the store lists it active.
    pub down_since: Option<Instant>,
    pub reconnecting: Arc<tokio::sync::Mutex<()>>,
}

/// A fresh connection to a member, made outside the lock.
pub(crate) struct Connected {
    pub client: ShardClient,
    pub info: NodeInfo,
    pub addr: SocketAddr,
}

pub(crate) struct State {
    pub epoch: u64,
    pub ring: Ring,
    pub members: BTreeMap<NodeId, Member>,
    /// Seed addresses that have never answered; probed.
    pub unknown: Vec<SocketAddr>,
}

impl State {
    pub fn new(vnodes: u32, unknown: Vec<SocketAddr>) -> State {
        State {
            epoch: 0,
            ring: Ring::new(vnodes),
            members: BTreeMap::new(),
            unknown,
        }
    }

    /// Active members this client has no connection to (name, address).
    pub fn unconnected(&self, m: &Membership) -> Vec<(NodeId, SocketAddr)> {
        m.active()
            .filter(|a| {
                self.members.get(&a.name).is_none_or(|mine| {
                    mine.client.is_none()
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
                member.client = Some(c.client);
                member.info = Some(c.info);
                member.generation += 1;
                member.down_since = None;
            }
            if row.status.in_ring() {
                if member.client.is_none() && member.down_since.is_none() {
                    member.down_since = Some(now);
                }
            } else {
                member.client = None;
                member.down_since = None;
            }
            next.insert(row.name.clone(), member);
        }
        self.members = next;
        self.ring = Ring::with_members(self.ring.vnodes(), m.active().map(|a| a.name.clone()));
        self.epoch = m.epoch;
        self.unknown
            .retain(|addr| !m.members.iter().any(|r| r.addr == *addr));
        true
    }
}

/// What every clone of a `Cluster` shares: its configuration, its state behind one lock (never
/// held across an await), and the last quote seen of each product.
pub(crate) struct Inner {
    pub config: ClusterConfig,
    pub state: RwLock<State>,
    /// The last quote seen of each product, and when: shown stale when its owner is down.
    pub last_quotes: std::sync::Mutex<HashMap<ProductId, (Served<Quote>, Instant)>>,
}

impl Inner {
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        // Every write is a few field updates that cannot panic half-way: poison is harmless.
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }
    pub fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
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
        let mut state = State::new(16, vec![]);
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
        let mut state = State::new(16, vec![]);
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
        let mut state = State::new(16, vec![]);
        let m1 = listing(1, vec![row("n1", 7001, MemberStatus::Active, 1)]);
        state.apply(&m1, BTreeMap::new());
        let m2 = listing(2, vec![row("n1", 7001, MemberStatus::Active, 2)]);
        assert_eq!(state.unconnected(&m2).len(), 1);
    }

    #[test]
    fn seeds_that_turn_out_to_be_members_are_no_longer_unknown() {
        let seed = SocketAddr::from(([127, 0, 0, 1], 7002));
        let mut state = State::new(16, vec![seed]);
        state.apply(
            &listing(1, vec![row("n2", 7002, MemberStatus::Active, 1)]),
            BTreeMap::new(),
        );
        assert!(state.unknown.is_empty());
    }
}
