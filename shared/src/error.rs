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
    /// The node cannot answer for this id right now, for `reason`; nothing was computed. The
    /// caller waits a moment and asks again (its membership may move meanwhile).
    #[error("node {node} cannot answer for this id now: {reason}; ask again shortly")]
    Unavailable { node: NodeId, reason: Unavailable },
    /// A peer-only call (or a node-to-node hop) could not reach the node it needed.
    #[error("node {node} could not reach {target}: {reason}")]
    PeerUnreachable {
        node: NodeId,
        target: String,
        reason: String,
    },
    /// A peer-only RPC (node to node) called with a client certificate. Added last so the
    /// variants before it keep their place on the wire.
    #[error(
        "node {node} refuses `{rpc}` from a client certificate: it is a node-to-node call (only a certificate made by `ringshop-node certs node` may make it)"
    )]
    NotAPeer { node: NodeId, rpc: String },
    /// The node's database has no space left: nothing was stored (an order was not placed).
    /// The caller may try again later; the node resumes by itself once there is space.
    #[error(
        "node {node} cannot store anything: its database's disk is full; nothing was placed, try again once space is freed"
    )]
    StoreFull { node: NodeId },
    /// The node has as much work in flight as it takes: nothing was done. The caller waits
    /// `retry_after` and asks again (the client does so within its patience).
    #[error("node {node} is busy (too many requests in flight); ask again in {} ms", retry_after.as_millis())]
    Busy {
        node: NodeId,
        retry_after: std::time::Duration,
    },
    /// The order's hold on the product was released (the order failed, or its hold was given
    /// back): a released hold is never held again, so the order cannot be bought as placed.
    #[error(
        "order {order}: its hold on {product} was released (the order failed or its hold was given back) and is never held again; place a new order"
    )]
    HoldReleased { order: OrderId, product: ProductId },
    /// No open order has this line: the order is not stored, is done or failed, or
    /// `product` × `qty` is not one of its lines. Nothing was held.
    #[error(
        "order {order} has no open line {product}:{qty}: stock is held only for a stored order that is not done or failed, for one of its own lines; check it with `ringshop order {order}`"
    )]
    NoOpenOrder {
        order: OrderId,
        product: ProductId,
        qty: u32,
    },
    /// Entries handed over by `from` at `incarnation`, which this node's membership no longer
    /// waits for (declared dead with its lease run out, left, or rejoined since): what it kept
    /// is void, and nothing was adopted. Its ids are answered afresh.
    #[error(
        "node {node} refused entries handed over by {from} (incarnation {incarnation}): the cluster no longer waits for that member (declared dead, left or rejoined since), so what it kept is void"
    )]
    HandoffVoid {
        node: NodeId,
        from: NodeId,
        incarnation: u64,
    },
}

/// Why a node refused to answer for an id without computing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Unavailable {
    /// It has not renewed its heartbeat lately, so the cluster may be giving its ids away: it
    /// stops answering for ids until it renews (self-fence).
    #[error("its membership lease ran out (self-fenced until its heartbeat is renewed)")]
    Fenced,
    /// It has just gained the id and the previous owner has not let go of it yet.
    #[error("the id is being handed over from its previous owner")]
    Transferring,
    /// The cluster declared it dead while it was alive; it is rejoining under a new incarnation.
    #[error("it is rejoining the cluster under a new incarnation")]
    Rejoining,
}
