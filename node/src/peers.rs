//! Connections from this node to other nodes (handoff, probing a suspect, a checkout's calls to
//! a product's owner), one per address, made on first use and dropped when a call on them
//! fails (tarpc never reconnects); and this node's `Directory` for the one routing loop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use ringshop_shared::hop::Channel;
use ringshop_shared::route::{Directory, Routing, Suspicion, Target};
use ringshop_shared::transport::{self, ConnectError, Security};
use ringshop_shared::{Hop, NodeId, Placed, ShardClient, ShardRequest, ShardResponse};

use crate::membership::Members;
use crate::membership::detector::Detector;

/// How long a peer this node failed to dial, or the cluster's word that such a peer is alive,
/// stands for the routing loop: its calls go through a relay at once meanwhile, instead of
/// each waiting out a dial and asking the detector again.
const CUT_OFF_FOR: Duration = Duration::from_secs(1);

pub struct Peers {
    conns: Mutex<HashMap<SocketAddr, Channel>>,
    /// Peers the routing loop could not dial: when.
    undialable: Marks,
    /// Peers the cluster counted alive although this node could not reach them: when.
    cut_off: Marks,
    connect_timeout: Duration,
    /// This node's own certificate when the cluster runs TLS: peers see it as a node's.
    security: Security,
}

impl Peers {
    pub fn new(connect_timeout: Duration, security: Security) -> Peers {
        Peers {
            conns: Mutex::new(HashMap::new()),
            undialable: Mutex::new(HashMap::new()),
            cut_off: Mutex::new(HashMap::new()),
            connect_timeout,
            security,
        }
    }

    /// A client of `addr`, reusing the open connection if there is one.
    pub async fn client(&self, addr: SocketAddr) -> Result<ShardClient, ConnectError> {
        self.channel(addr).await.map(Hop::direct)
    }

    /// The connection to `addr`, made now if there is none.
    pub async fn channel(&self, addr: SocketAddr) -> Result<Channel, ConnectError> {
        if let Some(c) = self.lock().get(&addr) {
            return Ok(c.clone());
        }
        let framed = transport::connect::<ShardRequest, ShardResponse>(
            addr,
            self.connect_timeout,
            &self.security,
        )
        .await?;
        let channel = transport::channel(framed);
        self.lock().insert(addr, channel.clone());
        Ok(channel)
    }

    /// Forgets a connection a call failed on, so the next use connects anew.
    pub fn forget(&self, addr: SocketAddr) {
        self.lock().remove(&addr);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Channel>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }
}

type Marks = Mutex<HashMap<SocketAddr, std::time::Instant>>;

/// Whether `addr` was marked in `marks` within `CUT_OFF_FOR`.
fn marked(marks: &Marks, addr: SocketAddr) -> bool {
    let marks = marks.lock().unwrap_or_else(|p| p.into_inner());
    marks
        .get(&addr)
        .is_some_and(|at| at.elapsed() < CUT_OFF_FOR)
}

/// Marks `addr` in `marks` now.
fn mark(marks: &Marks, addr: SocketAddr) {
    let mut marks = marks.lock().unwrap_or_else(|p| p.into_inner());
    marks.retain(|_, at| at.elapsed() < CUT_OFF_FOR);
    marks.insert(addr, std::time::Instant::now());
}

/// A node's calls to the owner of a key go through the one routing loop
/// (`ringshop_shared::route`) over this node's own view: its membership, its connections to
/// peers (made on first use), and its failure detector for owners it cannot reach.
pub struct PeerRoute<'a> {
    pub members: &'a Members,
    pub peers: &'a Peers,
    pub detector: &'a Detector,
}

impl Directory for PeerRoute<'_> {
    type Error = Routing;

    async fn target(&self, id: &(dyn Placed + Sync)) -> Option<Target> {
        let (name, addr, epoch, members) = self.members.with_view(|view| {
            let name = view.ring.owner(id)?.clone();
            let addr = view.addr_of(&name)?;
            Some((name, addr, view.epoch(), view.membership.members.len()))
        })?;
        // A peer found cut off a moment ago is not dialled again for each call (a dial to a
        // cut-off peer waits out its timeout): the loop asks the cluster and relays.
        let client = if marked(&self.peers.undialable, addr) {
            None
        } else {
            let client = self.peers.client(addr).await.ok();
            if client.is_none() {
                mark(&self.peers.undialable, addr);
            }
            client
        };
        Some(Target {
            name,
            addr,
            client,
            generation: 0,
            epoch,
            members,
        })
    }

    async fn refresh(&self) -> Result<(), Routing> {
        let me = self.members.me();
        self.members
            .refresh()
            .await
            .map(drop)
            .map_err(|e| Routing::Shard {
                node: me.clone(),
                error: e.on(me),
            })
    }

    async fn reconnect(&self, name: &NodeId, _: u64) -> Result<(), String> {
        let addr = self
            .members
            .with_view(|v| v.addr_of(name))
            .ok_or_else(|| format!("{name} is not a member"))?;
        self.peers.forget(addr);
        self.peers
            .client(addr)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn mark_down(&self, name: &NodeId, _: u64, why: &str) {
        if let Some(addr) = self.members.with_view(|v| v.addr_of(name)) {
            tracing::debug!(node = %self.members.me(), peer = %name, %why, "peer did not answer");
            self.peers.forget(addr);
        }
    }

    async fn relay(&self, name: &NodeId) -> Option<(NodeId, ShardClient)> {
        let me = self.members.me();
        let others: Vec<(NodeId, SocketAddr)> = self.members.with_view(|v| {
            v.ring
                .members()
                .filter(|m| *m != name && *m != me)
                .filter_map(|m| Some((m.clone(), v.addr_of(m)?)))
                .collect()
        });
        for (relay, addr) in others {
            if let Ok(channel) = self.peers.channel(addr).await {
                return Some((relay, Hop::via(channel, name.clone())));
            }
        }
        None
    }

    async fn suspect(&self, _: &(dyn Placed + Sync), name: &NodeId) -> Suspicion {
        let addr = self.members.with_view(|v| v.addr_of(name));
        if addr.is_some_and(|a| marked(&self.peers.cut_off, a))
            && self.members.with_view(|v| v.ring.contains(name))
        {
            return Suspicion::Alive;
        }
        match self.detector.suspect(name).await {
            Ok(true) => Suspicion::Out,
            Ok(false) => {
                if let Some(addr) = addr {
                    mark(&self.peers.cut_off, addr);
                }
                Suspicion::Alive
            }
            Err(e) => {
                tracing::warn!(node = %self.members.me(), peer = %name, error = %e, "could not ask about a peer");
                Suspicion::NoWitness
            }
        }
    }
}
