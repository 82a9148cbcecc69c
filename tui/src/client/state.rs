//! The client's picture of the cluster: the members as the store last listed them (with the
//! epoch), the connections it holds to them, and the ring built from the active ones, exactly
//! as every node builds its own. Pure state: no I/O, no await, so it is tested directly.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::hash::Map;

use ringshop_shared::hop::Channel;
use ringshop_shared::wire::{MemberStatus, Membership};
use ringshop_shared::{Hop, NodeId, NodeInfo, ProductId, Quote, Ring, Served, ShardClient};
use tokio_util::sync::CancellationToken;

use super::types::{ClusterConfig, ClusterError};

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
    /// The connection `client` calls over, for relaying calls to another member through it.
    pub channel: Option<Channel>,
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

    /// Its connection, if still open (to relay calls for a member this client cannot reach).
    pub fn live_channel(&self) -> Option<&Channel> {
        self.channel
            .as_ref()
            .filter(|_| !self.closed.is_cancelled())
    }

    /// Active and reachable from this client now.
    pub fn up(&self) -> bool {
        self.status.in_ring() && self.live().is_some()
    }

    /// Uses a fresh connection from now on.
    pub fn attach(&mut self, c: Connected) {
        self.channel = Some(c.channel.clone());
        self.client = Some(Hop::direct(c.channel));
        self.closed = c.closed;
        self.info = Some(c.info);
        self.generation += 1;
        self.down_since = None;
    }
}

/// A fresh connection to a member, made outside the lock.
pub(crate) struct Connected {
    pub channel: Channel,
    pub info: NodeInfo,
    pub addr: SocketAddr,
    /// Cancelled when the connection ends.
    pub closed: CancellationToken,
}

impl Connected {
    /// A client straight to it.
    pub fn client(&self) -> ShardClient {
        Hop::direct(self.channel.clone())
    }
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
    /// Members the cluster counted alive when this client could not reach them, and when:
    /// calls for their ids go through a relay at once for a moment, without asking again.
    pub cut_off: BTreeMap<NodeId, Instant>,
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
            cut_off: BTreeMap::new(),
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

    /// How many members the store lists as active (in the ring).
    pub fn active(&self) -> usize {
        self.members.values().filter(|m| m.status.in_ring()).count()
    }

    /// Whether some active member can be reached now.
    pub fn any_up(&self) -> bool {
        self.members.values().any(Member::up)
    }

    /// Counts members whose connection has ended as down (what `mark_down` does for a failed
    /// call): their names.
    pub fn drop_closed(&mut self) -> Vec<NodeId> {
        let now = clock::now();
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
        let now = clock::now();
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
                    channel: None,
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
                    channel: None,
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
        // Most listings change no member of the ring (a heartbeat's age, an acknowledgement):
        // the ring is built again only when its members change.
        let in_ring = m.active().count();
        if in_ring != self.ring.len() || m.active().any(|a| !self.ring.contains(&a.name)) {
            self.ring = Ring::with_members(self.ring.vnodes(), m.active().map(|a| a.name.clone()));
        }
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

/// What every clone of a `Cluster` shares: its configuration, its state behind one lock (never
/// held across an await), and the last quote seen of each product.
pub(crate) struct Inner {
    pub config: ClusterConfig,
    pub state: RwLock<State>,
    /// The last quote seen of each product, and when: shown stale when its owner is down.
    pub last_quotes: std::sync::Mutex<Map<ProductId, (Served<Quote>, Instant)>>,
    /// One search for the cluster at every known address at a time, from a refresh that
    /// reached nobody; when the last one found nobody (so a burst of failing calls dials
    /// once, not once each).
    pub finding: tokio::sync::Mutex<Option<Instant>>,
    /// When a call that had not answered in `STALLED_AFTER` last read the listing: once per
    /// `probe_every` for every such call together.
    pub stalled_read: std::sync::Mutex<Option<Instant>>,
}

impl Inner {
    /// "No member is up" after `tried` members were asked, with the active members known.
    pub fn no_live_members(&self, tried: usize) -> ClusterError {
        ClusterError::NoLiveMembers {
            tried,
            known: self.read().active(),
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        // Every write is a few field updates that cannot panic half-way: poison is harmless.
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }
    pub fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
