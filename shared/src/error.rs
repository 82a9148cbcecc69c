//! Application errors that cross the wire. They are plain serde values inside each RPC's own
//! `Result`, never tarpc's `ServerError` (whose kind decodes wrong over bincode).
//! Every message names the thing and the fix.

use serde::{Deserialize, Serialize};

use std::net::SocketAddr;

use crate::ids::{NodeId, OrderId, ProductId};

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
    #[error("unknown product {id}; `ringshop products` lists them")]
    UnknownProduct { id: ProductId },
    #[error("{product}: quantity {qty} is out of range; order 1 to {max}")]
    BadQuantity {
        product: ProductId,
        qty: u32,
        max: u32,
    },
    #[error("{product}: {wanted} wanted but only {left} left")]
    OutOfStock {
        product: ProductId,
        wanted: u32,
        left: u32,
    },
    #[error("an order needs at least one line, e.g. `ringshop buy tea-kettle:2`")]
    EmptyOrder,
    #[error("unknown order {id}; `ringshop orders` lists them")]
    UnknownOrder { id: OrderId },
    /// An argument is out of its range; `what` names it and the range.
    #[error("invalid argument: {what}")]
    Invalid { what: String },
}
