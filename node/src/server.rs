//! `impl Shard`: thin. Each call is checked and handed to the registry (the id's actor); this
//! file holds no state of its own beyond who the node is.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ringshop_shared::ring::MAX_VNODES;
use ringshop_shared::service::MAX_PLACEMENT_IDS;
use ringshop_shared::{Cached, NodeId, NodeInfo, NodeStats, Ring, Shard, ShardError};
use tarpc::context::Context;

use crate::actors::Registry;

/// Most members a `placement` question may name.
pub const MAX_PLACEMENT_MEMBERS: usize = 64;

#[derive(Clone)]
pub struct ShardServer {
    me: Arc<Me>,
    registry: Registry,
}

struct Me {
    name: NodeId,
    addr: SocketAddr,
    ttl: Duration,
}

impl ShardServer {
    pub fn new(name: NodeId, addr: SocketAddr, ttl: Duration, registry: Registry) -> ShardServer {
        ShardServer {
            me: Arc::new(Me { name, addr, ttl }),
            registry,
        }
    }
}

impl Shard for ShardServer {
    async fn ping(self, _: Context) -> NodeInfo {
        NodeInfo {
            name: self.me.name.clone(),
            addr: self.me.addr,
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime: self.registry.stats().uptime,
            ttl: self.me.ttl,
        }
    }

    async fn request(self, _: Context, id: u64) -> Result<Cached, ShardError> {
        self.registry.request(id).await
    }

    async fn stats(self, _: Context) -> NodeStats {
        self.registry.stats()
    }

    async fn placement(
        self,
        _: Context,
        members: Vec<NodeId>,
        vnodes: u32,
        ids: Vec<u64>,
    ) -> Result<Vec<NodeId>, ShardError> {
        placement(members, vnodes, ids)
    }
}

fn placement(members: Vec<NodeId>, vnodes: u32, ids: Vec<u64>) -> Result<Vec<NodeId>, ShardError> {
    if members.is_empty() {
        return Err(ShardError::Invalid {
            what: "members: name at least one member".into(),
        });
    }
    if members.len() > MAX_PLACEMENT_MEMBERS {
        return Err(ShardError::TooMany {
            what: "members".into(),
            got: members.len(),
            max: MAX_PLACEMENT_MEMBERS,
        });
    }
    if ids.len() > MAX_PLACEMENT_IDS {
        return Err(ShardError::TooMany {
            what: "ids".into(),
            got: ids.len(),
            max: MAX_PLACEMENT_IDS,
        });
    }
    if !(1..=MAX_VNODES).contains(&vnodes) {
        return Err(ShardError::Invalid {
            what: format!("vnodes {vnodes}: must be 1..={MAX_VNODES}"),
        });
    }
    let ring = Ring::with_members(vnodes, members);
    Ok(ids
        .iter()
        .filter_map(|id| ring.owner(id).cloned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<NodeId> {
        list.iter()
            .map(|n| NodeId::new(*n).expect("valid"))
            .collect()
    }

    #[test]
    fn placement_answers_like_a_local_ring() {
        let members = names(&["a", "b", "c"]);
        let ring = Ring::with_members(64, members.clone());
        let ids: Vec<u64> = (0..500).collect();
        let answered = placement(members, 64, ids.clone()).expect("valid question");
        let local: Vec<NodeId> = ids
            .iter()
            .filter_map(|id| ring.owner(id).cloned())
            .collect();
        assert_eq!(answered, local);
    }

    #[test]
    fn placement_refuses_empty_oversized_and_out_of_range_questions() {
        assert!(matches!(
            placement(vec![], 8, vec![1]),
            Err(ShardError::Invalid { .. })
        ));
        let many: Vec<NodeId> = (0..=MAX_PLACEMENT_MEMBERS)
            .map(|i| NodeId::new(format!("n{i}")).expect("valid"))
            .collect();
        assert!(matches!(
            placement(many, 8, vec![1]),
            Err(ShardError::TooMany { .. })
        ));
        let ids = vec![0; MAX_PLACEMENT_IDS + 1];
        assert!(matches!(
            placement(names(&["a"]), 8, ids),
            Err(ShardError::TooMany { .. })
        ));
        for vnodes in [0, MAX_VNODES + 1] {
            assert!(matches!(
                placement(names(&["a"]), vnodes, vec![1]),
                Err(ShardError::Invalid { .. })
            ));
        }
    }
}
