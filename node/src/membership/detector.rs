//! Failure detection by probes and votes, the Orleans way: each node probes the next members
//! after it in the ring's name order every `PROBE_PERIOD`; a probe that fails is tried again
//! indirectly through another member (so a link that is down between two nodes only does not
//! count); after `MISSED_PROBES_LIMIT` misses in a row the prober votes the member dead, and it
//! is declared dead once `votes_needed` members voted within `VOTE_WINDOW`. A client whose call
//! missed its deadline only asks for a probe (`suspect`): one slow answer never kills a node.
//!
//! A member whose heartbeats stopped for the suspicion time is reaped by the membership loop
//! without votes: its lease has run out, so it has fenced itself and serves nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::hash::Map;
use ringshop_shared::wire::Member;
use ringshop_shared::{NodeId, transport};
use tokio_util::sync::CancellationToken;

use super::Members;
use crate::peers::Peers;
use crate::store::StoreError;

/// How often a node probes the members it watches.
pub const PROBE_PERIOD: Duration = Duration::from_secs(1);
/// How long one probe waits for its answer, to begin with: after each miss a member's next
/// probe waits twice as long, up to `MAX_PROBE_TIMEOUT`, and each answer brings it back a
/// quarter of the way, so a slow link (a long round trip) is waited for instead of voted dead.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// The longest one probe waits.
pub const MAX_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Missed probes in a row, at most one counted per period, before a vote.
pub const MISSED_PROBES_LIMIT: u32 = 3;
/// How many members each node watches.
const WATCHED: usize = 2;
/// How long a vote counts.
const VOTE_WINDOW: Duration = Duration::from_secs(10);

type Misses = Map<(NodeId, u64), (u32, Instant)>;

/// How long the next probe of each member waits (absent: `PROBE_TIMEOUT`).
type Patience = Map<NodeId, Duration>;

/// The check of a member that every `suspect` of it shares while it runs.
type Checking = Map<NodeId, Shared<BoxFuture<'static, Result<bool, StoreError>>>>;

/// Votes needed to declare a member dead: min(2, half of the other live members), at least 1.
pub fn votes_needed(live_members: usize) -> u32 {
    let others = live_members.saturating_sub(1) as u32;
    others.div_ceil(2).clamp(1, 2)
}

#[derive(Clone)]
pub struct Detector {
    members: Members,
    peers: Arc<Peers>,
    /// Misses in a row per (member, incarnation), and when the last one was counted.
    misses: Arc<Mutex<Misses>>,
    patience: Arc<Mutex<Patience>>,
    checking: Arc<Mutex<Checking>>,
    /// Checks `suspect` started (the ones it shared are not counted).
    suspect_checks: Arc<AtomicU64>,
}

impl Detector {
    /// The connections to peers it probes over (the server relays calls over them too).
    pub fn peers(&self) -> &Arc<Peers> {
        &self.peers
    }

    pub fn new(members: Members, peers: Arc<Peers>) -> Detector {
        Detector {
            members,
            peers,
            misses: Arc::default(),
            patience: Arc::default(),
            checking: Arc::default(),
            suspect_checks: Arc::default(),
        }
    }

    /// Probes the watched members every `PROBE_PERIOD` until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut ticks = crate::ticks::Ticks::new(PROBE_PERIOD, shutdown);
        while ticks.next().await {
            if self.members.serving().is_err() {
                continue;
            }
            let watched = self.watched();
            futures::future::join_all(watched.iter().map(|m| self.check(m))).await;
        }
    }

    /// The members after this one in name order among the active ones (wrapping around).
    fn watched(&self) -> Vec<Member> {
        let me = self.members.me();
        self.members.with_view(|view| {
            let active: Vec<&Member> = view.membership.active().collect();
            let at = active.iter().position(|m| &m.name == me).unwrap_or(0);
            active
                .iter()
                .cycle()
                .skip(at + 1)
                .take(active.len().saturating_sub(1).min(WATCHED))
                .filter(|m| &m.name != me)
                .map(|m| (*m).clone())
                .collect()
        })
    }

    /// A client missed its deadline on `name`: probe it now (counting a miss if it does not
    /// answer), one check shared by every suspect of `name` while it runs. True if `name` is
    /// out of the ring now.
    pub async fn suspect(&self, name: &NodeId) -> Result<bool, StoreError> {
        // One check per member at a time, whoever asks: when a member freezes, every call on
        // it misses its deadline at once and each caller asks the witnesses, and a check each
        // would multiply probes of the frozen member (and of the members asked to probe it
        // indirectly) and store reads by the calls in flight.
        let check = {
            let mut checking = self.checking.lock().unwrap_or_else(|p| p.into_inner());
            match checking.get(name) {
                Some(check) => check.clone(),
                None => {
                    let (detector, of) = (self.clone(), name.clone());
                    self.suspect_checks.fetch_add(1, Ordering::Relaxed);
                    let check = async move {
                        let out = detector.suspect_alone(&of).await;
                        let mut checking =
                            detector.checking.lock().unwrap_or_else(|p| p.into_inner());
                        checking.remove(&of);
                        out
                    }
                    .boxed()
                    .shared();
                    checking.insert(name.clone(), check.clone());
                    check
                }
            }
        };
        check.await
    }

    /// `suspect`'s check, alone.
    async fn suspect_alone(&self, name: &NodeId) -> Result<bool, StoreError> {
        let mut view = self.members.view();
        if view.member(name).is_none() {
            view = self.members.refresh().await?;
        }
        let Some(member) = view.member(name).cloned() else {
            return Ok(true);
        };
        if !member.status.in_ring() {
            return Ok(true);
        }
        self.check(&member).await;
        let view = self.members.refresh().await?;
        Ok(!view.ring.contains(name))
    }

    /// Whether `name` is in this node's ring now (no probe, no store read).
    pub fn in_ring(&self, name: &NodeId) -> bool {
        self.members.with_view(|view| view.ring.contains(name))
    }

    /// Whether this node reaches `name` now (one probe).
    pub async fn probe(&self, name: &NodeId) -> bool {
        let addr = self.members.with_view(|v| v.addr_of(name));
        match addr {
            Some(addr) => self.reach(name, addr).await,
            None => false,
        }
    }

    async fn reach(&self, name: &NodeId, addr: std::net::SocketAddr) -> bool {
        let timeout = self.timeout_for(name);
        let answered = match self.peers.client(addr).await {
            Ok(client) => client
                .ping(transport::context(timeout))
                .await
                .is_ok_and(|info| &info.name == name),
            Err(_) => false,
        };
        if !answered {
            self.peers.forget(addr);
        }
        self.adapt(name, timeout, answered);
        answered
    }

    /// How long the next probe of `name` waits.
    fn timeout_for(&self, name: &NodeId) -> Duration {
        let patience = self.patience.lock().unwrap_or_else(|p| p.into_inner());
        patience.get(name).copied().unwrap_or(PROBE_TIMEOUT)
    }

    /// After a probe of `name` that waited `waited`: twice as long next time after a miss, a
    /// quarter of the way back to `PROBE_TIMEOUT` after an answer.
    fn adapt(&self, name: &NodeId, waited: Duration, answered: bool) {
        let excess = waited.saturating_sub(PROBE_TIMEOUT);
        let next = if answered && excess < Duration::from_millis(20) {
            PROBE_TIMEOUT
        } else if answered {
            waited - excess / 4
        } else {
            (waited * 2).min(MAX_PROBE_TIMEOUT)
        };
        let mut patience = self.patience.lock().unwrap_or_else(|p| p.into_inner());
        if next <= PROBE_TIMEOUT {
            patience.remove(name);
        } else {
            patience.insert(name.clone(), next);
        }
    }

    /// Asks one other live member whether it reaches `target`.
    async fn reached_indirectly(&self, target: &NodeId) -> bool {
        let me = self.members.me();
        let helper = self.members.with_view(|view| {
            let others: Vec<_> = view
                .membership
                .active()
                .filter(|m| &m.name != me && &m.name != target)
                .map(|m| m.addr)
                .collect();
            (!others.is_empty()).then(|| others[fastrand::usize(0..others.len())])
        });
        let Some(addr) = helper else {
            return false;
        };
        let Ok(client) = self.peers.client(addr).await else {
            return false;
        };
        let deadline = self.timeout_for(target) * 2;
        matches!(
            client
                .probe(transport::context(deadline), target.clone())
                .await,
            Ok(Ok(true))
        )
    }

    /// One probe of `member`, indirect if the direct one fails; a miss is counted at most
    /// once per period (so the misses that lead to a vote span at least the limit's periods,
    /// whoever asks for probes), and enough misses cast this node's vote.
    async fn check(&self, member: &Member) {
        let key = (member.name.clone(), member.incarnation);
        if self.reach(&member.name, member.addr).await
            || self.reached_indirectly(&member.name).await
        {
            self.lock().remove(&key);
            return;
        }
        let misses = {
            let mut misses = self.lock();
            match misses.get_mut(&key) {
                Some(entry) if entry.1.elapsed() < PROBE_PERIOD => entry.0,
                Some(entry) => {
                    *entry = (entry.0 + 1, clock::now());
                    entry.0
                }
                None => {
                    misses.insert(key, (1, clock::now()));
                    1
                }
            }
        };
        tracing::info!(node = %self.members.me(), suspect = %member.name, misses, "probe missed");
        if misses < MISSED_PROBES_LIMIT {
            return;
        }
        let me = self.members.me();
        let (live, me_active) = self.members.with_view(|v| {
            let active = v.membership.active();
            active.fold((0, false), |(n, mine), m| (n + 1, mine || &m.name == me))
        });
        // Only a member that may answer votes: one the cluster declared dead (its probes
        // failing because it was cut off itself, say) would otherwise count as the last one
        // standing and vote out the member that is still whole.
        if !me_active || self.members.serving().is_err() {
            tracing::info!(node = %me, suspect = %member.name, "not voting: not an active member now");
            return;
        }
        let needed = votes_needed(live);
        let store = self.members.store();
        // Two members that lose each other (nobody else to ask) would each vote the other dead
        // and both go: the one whose name sorts first decides. A member that really died is
        // reaped anyway once its heartbeats stop.
        if live == 2 && me > &member.name {
            tracing::info!(node = %me, suspect = %member.name, "two members left: {} decides", member.name);
            return;
        }
        match store
            .vote(&member.name, member.incarnation, me, VOTE_WINDOW, needed)
            .await
        {
            Ok(dead) => {
                tracing::warn!(node = %me, suspect = %member.name, needed, dead, "voted a member dead")
            }
            Err(e) => tracing::warn!(node = %me, error = %e, "could not vote"),
        }
    }

    /// How many checks `suspect` started.
    #[cfg(test)]
    fn suspect_checks(&self) -> u64 {
        self.suspect_checks.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Misses> {
        self.misses.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
#[path = "detector_tests.rs"]
mod tests;
