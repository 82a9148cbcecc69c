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
//! through `call_owner` (in `call.rs`). It never holds its state lock across an await.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use ringshop_shared::trace::{SpanRecord, TraceId};
use ringshop_shared::transport;
use ringshop_shared::{Cached, NodeId, NodeStats, Placed, Ring, ShardClient};

use super::state::{self, Inner, State};
use super::types::{Answer, ClusterConfig, ClusterError, MemberView};
use super::{follow, probe};

/// Cheap to clone; every clone is the same client. Its background tasks (following the
/// membership, probing) end when the last clone is dropped.
#[derive(Clone)]
pub struct Cluster {
    pub(super) inner: Arc<Inner>,
}

impl Cluster {
    /// Connects through `seeds` (any members of one cluster): learns the members from the
    /// first that answers, and connects to every active one. Fails only when no seed answers.
    pub async fn connect(
        seeds: &[SocketAddr],
        config: ClusterConfig,
    ) -> Result<Cluster, ClusterError> {
        let dial = follow::Dial::of(&config);
        let hellos =
            futures::future::join_all(seeds.iter().map(|&addr| follow::hello(addr, &dial))).await;
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
        let (first_name, first_client) = (first.info.name.clone(), first.client());
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
            finding: Default::default(),
            stalled_read: Default::default(),
        });
        let cluster = Cluster { inner };
        cluster.apply(membership, answered).await?;
        if cluster.inner.config.follow_membership {
            tokio::spawn(follow::follow_loop(Arc::downgrade(&cluster.inner)));
        }
        tokio::spawn(probe::probe_loop(Arc::downgrade(&cluster.inner)));
        Ok(cluster)
    }

    /// `connect`, except that when no seed answers it does not fail: the client starts with no
    /// member and its probe loop keeps dialling every address it was given or has seen (backing
    /// off, up to 2 s between rounds) until a node answers, then follows the cluster as usual.
    /// For the TUI, which opens and waits (TUI.md 32); the verbs use `connect` and fail at once.
    pub async fn connect_or_wait(
        seeds: &[SocketAddr],
        config: ClusterConfig,
    ) -> Result<Cluster, ClusterError> {
        match Cluster::connect(seeds, config.clone()).await {
            Err(ClusterError::Unreachable { tried }) if !seeds.is_empty() => {
                for (addr, why) in &tried {
                    tracing::warn!(%addr, %why, "no node answers yet; waiting for one");
                }
                Ok(Cluster::waiting(seeds, config))
            }
            other => other,
        }
    }

    /// A client that knows no member yet and looks for one at `seeds` (and, as it learns them,
    /// at every member's address).
    fn waiting(seeds: &[SocketAddr], config: ClusterConfig) -> Cluster {
        let inner = Arc::new(Inner {
            state: RwLock::new(State::new(config.vnodes, seeds.to_vec(), seeds.to_vec())),
            config,
            last_quotes: Default::default(),
            finding: Default::default(),
            stalled_read: Default::default(),
        });
        if inner.config.follow_membership {
            tokio::spawn(follow::follow_loop(Arc::downgrade(&inner)));
        }
        tokio::spawn(probe::probe_loop(Arc::downgrade(&inner)));
        Cluster { inner }
    }

    /// Where this client looks for the cluster while no member can be reached: every address
    /// it was given or has seen a member at (the probe loop dials them all); empty while some
    /// member is up.
    pub fn searching(&self) -> Vec<SocketAddr> {
        let state = self.inner.read();
        match state.any_up() {
            true => Vec::new(),
            false => state.every_addr(),
        }
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
        self.ask_each(|client, ctx| async move { client.stats(ctx).await })
            .await
    }

    /// The spans of `trace` each reachable member kept, asked in parallel. (The main's own
    /// are in this process's ring: `ringshop_telemetry::spans_of`.)
    pub async fn spans(&self, trace: TraceId) -> Vec<(NodeId, Result<Vec<SpanRecord>, String>)> {
        self.ask_each(|client, ctx| async move { client.spans(ctx, trace).await })
            .await
    }

    /// `ask` of every reachable member, in parallel; a member whose connection is lost is
    /// marked down.
    pub(super) async fn ask_each<T, F, Fut>(&self, ask: F) -> Vec<(NodeId, Result<T, String>)>
    where
        F: Fn(ShardClient, tarpc::context::Context) -> Fut,
        Fut: std::future::Future<Output = Result<T, tarpc::client::RpcError>>,
    {
        let targets: Vec<(NodeId, ShardClient, u64)> = {
            let state = self.inner.read();
            state
                .members
                .iter()
                .filter_map(|(n, m)| Some((n.clone(), m.live()?.clone(), m.generation)))
                .collect()
        };
        let deadline = self.inner.config.deadline;
        let asks = targets.into_iter().map(|(name, client, generation)| {
            let answer = ask(client, transport::context(deadline));
            async move {
                let answer = answer.await;
                if let Err(e) = &answer
                    && follow::connection_lost(e)
                {
                    follow::mark_down(&self.inner, &name, generation, &e.to_string());
                }
                (name, answer.map_err(|e| e.to_string()))
            }
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
