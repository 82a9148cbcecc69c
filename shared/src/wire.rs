//! What travels in answers. Every answer says where it came from (node), whether it was kept
//! (hit), and how old it is, so the main can show it (invariant 4 in DESIGN.md).

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::ids::NodeId;

/// A value served by the actor of one id on its owner.
///
/// `created_at` / `expires_at` are the owner's wall clock, for display; `age` and `ttl_left` are
/// measured on the owner's monotonic clock when it answered, so clock skew cannot distort them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Served<T> {
    pub value: T,
    pub node: NodeId,
    pub hit: bool,
    pub created_at: SystemTime,
    pub expires_at: SystemTime,
    pub age: Duration,
    pub ttl_left: Duration,
}

/// The demo's short-lived value: a random integer in 1..=1000, kept for the node's TTL.
pub type Cached = Served<u32>;

/// Who a node is; the answer to `ping`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub name: NodeId,
    pub addr: SocketAddr,
    pub version: String,
    pub uptime: Duration,
    pub ttl: Duration,
}

/// A cached entry handed from its old owner to its new one, with what is left of its TTL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Handed {
    pub id: u64,
    pub value: u32,
    pub created_at: SystemTime,
    pub age: Duration,
    pub ttl_left: Duration,
}

impl Handed {
    /// Whether an entry from the wire can be kept by a node whose TTL is `ttl`: a value the
    /// demo makes (1..=1000), no more TTL left than a whole TTL, an age that fits in one TTL,
    /// and wall-clock times that add up without overflowing. Checked before any use.
    pub fn check(&self, ttl: Duration) -> Result<(), String> {
        if !(1..=1000).contains(&self.value) {
            return Err(format!("value {} is not in 1..=1000", self.value));
        }
        if self.ttl_left.is_zero() || self.ttl_left > ttl {
            return Err(format!(
                "ttl_left {:?} is not in (0, {ttl:?}]",
                self.ttl_left
            ));
        }
        if self.age > ttl {
            return Err(format!("age {:?} is longer than the TTL {ttl:?}", self.age));
        }
        self.created_at
            .checked_add(self.age)
            .and_then(|t| t.checked_add(self.ttl_left))
            .map(drop)
            .ok_or_else(|| "created_at + age + ttl_left overflows the clock".to_string())
    }

    /// The entry `by` later on its holder's clock: older by `by`, with that much less left;
    /// None once nothing is left. A holder ages what it hands over by the time between
    /// reading it and sending it.
    pub fn aged(&self, by: Duration) -> Option<Handed> {
        let ttl_left = self.ttl_left.checked_sub(by).filter(|d| !d.is_zero())?;
        Some(Handed {
            age: self.age.saturating_add(by),
            ttl_left,
            ..self.clone()
        })
    }

    /// How long an adopter whose wall clock reads `wall` may keep the entry: its `ttl_left`,
    /// but never past the wall-clock expiry it carries (`created_at + age + ttl_left` when it
    /// was read), so time the entry spent in transit (a frame held up by a partition, say)
    /// is not added to its life. Zero when that expiry has passed. Clocks that disagree can
    /// only shorten the life (a miss later), never lengthen it past `ttl_left`.
    pub fn left_at(&self, wall: SystemTime) -> Duration {
        let expires = self
            .created_at
            .checked_add(self.age)
            .and_then(|t| t.checked_add(self.ttl_left));
        let by_wall = expires
            .and_then(|e| e.duration_since(wall).ok())
            .unwrap_or(Duration::ZERO);
        self.ttl_left.min(by_wall)
    }
}

/// A node's counters; the answer to `stats`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeStats {
    /// Actors alive now, of every kind (demo ids, products).
    pub live_actors: u64,
    pub hits: u64,
    pub misses: u64,
    /// Actors that reached their TTL and left the registry.
    pub retirements: u64,
    /// Answers given by actors from their cache or after loading (hits + misses).
    pub requests: u64,
    pub uptime: Duration,
    /// The membership epoch of this node's view.
    pub epoch: u64,
    /// Requests answered `Moved` (the caller's view placed the id here wrongly).
    pub redirected: u64,
    /// Entries handed to other nodes, and adopted from them.
    pub handed_off: u64,
    pub adopted: u64,
    /// Actors that started holding a value here: computed fresh (a miss) or adopted.
    pub activations: u64,
    /// Requests that waited because their id was being handed over to this node.
    pub held: u64,
    /// Held requests that ran out of time and were answered `Unavailable` (nothing computed).
    pub hold_timeouts: u64,
    /// Requests refused because this node's membership lease had run out (self-fence).
    pub fenced: u64,
    /// Entries whose handoff to their new owner failed or was refused (recomputed there).
    pub handoffs_failed: u64,
    /// Handed-over entries refused because they failed the checks (bad TTL, value, time).
    pub adopt_rejected: u64,
    /// This node's incarnation: 1 on its first join, +1 each time it rejoins.
    pub incarnation: u64,
    /// What its writes to the store came to lately (its heartbeat writes every beat).
    pub store: StoreHealth,
    /// The cluster's timings this node runs on.
    pub timing: ClusterTiming,
    /// Requests answered `Busy` (too much in flight; nothing done).
    pub busy: u64,
    /// How long the requests it took (those admission counts) took to answer, as the counts
    /// of a `latency` histogram since it started (the p99 of the last seconds is read from
    /// two snapshots).
    pub latency: Vec<u64>,
}

/// The timings single activation depends on, one set per cluster (kept in the store: the
/// first node writes them, every later one runs on them). A node's lease is the suspicion
/// minus a quarter of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterTiming {
    /// How often each node writes its heartbeat.
    pub heartbeat: Duration,
    /// A member silent this long is declared dead.
    pub suspicion: Duration,
}

impl Default for ClusterTiming {
    fn default() -> Self {
        ClusterTiming {
            heartbeat: Duration::from_millis(250),
            suspicion: Duration::from_secs(2),
        }
    }
}

/// What a node's writes to the shared store come to now, as its heartbeats found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoreHealth {
    #[default]
    Ok,
    /// The database's disk is full: nothing can be stored until space is freed.
    Full,
    /// Writes fail for another reason (the database is unreachable, an I/O error...).
    Failing { reason: String },
}

impl StoreHealth {
    /// One word for tables: `ok`, `full`, `failing`.
    pub fn word(&self) -> &'static str {
        match self {
            StoreHealth::Ok => "ok",
            StoreHealth::Full => "full",
            StoreHealth::Failing { .. } => "failing",
        }
    }
}

/// Where a member is in its life. Only `Active` members are in the ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemberStatus {
    /// Registered, not yet serving (reserved: nodes join straight to `Active` today).
    Joining,
    Active,
    /// Shutting down gracefully: out of the ring, handing its entries over.
    Leaving,
    /// Left gracefully.
    Left,
    /// Missed its heartbeats past the suspicion timeout, or was voted dead.
    Dead,
}

impl MemberStatus {
    /// The word the store and every table use.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Joining => "joining",
            MemberStatus::Active => "active",
            MemberStatus::Leaving => "leaving",
            MemberStatus::Left => "left",
            MemberStatus::Dead => "dead",
        }
    }

    pub fn parse(word: &str) -> Option<MemberStatus> {
        [
            MemberStatus::Joining,
            MemberStatus::Active,
            MemberStatus::Leaving,
            MemberStatus::Left,
            MemberStatus::Dead,
        ]
        .into_iter()
        .find(|s| s.as_str() == word)
    }

    /// Whether a member in this status owns ids.
    pub fn in_ring(self) -> bool {
        self == MemberStatus::Active
    }
}

/// One row of the membership table, as a node read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub name: NodeId,
    pub addr: SocketAddr,
    /// Counts the times this name has joined; a restarted node gets a new one.
    pub incarnation: u64,
    pub status: MemberStatus,
    /// How long ago its last heartbeat was, when the answering node read the table.
    pub heartbeat_age: Duration,
    /// The newest membership epoch this member has applied and let go of the ids it lost in
    /// (its acknowledgement); a new owner serves a gained id once every live member is there.
    pub acked_epoch: u64,
}

/// The members and the epoch they were read at; the epoch moves on every change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub epoch: u64,
    pub members: Vec<Member>,
}

impl Membership {
    /// The members that own ids.
    pub fn active(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.status.in_ring())
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn entry(created_at: SystemTime) -> Handed {
        Handed {
            id: 1,
            value: 7,
            created_at,
            age: Duration::from_secs(3),
            ttl_left: Duration::from_secs(2),
        }
    }

    #[test]
    fn an_entry_aged_has_that_much_less_left_and_none_once_spent() {
        let h = entry(UNIX_EPOCH + Duration::from_secs(100));
        let later = h.aged(Duration::from_millis(500)).expect("1.5 s left");
        assert_eq!(later.age, Duration::from_millis(3_500));
        assert_eq!(later.ttl_left, Duration::from_millis(1_500));
        assert_eq!(later.created_at, h.created_at);
        assert_eq!(h.aged(Duration::from_secs(2)), None, "nothing left");
        assert_eq!(h.aged(Duration::MAX), None);
    }

    #[test]
    fn an_adopter_keeps_an_entry_until_the_wall_clock_expiry_it_carries_at_most() {
        let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        // Created at 100 s, read at 103 s with 2 s left: it expires at 105 s.
        let h = entry(at(100));
        assert_eq!(h.left_at(at(103)), Duration::from_secs(2), "on time");
        assert_eq!(h.left_at(at(104)), Duration::from_secs(1), "1 s late");
        assert_eq!(h.left_at(at(105)), Duration::ZERO, "expired on the way");
        assert_eq!(h.left_at(at(200)), Duration::ZERO);
        // A wall clock behind the sender's never lengthens it past what it had left.
        assert_eq!(h.left_at(at(50)), Duration::from_secs(2));
        // Times that overflow the clock leave nothing.
        let huge = Handed {
            age: Duration::MAX,
            ..h
        };
        assert_eq!(huge.left_at(at(103)), Duration::ZERO);
    }
}
