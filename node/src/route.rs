//! This node's `Directory` for the one routing loop (`ringshop_shared::route`): its own view
//! of the cluster (membership), its connections to peers (`peers.rs`) and its failure detector
//! for owners it cannot reach. Above both: neither imports it. An owner that is this node is
//! never called over the network: the loop answers `Routing::Local` and the caller goes to its
//! own actors.

use std::net::SocketAddr;

use ringshop_shared::route::{Directory, Routing, Suspicion, Target};
use ringshop_shared::{Hop, NodeId, Placed, ShardClient};

use crate::membership::Members;
use crate::membership::detector::Detector;
use crate::peers::Peers;

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
        let client = if self.peers.undialable(addr) {
            None
        } else {
            let client = self.peers.client(addr).await.ok();
            if client.is_none() {
                self.peers.mark_undialable(addr);
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

    /// This node never calls itself over the network: the caller runs such a call on its own
    /// actors (`Routing::Local`).
    fn is_caller(&self, name: &NodeId) -> bool {
        name == self.members.me()
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
        if addr.is_some_and(|a| self.peers.cut_off(a))
            && self.members.with_view(|v| v.ring.contains(name))
        {
            return Suspicion::Alive;
        }
        match self.detector.suspect(name).await {
            Ok(true) => Suspicion::Out,
            Ok(false) => {
                if let Some(addr) = addr {
                    self.peers.mark_cut_off(addr);
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
