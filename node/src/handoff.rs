//! Warm handoff: when this node stops owning ids (it is leaving, or a join moved them), it
//! hands each live entry, with what is left of its TTL, to the id's new owner, so neither a
//! rolling restart nor a join empties the cache. Akka, Dapr and Horde drop this state; we keep
//! it. Each id's actor is surrendered first, so at no time do two nodes serve one id.

use std::collections::BTreeMap;
use std::time::Duration;

use ringshop_shared::service::MAX_ADOPT;
use ringshop_shared::{Handed, NodeId, transport};
use tokio_util::sync::CancellationToken;

use crate::actors::Registry;
use crate::membership::Members;
use crate::peers::Peers;

/// How long one `adopt` call may take.
const ADOPT_DEADLINE: Duration = Duration::from_secs(2);

/// Hands over every entry whose id this node no longer owns; how many were adopted.
pub async fn rebalance(members: &Members, registry: &Registry, peers: &Peers) -> usize {
    let view = members.view();
    let me = members.me();
    let mut by_owner: BTreeMap<NodeId, Vec<Handed>> = BTreeMap::new();
    for id in registry.ids() {
        let owner = view.ring.owner(&id);
        if owner == Some(me) {
            continue;
        }
        let Some(owner) = owner.cloned() else {
            continue;
        };
        if let Some(handed) = registry.surrender(id).await {
            by_owner.entry(owner).or_default().push(handed);
        }
    }
    let mut adopted = 0;
    for (owner, entries) in by_owner {
        let Some(addr) = view.addr_of(&owner) else {
            continue;
        };
        for chunk in entries.chunks(MAX_ADOPT) {
            let sent = match peers.client(addr).await {
                Ok(client) => client
                    .adopt(
                        transport::context(ADOPT_DEADLINE),
                        chunk.to_vec(),
                        view.epoch(),
                    )
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match sent {
                Ok(Ok(n)) => adopted += n as usize,
                Ok(Err(e)) => tracing::warn!(node = %me, %owner, error = %e, "handoff refused"),
                Err(e) => {
                    peers.forget(addr);
                    tracing::warn!(node = %me, %owner, error = %e, "handoff failed; entries dropped");
                }
            }
        }
        tracing::info!(node = %me, %owner, "handed entries over");
    }
    adopted
}

/// Rebalances after every membership change until `shutdown`.
pub async fn run(
    members: Members,
    registry: Registry,
    peers: std::sync::Arc<Peers>,
    shutdown: CancellationToken,
) {
    let mut changes = members.subscribe();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            changed = changes.changed() => if changed.is_err() { return },
        }
        rebalance(&members, &registry, &peers).await;
    }
}
