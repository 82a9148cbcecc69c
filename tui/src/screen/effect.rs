//! What to do: `update` returns effects; the runner spawns each on a task, and its results
//! come back as actions. Nothing here blocks the render loop.

use ringshop_shared::{NodeId, OrderLine};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    LoadMembers,
    LoadProducts,
    LoadOrders,
    Checkout(Vec<OrderLine>),
    /// Kill an embedded node, as a crash would.
    KillNode(NodeId),
    /// Let an embedded node leave gracefully (it hands its entries over).
    LeaveNode(NodeId),
    StartNode(NodeId),
    RunDemo,
}
