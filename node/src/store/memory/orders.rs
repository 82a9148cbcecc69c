//! Orders in memory: stored once under their id, moved by compare-and-set on their version
//! (`Tables::advance`, the one way a stage changes), with the rules SQL's triggers keep: the
//! move to done sells what a paying order holds and is refused unless every line is sold; an
//! order fails only with none sold, and gives back what it holds as it fails.

use async_trait::async_trait;
use ringshop_shared::prefix::{Found, IdPrefix};
use ringshop_shared::{NewOrder, NodeId, Order, OrderId, Stage};

use super::{MemoryStore, Tables, refused};
use crate::store::orders::OrderRecord;
use crate::store::{HoldState, Millis, OrderAudit, Orders, Rule, StoreError, StoredOrder};

const ADVANCE: &str = "moving an order on";

fn open(stage: Stage) -> bool {
    !matches!(stage, Stage::Done | Stage::Failed)
}

impl Tables {
    /// The order's compare-and-set: to `to` (and `owner`, at `now`) if it is still at
    /// `version` and open; its new row, None if it was not, or the rule it broke.
    pub(super) fn advance(
        &mut self,
        id: OrderId,
        version: u64,
        to: Stage,
        owner: &NodeId,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<Option<StoredOrder>, StoreError> {
        let Some(cur) = self.orders.get(&id) else {
            return Ok(None);
        };
        if cur.version != version || !open(cur.stage) {
            return Ok(None);
        }
        let count = |t: &Tables, state| t.holds_of(id).filter(|(_, h)| h.state == state).count();
        if to == Stage::Done {
            // The move to done is the sale: a paying order sells what it holds, all or
            // nothing, and is refused unless every line is then sold.
            let sells = cur.stage == Stage::Paying;
            let held = if sells {
                count(self, HoldState::Held)
            } else {
                0
            };
            if count(self, HoldState::Sold) + held != cur.lines.len() {
                return Err(refused(ADVANCE, Rule::DoneOnlyWhenSold));
            }
            let held: Vec<_> = self
                .holds_of(id)
                .filter(|(_, hold)| sells && hold.state == HoldState::Held)
                .map(|(product, _)| product.clone())
                .collect();
            for product in held {
                self.move_hold(id, &product, HoldState::Sold, ADVANCE)?;
            }
        }
        if to == Stage::Failed {
            if count(self, HoldState::Sold) > 0 {
                return Err(refused(ADVANCE, Rule::SoldCannotFail));
            }
            let held: Vec<_> = self
                .holds_of(id)
                .filter(|(_, hold)| hold.state == HoldState::Held)
                .map(|(product, _)| product.clone())
                .collect();
            for product in held {
                self.move_hold(id, &product, HoldState::Released, "failing an order")?;
            }
        }
        let Some(row) = self.orders.get_mut(&id) else {
            return Ok(None);
        };
        row.stage = to;
        row.owner = owner.clone();
        if let Some(reason) = reason {
            row.reason = Some(reason.to_string());
        }
        row.updated_ms = now;
        row.version += 1;
        Ok(Some(row.clone().stored()))
    }
}

#[async_trait]
impl Orders for MemoryStore {
    async fn create_order(
        &self,
        order: &NewOrder,
        total_cents: u64,
        owner: &NodeId,
        trace_parent: Option<&str>,
    ) -> Result<StoredOrder, StoreError> {
        let now = self.now();
        let mut t = self.tables();
        let row = t.orders.entry(order.id).or_insert_with(|| OrderRecord {
            id: order.id,
            customer: order.customer.clone(),
            lines: order.lines.clone(),
            total_cents: total_cents.min(i64::MAX as u64),
            stage: Stage::Accepted,
            reason: None,
            owner: owner.clone(),
            created_ms: now,
            updated_ms: now,
            version: 0,
            trace_parent: trace_parent.map(str::to_string),
        });
        Ok(row.clone().stored())
    }

    async fn order(&self, id: OrderId) -> Result<Option<StoredOrder>, StoreError> {
        Ok(self
            .tables()
            .orders
            .get(&id)
            .cloned()
            .map(OrderRecord::stored))
    }

    async fn advance(
        &self,
        cur: &StoredOrder,
        to: Stage,
        owner: &NodeId,
        reason: Option<&str>,
    ) -> Result<Option<StoredOrder>, StoreError> {
        let now = self.now();
        self.tables()
            .advance(cur.order.id, cur.version, to, owner, reason, now)
    }

    async fn open_orders(&self) -> Result<Vec<StoredOrder>, StoreError> {
        let t = self.tables();
        let mut open: Vec<&OrderRecord> = t.orders.values().filter(|o| open(o.stage)).collect();
        open.sort_by_key(|o| (o.created_ms, o.id));
        Ok(open.into_iter().cloned().map(OrderRecord::stored).collect())
    }

    async fn orders(&self, customer: Option<&str>, limit: u32) -> Result<Vec<Order>, StoreError> {
        let t = self.tables();
        let mut found: Vec<&OrderRecord> = t
            .orders
            .values()
            .filter(|o| customer.is_none_or(|c| o.customer == c))
            .collect();
        found.sort_by_key(|o| (std::cmp::Reverse(o.created_ms), o.id));
        let first = found.into_iter().take(limit as usize).cloned();
        Ok(first.map(|o| o.stored().order).collect())
    }

    async fn orders_by_prefix(
        &self,
        prefix: &IdPrefix,
        limit: u32,
    ) -> Result<Found<Order>, StoreError> {
        let from = prefix.hyphenated();
        let t = self.tables();
        // By id as stored: the UUID's bytes in order are its hyphenated text in order.
        let matching = t
            .orders
            .values()
            .filter(|o| o.id.to_string().starts_with(&from));
        let total = matching.clone().count() as u64;
        let first = matching.take(limit as usize).cloned();
        Ok(Found {
            first: first.map(|o| o.stored().order).collect(),
            total,
        })
    }

    async fn audit_orders(&self) -> Result<OrderAudit, StoreError> {
        let t = self.tables();
        let mut audit = OrderAudit::default();
        for o in t.orders.values() {
            match o.stage {
                Stage::Done => audit.done += 1,
                Stage::Failed => audit.failed += 1,
                _ => audit.open += 1,
            }
        }
        Ok(audit)
    }
}
