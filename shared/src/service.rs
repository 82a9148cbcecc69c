//! The `Shard` service: what a node answers. One doc line per RPC; each call that can fail for
//! an application reason returns `Result<T, ShardError>`.

use crate::error::ShardError;
use crate::ids::NodeId;
use crate::wire::{Cached, NodeInfo, NodeStats};

/// Most ids one `placement` call may ask about (keeps the answer far under the frame limit).
pub const MAX_PLACEMENT_IDS: usize = 16_384;

#[tarpc::service]
pub trait Shard {
    /// Who the node is: name, address, version, uptime and the TTL of its cached values.
    async fn ping() -> NodeInfo;
    /// The id's value from its actor: a hit while kept, else a fresh random 1..=1000 (a miss).
    async fn request(id: u64) -> Result<Cached, ShardError>;
    /// The node's counters: live actors, hits, misses, retirements, requests, uptime.
    async fn stats() -> NodeStats;
    /// Where this node's build of the ring places `ids` among `members`, so a client can refuse
    /// a node that would place ids differently (another release of the ring).
    async fn placement(
        members: Vec<NodeId>,
        vnodes: u32,
        ids: Vec<u64>,
    ) -> Result<Vec<NodeId>, ShardError>;
}
