//! `Cluster`: the main's connections to the nodes and the ring that places ids on them.
//!
//! It owns: one tarpc connection per member (tarpc never reconnects, so reconnection is here),
//! a deadline on every call, and failover. When an owner does not answer (refused, reset,
//! deadline, or it says it is shutting down), the member is marked down and taken out of the
//! ring, and the call goes to the id's next owner; a background probe puts members back when
//! they answer again. Only calls that are safe to repeat go through `call_owner`.
//! It must never hold its state lock across an await.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::{Duration, Instant};

use ringshop_shared::transport::{self, ConnectError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DEADLINE};
use ringshop_shared::{
    Cached, DEFAULT_VNODES, NodeId, NodeInfo, NodeStats, Placed, Ring, ShardClient, ShardError,
};
use tarpc::client::RpcError;
use tarpc::context::Context;

/// Ids every new member is asked to place, to prove it places ids as this client does.
const PLACEMENT_PROBE_IDS: u64 = 256;

#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// How long one call may take before its node is counted as down.
    pub deadline: Duration,
    pub connect_timeout: Duration,
    pub vnodes: u32,
    /// How often down members are tried again.
    pub probe_every: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            deadline: DEFAULT_DEADLINE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            vnodes: DEFAULT_VNODES,
            probe_every: Duration::from_millis(500),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    #[error("no node answered: {}", list_failures(.tried))]
    Unreachable { tried: Vec<(SocketAddr, String)> },
    #[error("no member is up ({tried} tried); start a node or check the addresses")]
    NoLiveMembers { tried: usize },
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
    /// From the call's start to its answer, failovers included.
    pub latency: Duration,
    /// Members that failed for this call, in the order they were tried.
    pub failover_from: Vec<NodeId>,
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
    pub up: bool,
    pub info: NodeInfo,
    /// Last time a call or probe failed, while down.
    pub down_for: Option<Duration>,
}

struct Member {
    info: NodeInfo,
    client: Option<ShardClient>,
    /// Counts connections, so a failure on an old one cannot mark a fresh one down.
    generation: u64,
    down_since: Option<Instant>,
    reconnecting: Arc<tokio::sync::Mutex<()>>,
}

struct State {
    ring: Ring,
    members: BTreeMap<NodeId, Member>,
    /// Addresses that have never answered; probed like down members.
    unknown: Vec<SocketAddr>,
}

struct Inner {
    config: ClusterConfig,
    state: RwLock<State>,
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

/// Cheap to clone; every clone is the same client. The background probe ends when the last
/// clone is dropped.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

/// How a failed call is handled.
enum Failure {
    /// The connection broke: reconnect once, then retry on the same owner.
    Broken,
    /// The owner cannot serve: fail over to the next owner.
    Down(String),
}

impl Cluster {
    /// Connects to every address; the ones that answer become the ring. Fails only when none
    /// answers; the others are probed in the background and join when they answer.
    pub async fn connect(
        addrs: &[SocketAddr],
        config: ClusterConfig,
    ) -> Result<Cluster, ClusterError> {
        let attempts = futures::future::join_all(
            addrs
                .iter()
                .map(|&addr| hello(addr, config.connect_timeout, config.deadline)),
        )
        .await;
        let mut members: BTreeMap<NodeId, Member> = BTreeMap::new();
        let mut unknown = Vec::new();
        let mut tried = Vec::new();
        for (addr, attempt) in addrs.iter().zip(attempts) {
            match attempt {
                Ok((client, info)) => {
                    if let Some(first) = members.get(&info.name) {
                        return Err(ClusterError::DuplicateName {
                            name: info.name.clone(),
                            first: first.info.addr,
                            second: *addr,
                        });
                    }
                    members.insert(info.name.clone(), Member::up(client, info, *addr));
                }
                Err(why) => {
                    tried.push((*addr, why));
                    unknown.push(*addr);
                }
            }
        }
        if members.is_empty() {
            return Err(ClusterError::Unreachable { tried });
        }
        for (addr, why) in &tried {
            tracing::warn!(%addr, %why, "node did not answer; will keep trying");
        }
        let ring = Ring::with_members(config.vnodes, members.keys().cloned());
        check_placement(&ring, &members, config.deadline).await?;
        let inner = Arc::new(Inner {
            config,
            state: RwLock::new(State {
                ring,
                members,
                unknown,
            }),
        });
        tokio::spawn(probe_loop(Arc::downgrade(&inner)));
        Ok(Cluster { inner })
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.inner.config
    }

    /// The id's demo value from its owner, with where it came from.
    pub async fn request(&self, id: u64) -> Result<Answer<Cached>, ClusterError> {
        self.call_owner(&id, move |client, ctx| async move {
            client.request(ctx, id).await
        })
        .await
    }

    /// A snapshot of the ring as the client sees it now (up members only).
    pub fn ring(&self) -> Ring {
        self.inner.read().ring.clone()
    }

    /// The member that owns `id` now.
    pub fn owner<K: Placed + ?Sized>(&self, id: &K) -> Option<NodeId> {
        self.inner.read().ring.owner(id).cloned()
    }

    /// Every known member, up or down.
    pub fn members(&self) -> Vec<MemberView> {
        let state = self.inner.read();
        state
            .members
            .iter()
            .map(|(name, m)| MemberView {
                name: name.clone(),
                addr: m.info.addr,
                up: m.down_since.is_none(),
                info: m.info.clone(),
                down_for: m.down_since.map(|t| t.elapsed()),
            })
            .collect()
    }

    /// Addresses given at connect that have never answered (still probed).
    pub fn unreachable(&self) -> Vec<SocketAddr> {
        self.inner.read().unknown.clone()
    }

    /// Each up member's counters, asked in parallel.
    pub async fn stats(&self) -> Vec<(NodeId, Result<NodeStats, String>)> {
        let targets: Vec<(NodeId, ShardClient)> = {
            let state = self.inner.read();
            state
                .members
                .iter()
                .filter_map(|(n, m)| m.client.clone().map(|c| (n.clone(), c)))
                .collect()
        };
        let deadline = self.inner.config.deadline;
        futures::future::join_all(targets.into_iter().map(|(name, client)| async move {
            let stats = client.stats(transport::context(deadline)).await;
            (name, stats.map_err(|e| e.to_string()))
        }))
        .await
    }

    /// Calls `f` on `id`'s owner; on failure fails over along the ring. `f` must be safe to
    /// repeat: it may run on several members.
    pub async fn call_owner<K, T, F, Fut>(&self, id: &K, f: F) -> Result<Answer<T>, ClusterError>
    where
        K: Placed + ?Sized,
        F: Fn(ShardClient, Context) -> Fut,
        Fut: Future<Output = Result<Result<T, ShardError>, RpcError>>,
    {
        let started = Instant::now();
        let mut failover_from = Vec::new();
        let mut reconnected: Vec<NodeId> = Vec::new();
        let mut most = usize::MAX;
        let mut attempt = 0;
        while attempt < most {
            attempt += 1;
            let target = {
                let state = self.inner.read();
                // Each member can fail once and be reconnected once: twice the members bounds it.
                most = most.min(state.members.len() * 2 + 2);
                state.ring.owner(id).and_then(|name| {
                    let m = state.members.get(name)?;
                    Some((name.clone(), m.info.addr, m.client.clone()?, m.generation))
                })
            };
            let Some((name, addr, client, generation)) = target else {
                return Err(ClusterError::NoLiveMembers {
                    tried: failover_from.len(),
                });
            };
            let failure = match f(client, transport::context(self.inner.config.deadline)).await {
                Ok(Ok(value)) => {
                    return Ok(Answer {
                        value,
                        report: Report {
                            node: name,
                            addr,
                            latency: started.elapsed(),
                            failover_from,
                        },
                    });
                }
                Ok(Err(ShardError::ShuttingDown { .. })) => Failure::Down("shutting down".into()),
                Ok(Err(error)) => return Err(ClusterError::Shard { node: name, error }),
                Err(RpcError::DeadlineExceeded) => {
                    Failure::Down("no answer before the deadline".into())
                }
                Err(RpcError::Server(e)) => Failure::Down(format!("server error: {e}")),
                Err(_) => Failure::Broken,
            };
            let why = match failure {
                Failure::Broken if !reconnected.contains(&name) => {
                    reconnected.push(name.clone());
                    match self.reconnect(&name, generation).await {
                        Ok(()) => continue,
                        Err(why) => why,
                    }
                }
                Failure::Broken => "connection lost".to_string(),
                Failure::Down(why) => why,
            };
            self.mark_down(&name, generation, &why);
            failover_from.push(name);
        }
        Err(ClusterError::NoLiveMembers {
            tried: failover_from.len(),
        })
    }

    /// Replaces a broken connection, once for all the calls that saw it break.
    async fn reconnect(&self, name: &NodeId, generation: u64) -> Result<(), String> {
        let (lock, addr) = {
            let state = self.inner.read();
            let m = state.members.get(name).ok_or("not a member")?;
            (m.reconnecting.clone(), m.info.addr)
        };
        let _one_at_a_time = lock.lock().await;
        if self.inner.read().members.get(name).map(|m| m.generation) != Some(generation) {
            return Ok(()); // another call reconnected (or marked it down) meanwhile
        }
        let config = &self.inner.config;
        let (client, info) = hello(addr, config.connect_timeout, config.deadline).await?;
        if &info.name != name {
            return Err(format!("{addr} now answers as {}", info.name));
        }
        let mut state = self.inner.write();
        if let Some(m) = state.members.get_mut(name) {
            m.client = Some(client);
            m.generation += 1;
            m.info = info;
        }
        tracing::info!(node = %name, %addr, "reconnected");
        Ok(())
    }

    fn mark_down(&self, name: &NodeId, generation: u64, why: &str) {
        let mut state = self.inner.write();
        let Some(m) = state.members.get_mut(name) else {
            return;
        };
        if m.generation != generation || m.down_since.is_some() {
            return;
        }
        m.client = None;
        m.generation += 1;
        m.down_since = Some(Instant::now());
        state.ring.remove(name);
        tracing::warn!(node = %name, %why, "member down; its ids go to their next owners");
    }
}

impl Member {
    fn up(client: ShardClient, info: NodeInfo, dialed: SocketAddr) -> Member {
        // Keep the address we dialled: a node listening on 0.0.0.0 reports that, not this.
        let info = NodeInfo {
            addr: dialed,
            ..info
        };
        Member {
            info,
            client: Some(client),
            generation: 0,
            down_since: None,
            reconnecting: Arc::new(tokio::sync::Mutex::new(())),
        }
    }
}

/// Connects and pings: a working client and who answered.
async fn hello(
    addr: SocketAddr,
    connect_timeout: Duration,
    deadline: Duration,
) -> Result<(ShardClient, NodeInfo), String> {
    let client = transport::connect_shard(addr, connect_timeout)
        .await
        .map_err(|e: ConnectError| e.to_string())?;
    let info = client
        .ping(transport::context(deadline))
        .await
        .map_err(|e| format!("{addr} did not answer ping: {e}"))?;
    Ok((client, info))
}

/// Asks every member where it would place a few ids, and refuses one that disagrees.
async fn check_placement(
    ring: &Ring,
    members: &BTreeMap<NodeId, Member>,
    deadline: Duration,
) -> Result<(), ClusterError> {
    let checks = members.iter().filter_map(|(name, m)| {
        let client = m.client.clone()?;
        Some(async move {
            (
                name,
                m.info.addr,
                places_like(&client, ring, deadline).await,
            )
        })
    });
    for (name, addr, answer) in futures::future::join_all(checks).await {
        match answer {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => {
                return Err(ClusterError::PlacementMismatch {
                    node: name.clone(),
                    addr,
                });
            }
            Ok(Err(error)) => {
                return Err(ClusterError::Shard {
                    node: name.clone(),
                    error,
                });
            }
            // A member that fails now is found down by the first call and failed over.
            Err(e) => tracing::warn!(node = %name, error = %e, "placement check got no answer"),
        }
    }
    Ok(())
}

/// Whether `client`'s node places a fixed set of ids among `ring`'s members as `ring` does.
async fn places_like(
    client: &ShardClient,
    ring: &Ring,
    deadline: Duration,
) -> Result<Result<bool, ShardError>, RpcError> {
    let names: Vec<NodeId> = ring.members().cloned().collect();
    let ids: Vec<u64> = (0..PLACEMENT_PROBE_IDS).collect();
    let local: Vec<NodeId> = ids
        .iter()
        .filter_map(|id| ring.owner(id).cloned())
        .collect();
    let theirs = client
        .placement(transport::context(deadline), names, ring.vnodes(), ids)
        .await?;
    Ok(theirs.map(|theirs| theirs == local))
}

/// Every `probe_every`, tries down members and never-seen addresses again; ends when the
/// cluster is dropped.
async fn probe_loop(inner: Weak<Inner>) {
    loop {
        let (every, targets, connect_timeout, deadline) = {
            let Some(inner) = inner.upgrade() else { return };
            let state = inner.read();
            let down = state
                .members
                .values()
                .filter(|m| m.down_since.is_some())
                .map(|m| m.info.addr);
            let targets: Vec<SocketAddr> = down.chain(state.unknown.iter().copied()).collect();
            let c = &inner.config;
            (c.probe_every, targets, c.connect_timeout, c.deadline)
        };
        tokio::time::sleep(every).await;
        for addr in targets {
            let Ok((client, info)) = hello(addr, connect_timeout, deadline).await else {
                continue;
            };
            let Some(inner) = inner.upgrade() else { return };
            let mut candidate = inner.read().ring.clone();
            candidate.add(info.name.clone());
            if !matches!(
                places_like(&client, &candidate, deadline).await,
                Ok(Ok(true))
            ) {
                tracing::error!(node = %info.name, %addr, "node places ids differently (another release?); not using it");
                continue;
            }
            let mut state = inner.write();
            let name = info.name.clone();
            state.unknown.retain(|a| *a != addr);
            let vnodes_ok = match state.members.get_mut(&name) {
                Some(m) if m.down_since.is_none() => false, // up already (under another address?)
                Some(m) => {
                    *m = Member {
                        generation: m.generation + 1,
                        ..Member::up(client, info, addr)
                    };
                    true
                }
                None => {
                    state
                        .members
                        .insert(name.clone(), Member::up(client, info, addr));
                    true
                }
            };
            if vnodes_ok {
                state.ring.add(name.clone());
                tracing::info!(node = %name, %addr, "member up; it owns its ids again");
            }
        }
    }
}
