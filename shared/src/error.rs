//! Application errors that cross the wire. They are plain serde values inside each RPC's own
//! `Result`, never tarpc's `ServerError` (whose kind decodes wrong over bincode).
//! Every message names the thing and the fix.

use serde::{Deserialize, Serialize};

use std::net::SocketAddr;

use crate::ids::NodeId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ShardError {
    /// The node is stopping and takes no new work; the caller should try the id's next owner.
    #[error("node {node} is shutting down; the request goes to the next owner on the ring")]
    ShuttingDown { node: NodeId },
    /// A batch call carried more items than one frame may hold.
    #[error("{what}: {got} items in one call, at most {max}; split the call")]
    TooMany {
        what: String,
        got: usize,
        max: usize,
    },
    /// This node does not own the id under its view at `epoch`; `owner` at `addr` does
    /// (as Redis Cluster answers MOVED). The caller refreshes its membership and retries there.
    #[error("moved: {owner} at {addr} owns this id (membership epoch {epoch})")]
    Moved {
        owner: NodeId,
        addr: SocketAddr,
        epoch: u64,
    },
    /// The node's database failed; the caller may retry, or try another node.
    #[error("node {node} cannot reach its database: {reason}")]
    Store { node: NodeId, reason: String },
    /// An argument is out of its range; `what` names it and the range.
    #[error("invalid argument: {what}")]
    Invalid { what: String },
}
