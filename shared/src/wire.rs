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

/// A node's counters; the answer to `stats`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeStats {
    /// Actors alive now (ids with a kept value).
    pub live_actors: u64,
    pub hits: u64,
    pub misses: u64,
    /// Actors that reached their TTL and left the registry.
    pub retirements: u64,
    /// Answers given by actors (hits + misses).
    pub requests: u64,
    pub uptime: Duration,
}
