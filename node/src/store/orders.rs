//! Orders as the store keeps them: stored once under their id, then moved from stage to stage
//! by compare-and-set on their version, so a second owner during a split view fails its move
//! instead of overwriting the first's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use ringshop_shared::prefix::{Found, IdPrefix};
use ringshop_shared::trace::TraceId;
use ringshop_shared::{NewOrder, NodeId, Order, OrderId, OrderLine, Stage};

use super::{Millis, StoreError};

/// An order with the version its compare-and-set updates check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOrder {
    pub order: Order,
    pub version: u64,
    /// The trace it was placed in (W3C traceparent), if that call was traced.
    pub trace_parent: Option<String>,
}

/// An order as every backend keeps it (a row of the orders table): times in ms on the store's
/// clock. [`OrderRecord::stored`] makes the order callers see of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct OrderRecord {
    pub id: OrderId,
    pub customer: String,
    pub lines: Vec<OrderLine>,
    pub total_cents: u64,
    pub stage: Stage,
    pub reason: Option<String>,
    pub owner: NodeId,
    pub created_ms: Millis,
    pub updated_ms: Millis,
    pub version: u64,
    pub trace_parent: Option<String>,
}

impl OrderRecord {
    pub fn stored(self) -> StoredOrder {
        let (created, updated) = (self.created_ms, self.updated_ms);
        let trace_id = self
            .trace_parent
            .as_deref()
            .and_then(TraceId::from_traceparent);
        StoredOrder {
            order: Order {
                id: self.id,
                customer: self.customer,
                lines: self.lines,
                total_cents: self.total_cents,
                stage: self.stage,
                reason: self.reason,
                node: self.owner,
                created_at: at(created),
                updated_at: at(updated),
                elapsed: Duration::from_millis(updated.saturating_sub(created).max(0) as u64),
                waiting: None,
                trace_id,
            },
            version: self.version,
            trace_parent: self.trace_parent,
        }
    }
}

/// A time in ms since the Unix epoch (none before it).
fn at(ms: Millis) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

/// How many orders are at each kind of stage, in one snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderAudit {
    /// Accepted, reserving or paying.
    pub open: u64,
    pub done: u64,
    pub failed: u64,
}

/// The orders' part of the store.
#[async_trait]
pub trait Orders: Send + Sync + 'static {
    /// Stores a new order at stage `accepted` (created at the store's now) with the trace it
    /// was placed in, or returns the one stored under its id.
    async fn create_order(
        &self,
        order: &NewOrder,
        total_cents: u64,
        owner: &NodeId,
        trace_parent: Option<&str>,
    ) -> Result<StoredOrder, StoreError>;

    async fn order(&self, id: OrderId) -> Result<Option<StoredOrder>, StoreError>;

    /// Moves the order `cur` (as read at its version) to `to` (and to `owner`, updated at the
    /// store's now) if it is still at that version; None if another node moved it first. An
    /// order's lines never change, so a backend takes them from `cur` instead of reading them
    /// back inside its write.
    async fn advance(
        &self,
        cur: &StoredOrder,
        to: Stage,
        owner: &NodeId,
        reason: Option<&str>,
    ) -> Result<Option<StoredOrder>, StoreError>;

    /// Orders whose checkout has not finished, oldest first.
    async fn open_orders(&self) -> Result<Vec<StoredOrder>, StoreError>;

    /// Orders, newest first, of one customer or all.
    async fn orders(&self, customer: Option<&str>, limit: u32) -> Result<Vec<Order>, StoreError>;

    /// Orders whose id starts with `prefix`: the first `limit` by id, and how many match in
    /// all, read in one statement (the count and the rows agree).
    async fn orders_by_prefix(
        &self,
        prefix: &IdPrefix,
        limit: u32,
    ) -> Result<Found<Order>, StoreError>;

    /// How many orders are open, done and failed.
    async fn audit_orders(&self) -> Result<OrderAudit, StoreError>;
}
