//! The members as a table's rows: one per member the store lists, with what this client sees of
//! it (reachable or not, its share of the ring) and what it reports (actors, hits, misses).
//! `Cluster::snapshot` builds it; the `cluster` verb prints it and the screen shows it.

use std::net::SocketAddr;
use std::time::Duration;

use ringshop_shared::latency;
use ringshop_shared::{MemberStatus, NodeId, NodeStats};

use super::cluster::Cluster;
use super::types::ClusterError;

/// A member's state as a person reads it: the store's status, and for an active member
/// whether this client can reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberState {
    /// Active and reachable from here.
    Up,
    /// Active for the cluster, but this client cannot reach it.
    Down,
    Joining,
    Leaving,
    Left,
    Dead,
}

impl MemberState {
    pub fn of(status: MemberStatus, reachable: bool) -> MemberState {
        match status {
            MemberStatus::Active if reachable => MemberState::Up,
            MemberStatus::Active => MemberState::Down,
            MemberStatus::Joining => MemberState::Joining,
            MemberStatus::Leaving => MemberState::Leaving,
            MemberStatus::Left => MemberState::Left,
            MemberStatus::Dead => MemberState::Dead,
        }
    }

    /// The word shown for it, never its colour alone.
    pub fn word(self) -> &'static str {
        match self {
            MemberState::Up => "UP",
            MemberState::Down => "DOWN",
            MemberState::Joining => "JOINING",
            MemberState::Leaving => "LEAVING",
            MemberState::Left => "LEFT",
            MemberState::Dead => "DEAD",
        }
    }

    /// Its process runs as far as the cluster knows (it can be stopped).
    pub fn running(self) -> bool {
        matches!(
            self,
            MemberState::Up | MemberState::Down | MemberState::Joining | MemberState::Leaving
        )
    }

    /// Counted as a node of the cluster (the header's "N/M nodes up" counts these).
    pub fn counted(self) -> bool {
        self != MemberState::Left
    }
}

impl std::fmt::Display for MemberState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

/// One member, as of one snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberRow {
    pub name: NodeId,
    pub addr: SocketAddr,
    pub state: MemberState,
    pub incarnation: u64,
    pub heartbeat_age: Duration,
    /// Its share of the hash space, 0.0 to 1.0.
    pub share: f64,
    /// What it reported, when it answered (dead and left members are not asked).
    pub stats: Option<MemberStats>,
}

/// A member's own counters, as it reported them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MemberStats {
    pub live_actors: u64,
    pub hits: u64,
    pub misses: u64,
    pub redirected: u64,
    pub epoch: u64,
    /// Requests it held while an id was being handed to it.
    pub held: u64,
    /// Requests it refused while its lease had run out.
    pub fenced: u64,
    /// Cached entries it handed to new owners, and adopted from old ones.
    pub handed_off: u64,
    pub adopted: u64,
    /// What its writes to the store come to now: `ok`, `full` (disk full) or `failing`
    /// (`StoreHealth::word`; the node's log says why).
    pub store: &'static str,
    /// Actor answers (hits + misses), and actors that reached their TTL and retired.
    pub requests: u64,
    pub retirements: u64,
    /// Actors that started holding a value: computed fresh or adopted.
    pub activations: u64,
    /// Held requests that ran out of time; handoffs that did not land; adopted entries
    /// refused as malformed.
    pub hold_timeouts: u64,
    pub handoffs_failed: u64,
    pub adopt_rejected: u64,
    /// Requests refused as `Busy` (too much in flight).
    pub busy: u64,
    /// Since it started (its own clock: successive snapshots' uptimes time their counters).
    pub uptime: Duration,
    /// Its incarnation as it says it (the store's row may lag a rejoin).
    pub incarnation: u64,
    /// The cluster's timings it runs on: heartbeat, suspicion.
    pub heartbeat: Duration,
    pub suspicion: Duration,
    /// Its service times so far as histogram counts (`ringshop_shared::latency`), at most
    /// `latency::BUCKETS` of them.
    pub latency: Vec<u64>,
}

impl MemberStats {
    /// What a member reported, checked where it comes from the wire (bounded histogram).
    pub fn of(s: &NodeStats) -> MemberStats {
        MemberStats {
            live_actors: s.live_actors,
            hits: s.hits,
            misses: s.misses,
            redirected: s.redirected,
            epoch: s.epoch,
            held: s.held,
            fenced: s.fenced,
            handed_off: s.handed_off,
            adopted: s.adopted,
            store: s.store.word(),
            requests: s.requests,
            retirements: s.retirements,
            activations: s.activations,
            hold_timeouts: s.hold_timeouts,
            handoffs_failed: s.handoffs_failed,
            adopt_rejected: s.adopt_rejected,
            busy: s.busy,
            uptime: s.uptime,
            incarnation: s.incarnation,
            heartbeat: s.timing.heartbeat,
            suspicion: s.timing.suspicion,
            latency: s.latency.iter().copied().take(latency::BUCKETS).collect(),
        }
    }

    /// Hits over all answers, in percent; None before the first answer.
    pub fn hit_percent(&self) -> Option<f64> {
        let all = self.hits.saturating_add(self.misses);
        (all > 0).then(|| self.hits as f64 * 100.0 / all as f64)
    }
}

/// The members at one moment: the membership read fresh from the cluster, and seeds that
/// never answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub epoch: u64,
    pub members: Vec<MemberRow>,
    /// Addresses given as seeds that no node has answered on yet.
    pub unknown: Vec<SocketAddr>,
}

impl Cluster {
    /// Reads the membership fresh from the cluster, and every reachable member's counters.
    pub async fn snapshot(&self) -> Result<Snapshot, ClusterError> {
        let listing = self.listing().await?;
        let stats = self.stats().await;
        let shares = self.ring().shares();
        let views = self.members();
        let members = listing
            .members
            .iter()
            .map(|m| {
                let up = views.iter().any(|v| v.name == m.name && v.up);
                let state = MemberState::of(m.status, up);
                let stats = stats
                    .iter()
                    .find(|(n, _)| *n == m.name)
                    .and_then(|(_, s)| s.as_ref().ok())
                    .filter(|_| !matches!(state, MemberState::Dead | MemberState::Left))
                    .map(MemberStats::of);
                MemberRow {
                    name: m.name.clone(),
                    addr: m.addr,
                    state,
                    incarnation: m.incarnation,
                    heartbeat_age: m.heartbeat_age,
                    share: shares
                        .iter()
                        .find(|(n, _)| *n == m.name)
                        .map_or(0.0, |(_, s)| *s),
                    stats,
                }
            })
            .collect();
        Ok(Snapshot {
            epoch: listing.epoch,
            members,
            unknown: self.unreachable(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_words_and_only_active_members_depend_on_reachability() {
        assert_eq!(MemberState::of(MemberStatus::Active, true).word(), "UP");
        assert_eq!(MemberState::of(MemberStatus::Active, false).word(), "DOWN");
        assert_eq!(
            MemberState::of(MemberStatus::Leaving, true),
            MemberState::Leaving
        );
        assert_eq!(MemberState::of(MemberStatus::Dead, true), MemberState::Dead);
        assert!(!MemberState::Left.counted() && MemberState::Dead.counted());
        assert!(MemberState::Down.running() && !MemberState::Dead.running());
    }
}
