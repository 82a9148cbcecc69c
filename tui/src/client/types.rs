//! The client's vocabulary: its configuration, its errors, an answer with the report of the
//! call that got it, and a member as this client sees it. Plain data, no I/O.

use std::net::SocketAddr;
use std::time::Duration;

use ringshop_shared::transport::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_DEADLINE, Dialer, Security};
use ringshop_shared::wire::MemberStatus;
use ringshop_shared::{DEFAULT_VNODES, NodeId, ShardError};

#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// How long one call may take before its node is counted as down.
    pub deadline: Duration,
    pub connect_timeout: Duration,
    pub vnodes: u32,
    /// How often unreachable members and seeds are tried again; doubled, up to 2 s, while
    /// nothing answers.
    pub probe_every: Duration,
    /// How long one `watch_members` long-poll may wait.
    pub watch_for: Duration,
    /// Follow membership changes as they happen. Off, the view changes only when a node
    /// answers `Moved` or an owner cannot be reached (one-shot tools, stale-view tests).
    pub follow_membership: bool,
    /// How long one call may keep trying while the cluster changes under it (an owner that
    /// is slow but not dead, an id being handed over) before it fails.
    pub patience: Duration,
    /// Plaintext, or mutual TLS with this main's client certificate (`--certs DIR`).
    pub security: Security,
    /// The network nodes are dialled on: tokio's TCP, or a simulator's.
    pub dialer: Dialer,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            deadline: DEFAULT_DEADLINE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            vnodes: DEFAULT_VNODES,
            probe_every: Duration::from_millis(500),
            watch_for: Duration::from_secs(10),
            follow_membership: true,
            patience: Duration::from_secs(10),
            security: Security::Plain,
            dialer: Dialer::default(),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    #[error("no node answered: {}", list_failures(.tried))]
    Unreachable { tried: Vec<(SocketAddr, String)> },
    /// No member answered: `tried` were asked by this call (none when none could be reached
    /// from here to begin with), of `known` active members this client knows of.
    #[error("{}", no_live_members(*.tried, *.known))]
    NoLiveMembers { tried: usize, known: usize },
    #[error(
        "{name} is alive for the cluster but this client cannot reach it at {addr}; check the network between them"
    )]
    Partitioned { name: NodeId, addr: SocketAddr },
    #[error("{first} and {second} both answer as node {name}; give every node its own --name")]
    DuplicateName {
        name: NodeId,
        first: SocketAddr,
        second: SocketAddr,
    },
    #[error(
        "node {node} at {addr} places ids differently from this client (another release?); upgrade one of them"
    )]
    PlacementMismatch { node: NodeId, addr: SocketAddr },
    #[error("node {node}: {error}")]
    Shard { node: NodeId, error: ShardError },
}

/// What a person is told when no member answered: the count tried is the truth, and a call that
/// could ask nobody says why instead of "0 tried".
fn no_live_members(tried: usize, known: usize) -> String {
    let fix = "start a node or check the addresses";
    match (tried, known) {
        (0, 0) => format!("no member is up: this client knows of no active member; {fix}"),
        (0, 1) => format!(
            "no member is up: the one active member this client knows of cannot be reached from here (it keeps trying); {fix}"
        ),
        (0, n) => format!(
            "no member is up: none of the {n} active members this client knows of can be reached from here (it keeps trying them); {fix}"
        ),
        (1, _) => format!("no member is up: the 1 member tried did not answer; {fix}"),
        (n, _) => format!("no member is up: none of the {n} members tried answered; {fix}"),
    }
}

fn list_failures(tried: &[(SocketAddr, String)]) -> String {
    if tried.is_empty() {
        return "no addresses were given; pass --nodes HOST:PORT,...".into();
    }
    tried
        .iter()
        .map(|(_, why)| why.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where an answer came from and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub node: NodeId,
    pub addr: SocketAddr,
    /// From the call's start to its answer, failovers and redirects included.
    pub latency: Duration,
    /// Members that could not be reached for this call, in the order they were tried.
    pub failover_from: Vec<NodeId>,
    /// `Moved` answers followed.
    pub redirects: usize,
    /// The member that relayed the call, when this client could not reach the owner itself.
    pub via: Option<NodeId>,
}

impl Report {
    pub fn failed_over(&self) -> bool {
        !self.failover_from.is_empty()
    }
}

/// A value and the report of the call that got it.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer<T> {
    pub value: T,
    pub report: Report,
}

/// One member as the client sees it now.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberView {
    pub name: NodeId,
    pub addr: SocketAddr,
    pub status: MemberStatus,
    /// Active, and this client's connection to it is open (a dead connection is not up).
    pub up: bool,
    pub incarnation: u64,
    /// As of the last listing this client applied.
    pub heartbeat_age: Duration,
    /// The TTL it reported, once connected.
    pub ttl: Option<Duration>,
    /// Since when this client cannot reach it although it is active.
    pub down_for: Option<Duration>,
}
