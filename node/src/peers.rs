//! Connections from this node to other nodes (handoff, probing a suspect, a checkout's calls to
//! a product's owner), one per address, made on first use and dropped when a call on them
//! fails (tarpc never reconnects); and this node's `Directory` for the one routing loop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use ringshop_shared::route::{Directory, Routing, Suspicion, Target};
use ringshop_shared::transport::{self, ConnectError, Security};
use ringshop_shared::{NodeId, Placed, ShardClient};

use crate::membership::Members;
use crate::membership::detector::Detector;

pub struct Peers {
    conns: Mutex<HashMap<SocketAddr, ShardClient>>,
    connect_timeout: Duration,
    /// This node's own certificate when the cluster runs TLS: peers see it as a node's.
    security: Security,
}

impl Peers {
    pub fn new(connect_timeout: Duration, security: Security) -> Peers {
        Peers {
            conns: Mutex::new(HashMap::new()),
            connect_timeout,
            security,
        }
    }

    /// A client of `addr`, reusing the open connection if there is one.
    pub async fn client(&self, addr: SocketAddr) -> Result<ShardClient, ConnectError> {
        if let Some(c) = self.lock().get(&addr) {
            return Ok(c.clone());
        }
        let client = transport::connect_shard(addr, self.connect_timeout, &self.security).await?;
        self.lock().insert(addr, client.clone());
        Ok(client)
    }

    /// Forgets a connection a call failed on, so the next use connects anew.
    pub fn forget(&self, addr: SocketAddr) {
        self.lock().remove(&addr);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, ShardClient>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }
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
        let client = self.peers.client(addr).await.ok();
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

    async fn suspect(&self, _: &(dyn Placed + Sync), name: &NodeId) -> Suspicion {
        match self.detector.suspect(name).await {
            Ok(true) => Suspicion::Out,
            Ok(false) => Suspicion::Alive,
            Err(e) => {
                tracing::warn!(node = %self.members.me(), peer = %name, error = %e, "could not ask about a peer");
                Suspicion::NoWitness
            }
        }
    }
}
