//! What to do: `update` returns effects; the runner spawns each on a task, and its results
//! come back as actions. Nothing here blocks the render loop.

use ringshop_shared::prefix::IdPrefix;
use ringshop_shared::trace::TraceId;
use ringshop_shared::{NodeId, OrderId, OrderLine, ProductId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    LoadMembers,
    LoadProducts,
    LoadOrders,
    /// Follow these products' stock live (in place of those followed before); the effect
    /// ends once the following has started, which goes on until the next one.
    FollowStock(Vec<ProductId>),
    /// Place order `id` (minted by `update`, so it knows its pending order) and follow it.
    Checkout {
        id: OrderId,
        lines: Vec<OrderLine>,
    },
    /// Kill an embedded node, as a crash would.
    KillNode(NodeId),
    /// Let an embedded node leave gracefully (it hands its entries over).
    LeaveNode(NodeId),
    StartNode(NodeId),
    RunDemo,
    /// Gather a trace's spans from this process and every member.
    LoadTrace(TraceId),
    /// Find the order, else the trace, whose id starts with the typed prefix (a filter that
    /// matched nothing listed), and open it.
    FindId(IdPrefix),
}

impl Effect {
    /// What the effect does, as its trace's root span is named.
    pub fn name(&self) -> &'static str {
        match self {
            Effect::LoadMembers => "load members",
            Effect::LoadProducts => "load products",
            Effect::LoadOrders => "load orders",
            Effect::FollowStock(_) => "follow stock",
            Effect::Checkout { .. } => "checkout",
            Effect::KillNode(_) => "kill node",
            Effect::LeaveNode(_) => "leave node",
            Effect::StartNode(_) => "start node",
            Effect::RunDemo => "run demo",
            Effect::LoadTrace(_) => "load trace",
            Effect::FindId(_) => "find id",
        }
    }
}
