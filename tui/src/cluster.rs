//! `Cluster`: the main's view of the cluster and its connections, and the one place a call is
//! placed on an id's owner.
//!
//! It owns: the membership as the store lists it (followed by long-polling `watch_members`), one
//! tarpc connection per active member (tarpc never reconnects, so reconnection is here), the
//! ring built from the active members exactly as every node builds it, a deadline on every
//! call, and failover. A call carries the client's epoch; a node that does not own the id
//! answers `Moved` and the client refreshes and goes there; one that may not answer for the id
//! yet (it is being handed over) answers `Unavailable` and the client asks again shortly. When
//! an owner cannot be reached, the client asks the id's next owner to probe it (`suspect`);
//! the cluster takes it out of the ring only once it agrees it is dead, and meanwhile the
//! call waits (within `patience`) instead of failing. Only calls that are safe to repeat go
//! through `call_owner`. It never holds its state lock across an await.

mod call;
mod follow;
mod probe;
mod shop;
mod state;

pub use self::shop::{QuoteRow, parse_line};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use ringshop_shared::transport::{self, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DEADLINE};
use ringshop_shared::wire::MemberStatus;
use ringshop_shared::{
    Cached, DEFAULT_VNODES, NodeId, NodeStats, Placed, Ring, ShardClient, ShardError,
};

use self::state::State;

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
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    #[error("no node answered: {}", list_failures(.tried))]
    Unreachable { tried: Vec<(SocketAddr, String)> },
    #[error("no member is up ({tried} tried); start a node or check the addresses")]
    NoLiveMembers { tried: usize },
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

pub(crate) struct Inner {
    config: ClusterConfig,
    state: RwLock<State>,
    /// The last quote seen of each product, and when: shown stale when its owner is down.
    last_quotes: std::sync::Mutex<
        std::collections::HashMap<
            ringshop_shared::ProductId,
            (ringshop_shared::Served<ringshop_shared::Quote>, Instant),
        >,
    >,
}

impl Inner {
    fn read(&self) -> RwLockReadGuard<'_, State> {
        // Every write is a few field updates that cannot panic half-way: poison is harmless.
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }
    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// Cheap to clone; every clone is the same client. Its background tasks (following the
/// membership, probing) end when the last clone is dropped.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

impl Cluster {
    /// Connects through `seeds` (any members of one cluster): learns the members from the
    /// first that answers, and connects to every active one. Fails only when no seed answers.
    pub async fn connect(
        seeds: &[SocketAddr],
        config: ClusterConfig,
    ) -> Result<Cluster, ClusterError> {
        let hellos = futures::future::join_all(
            seeds
                .iter()
                .map(|&addr| follow::hello(addr, config.connect_timeout, config.deadline)),
        )
        .await;
        let mut answered: BTreeMap<NodeId, state::Connected> = BTreeMap::new();
        let mut tried = Vec::new();
        let mut unknown = Vec::new();
        for (addr, hello) in seeds.iter().zip(hellos) {
            match hello {
                Ok(c) => {
                    if let Some(first) = answered.get(&c.info.name) {
                        return Err(ClusterError::DuplicateName {
                            name: c.info.name.clone(),
                            first: first.addr,
                            second: *addr,
                        });
                    }
                    answered.insert(c.info.name.clone(), c);
                }
                Err(why) => {
                    tried.push((*addr, why));
                    unknown.push(*addr);
                }
            }
        }
        let Some(first) = answered.values().next() else {
            return Err(ClusterError::Unreachable { tried });
        };
        for (addr, why) in &tried {
            tracing::warn!(%addr, %why, "seed did not answer; will keep trying");
        }
        let (first_name, first_client) = (first.info.name.clone(), first.client.clone());
        let membership = first_client
            .members(transport::context(config.deadline))
            .await
            .map_err(|e| ClusterError::Unreachable {
                tried: vec![(
                    first.addr,
                    format!("{first_name} did not list its members: {e}"),
                )],
            })?
            .map_err(|error| ClusterError::Shard {
                node: first_name.clone(),
                error,
            })?;
        let inner = Arc::new(Inner {
            state: RwLock::new(State::new(config.vnodes, seeds.to_vec(), unknown)),
            config,
            last_quotes: Default::default(),
        });
        let cluster = Cluster { inner };
        cluster.apply(membership, answered).await?;
        if cluster.inner.config.follow_membership {
            tokio::spawn(follow::follow_loop(Arc::downgrade(&cluster.inner)));
        }
        tokio::spawn(probe::probe_loop(Arc::downgrade(&cluster.inner)));
        Ok(cluster)
    }

    /// The id's demo value from its owner, with where it came from.
    pub async fn request(&self, id: u64) -> Result<Answer<Cached>, ClusterError> {
        self.call_owner(&id, move |client, ctx, epoch| async move {
            client.request(ctx, id, epoch).await
        })
        .await
    }

    /// The membership epoch this client has applied.
    pub fn epoch(&self) -> u64 {
        self.inner.read().epoch
    }

    /// A snapshot of the ring as the client sees it now (the active members).
    pub fn ring(&self) -> Ring {
        self.inner.read().ring.clone()
    }

    /// The member that owns `id` now.
    pub fn owner<K: Placed + ?Sized>(&self, id: &K) -> Option<NodeId> {
        self.inner.read().ring.owner(id).cloned()
    }

    /// Every member the store lists, in any status.
    pub fn members(&self) -> Vec<MemberView> {
        let state = self.inner.read();
        state
            .members
            .iter()
            .map(|(name, m)| MemberView {
                name: name.clone(),
                addr: m.addr,
                status: m.status,
                up: m.up(),
                incarnation: m.incarnation,
                heartbeat_age: m.heartbeat_age,
                ttl: m.info.as_ref().map(|i| i.ttl),
                down_for: m.down_since.map(|t| t.elapsed()),
            })
            .collect()
    }

    /// Seed addresses that have never answered (still probed).
    pub fn unreachable(&self) -> Vec<SocketAddr> {
        self.inner.read().unknown.clone()
    }

    /// Each reachable member's counters, asked in parallel.
    pub async fn stats(&self) -> Vec<(NodeId, Result<NodeStats, String>)> {
        let targets: Vec<(NodeId, ShardClient, u64)> = {
            let state = self.inner.read();
            state
                .members
                .iter()
                .filter_map(|(n, m)| Some((n.clone(), m.live()?.clone(), m.generation)))
                .collect()
        };
        let deadline = self.inner.config.deadline;
        let asks = targets
            .into_iter()
            .map(|(name, client, generation)| async move {
                let stats = client.stats(transport::context(deadline)).await;
                if let Err(e) = &stats
                    && follow::connection_lost(e)
                {
                    follow::mark_down(&self.inner, &name, generation, &e.to_string());
                }
                (name, stats.map_err(|e| e.to_string()))
            });
        futures::future::join_all(asks).await
    }

    /// Re-reads the membership from any reachable member and applies it.
    pub async fn refresh(&self) -> Result<(), ClusterError> {
        follow::refresh(&self.inner).await.map(drop)
    }

    /// The membership as the store lists it now (fresh heartbeat ages), applied here too.
    pub async fn listing(&self) -> Result<ringshop_shared::Membership, ClusterError> {
        follow::refresh(&self.inner).await
    }

    async fn apply(
        &self,
        membership: ringshop_shared::Membership,
        known: BTreeMap<NodeId, state::Connected>,
    ) -> Result<(), ClusterError> {
        follow::apply(&self.inner, membership, known).await
    }
}
