//! How both SQL backends read every kind of row back: members, the membership log, orders
//! (their lines gathered from `order_lines` into one column), products, holds, stray holds and
//! the audits, each decoder written once over [`Cells`], which any `sqlx::Row` of either
//! backend is.

use std::time::Duration;

use ringshop_shared::prefix::Found;
use ringshop_shared::wire::ClusterTiming;
use ringshop_shared::wire::{Member, MemberStatus, Membership};
use ringshop_shared::{NodeId, Order, OrderLine, Product, ProductId, Stage};
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::orders::OrderRecord;
use super::sql::query_error;
use super::{Audit, Change, HoldState, OrderAudit, StoreError, StoredOrder, StrayHold};

/// The cluster's timings from the meta rows `(key, value)`; a row missing or out of range
/// (only a database edited by hand) keeps the proposed value.
pub fn timing_from(rows: &[(String, i64)], proposed: ClusterTiming) -> ClusterTiming {
    let ms = |key: &str| {
        rows.iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| u64::try_from(*v).ok())
            .filter(|v| *v > 0)
            .map(Duration::from_millis)
    };
    ClusterTiming {
        heartbeat: ms("heartbeat_ms").unwrap_or(proposed.heartbeat),
        suspicion: ms("suspicion_ms").unwrap_or(proposed.suspicion),
    }
}

/// The reads a row decoder needs, on any `sqlx::Row` whose database decodes text and 64-bit
/// integers (SQLite's and PostgreSQL's both do): the bounds are said once, here, and every
/// decoder below is written once for both backends.
pub trait Cells {
    fn text(&self, i: usize) -> Result<String, sqlx::Error>;
    fn maybe_text(&self, i: usize) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, i: usize) -> Result<i64, sqlx::Error>;
}

impl<R> Cells for R
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, i: usize) -> Result<String, sqlx::Error> {
        self.try_get(i)
    }
    fn maybe_text(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
        self.try_get(i)
    }
    fn int(&self, i: usize) -> Result<i64, sqlx::Error> {
        self.try_get(i)
    }
}

/// The names of the members a write marked dead, sorted (rows of `name`).
pub fn names_from_rows(rows: &[impl Cells]) -> Vec<NodeId> {
    let mut names: Vec<NodeId> = rows
        .iter()
        .filter_map(|r| r.text(0).ok())
        .filter_map(|n| NodeId::new(n).ok())
        .collect();
    names.sort();
    names
}

/// The membership from rows of `epoch, name, addr, incarnation, status, heartbeat age in ms,
/// acked_epoch` (the epoch and a LEFT JOIN of the members: one row with no name when there
/// are none). A malformed member row is skipped, said in the log.
pub fn membership_from_rows(rows: &[impl Cells]) -> Membership {
    let mut membership = Membership::default();
    for row in rows {
        membership.epoch = row.int(0).map_or(0, count);
        let Ok(Some(name)) = row.maybe_text(1) else {
            continue; // no members yet: the LEFT JOIN's empty row
        };
        match member_from_row(row, &name) {
            Some(member) => membership.members.push(member),
            None => tracing::warn!(%name, "skipping a malformed member row"),
        }
    }
    membership
}

fn member_from_row(row: &impl Cells, name: &str) -> Option<Member> {
    Some(Member {
        name: NodeId::new(name).ok()?,
        addr: row.text(2).ok()?.parse().ok()?,
        incarnation: count(row.int(3).ok()?),
        status: MemberStatus::parse(&row.text(4).ok()?)?,
        heartbeat_age: Duration::from_millis(count(row.int(5).ok()?)),
        acked_epoch: count(row.int(6).ok()?),
    })
}

/// The membership log from rows of `epoch, name, addr, incarnation, status`.
pub fn changes_from_rows(rows: &[impl Cells]) -> Result<Vec<Change>, StoreError> {
    rows.iter()
        .map(|row| {
            change_from_row(row).ok_or(StoreError::Query {
                what: "reading the membership log",
                reason: "a malformed row in members_log".into(),
            })
        })
        .collect()
}

fn change_from_row(row: &impl Cells) -> Option<Change> {
    Some(Change {
        epoch: u64::try_from(row.int(0).ok()?).ok()?,
        name: NodeId::new(row.text(1).ok()?).ok()?,
        addr: row.text(2).ok()?.parse().ok()?,
        incarnation: u64::try_from(row.int(3).ok()?).ok()?,
        status: MemberStatus::parse(&row.text(4).ok()?)?,
    })
}

/// The cells of an orders row, read by `what` (the step each error names).
struct OrderCells<'a, R> {
    row: &'a R,
    what: &'static str,
}

impl<R: Cells> OrderCells<'_, R> {
    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.row.text(i).map_err(query_error(self.what))
    }
    fn maybe_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.row.maybe_text(i).map_err(query_error(self.what))
    }
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.row.int(i).map_err(query_error(self.what))
    }
    fn bad(&self, column: &str) -> StoreError {
        StoreError::Query {
            what: self.what,
            reason: format!("malformed {column} in the orders table"),
        }
    }
    fn stage(&self, i: usize) -> Result<Stage, StoreError> {
        Stage::parse(&self.text(i)?).ok_or_else(|| self.bad("stage"))
    }
    fn owner(&self, i: usize) -> Result<NodeId, StoreError> {
        NodeId::new(self.text(i)?).map_err(|_| self.bad("owner"))
    }
}

/// An order from a row of `ORDER_COLUMNS`.
pub fn order_from_row(row: &impl Cells) -> Result<StoredOrder, StoreError> {
    let c = OrderCells {
        row,
        what: "reading an order",
    };
    Ok(OrderRecord {
        id: c.text(0)?.parse().map_err(|_| c.bad("id"))?,
        customer: c.text(1)?,
        lines: (c.maybe_text(2)?)
            .as_deref()
            .and_then(decode_lines)
            .ok_or_else(|| c.bad("lines"))?,
        total_cents: count(c.int(3)?),
        stage: c.stage(4)?,
        reason: c.maybe_text(5)?,
        owner: c.owner(6)?,
        created_ms: c.int(7)?,
        updated_ms: c.int(8)?,
        version: count(c.int(9)?),
        trace_parent: c.maybe_text(10)?,
    }
    .stored())
}

/// What an order's compare-and-set returns: the columns a move changes, and its creation time
/// for its age. The rest (its lines above all, a read of `order_lines`) never changes, so the
/// write does not read it back while it holds the write lock.
pub const MOVED_COLUMNS: &str = "stage, reason, owner, created_ms, updated_ms, version";

/// `cur` as its compare-and-set left it, from a row of `MOVED_COLUMNS`.
pub fn moved_from_row(cur: &StoredOrder, row: &impl Cells) -> Result<StoredOrder, StoreError> {
    let c = OrderCells {
        row,
        what: "moving an order on",
    };
    Ok(OrderRecord {
        id: cur.order.id,
        customer: cur.order.customer.clone(),
        lines: cur.order.lines.clone(),
        total_cents: cur.order.total_cents,
        stage: c.stage(0)?,
        reason: c.maybe_text(1)?,
        owner: c.owner(2)?,
        created_ms: c.int(3)?,
        updated_ms: c.int(4)?,
        version: count(c.int(5)?),
        trace_parent: cur.trace_parent.clone(),
    }
    .stored())
}

/// What `orders_by_prefix` says it was doing when it failed.
pub const FIND: &str = "finding orders by id prefix";

/// Orders from rows of `ORDER_COLUMNS` followed by the count of every match (`COUNT(*) OVER
/// ()`); no rows: no match.
pub fn found_from_rows(rows: &[impl Cells]) -> Result<Found<Order>, StoreError> {
    let total = match rows.first() {
        Some(row) => row.int(11).map_err(query_error(FIND))?.max(0) as u64,
        None => 0,
    };
    let first = rows
        .iter()
        .map(|r| order_from_row(r).map(|s| s.order))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Found { first, total })
}

/// A product and its stock left from a row of `id, name, category, price_cents, left`.
pub fn product_from_row(row: &impl Cells) -> Result<(Product, u32), StoreError> {
    let e = query_error("reading a product");
    let id = row.text(0).map_err(&e)?;
    let product = Product {
        id: ProductId::new(id).map_err(|err| StoreError::Query {
            what: "reading a product",
            reason: err.to_string(),
        })?,
        name: row.text(1).map_err(&e)?,
        category: row.text(2).map_err(&e)?,
        price_cents: row.int(3).map_err(&e)?.max(0) as u64,
    };
    let left = row.int(4).map_err(&e)?;
    Ok((product, left.clamp(0, i64::from(u32::MAX)) as u32))
}

/// One hold of an order from a row of `product, state`.
pub fn hold_from_row(row: &impl Cells) -> Result<(ProductId, HoldState), StoreError> {
    const WHAT: &str = "reading an order's holds";
    let bad = |column: &str| StoreError::Query {
        what: WHAT,
        reason: format!("malformed {column} in the reservations table"),
    };
    let product = row.text(0).map_err(query_error(WHAT))?;
    let state = row.text(1).map_err(query_error(WHAT))?;
    Ok((
        ProductId::new(product).map_err(|_| bad("product"))?,
        HoldState::parse(&state).ok_or_else(|| bad("state"))?,
    ))
}

fn malformed(what: &'static str, column: &str) -> StoreError {
    StoreError::Query {
        what,
        reason: format!("malformed {column} in the reservations table"),
    }
}

/// A hold's state from its column (NULL: no hold), while doing `what`.
pub fn hold_state(
    what: &'static str,
    state: Option<String>,
) -> Result<Option<HoldState>, StoreError> {
    state
        .map(|s| HoldState::parse(&s).ok_or_else(|| malformed(what, "state")))
        .transpose()
}

/// A stray hold from a row of `order_id, product, qty, stage (NULL: no order), held_ms`.
pub fn stray_from_row(row: &impl Cells) -> Result<StrayHold, StoreError> {
    const WHAT: &str = "listing stray holds";
    let e = query_error(WHAT);
    let stage = match row.maybe_text(3).map_err(&e)? {
        Some(s) => Some(Stage::parse(&s).ok_or_else(|| malformed(WHAT, "stage"))?),
        None => None,
    };
    Ok(StrayHold {
        order: row
            .text(0)
            .map_err(&e)?
            .parse()
            .map_err(|_| malformed(WHAT, "order_id"))?,
        product: ProductId::new(row.text(1).map_err(&e)?)
            .map_err(|_| malformed(WHAT, "product"))?,
        qty: units(row.int(2).map_err(&e)?),
        stage,
        held_ms: row.int(4).map_err(&e)?,
    })
}

/// One product's books from a row of `id, initial, left, sold, held, done_units`.
pub fn audit_from_row(row: &impl Cells) -> Result<Audit, StoreError> {
    const WHAT: &str = "auditing stock";
    let e = query_error(WHAT);
    let n = |i: usize| row.int(i).map(count).map_err(&e);
    Ok(Audit {
        product: ProductId::new(row.text(0).map_err(&e)?).map_err(|err| StoreError::Query {
            what: WHAT,
            reason: err.to_string(),
        })?,
        initial: n(1)?,
        left: n(2)?,
        sold: n(3)?,
        held: n(4)?,
        done_units: n(5)?,
    })
}

/// The orders' audit from a row of `open, done, failed` counts.
pub fn order_audit_from_row(row: &impl Cells) -> Result<OrderAudit, StoreError> {
    let n = |i: usize| {
        row.int(i)
            .map(count)
            .map_err(query_error("auditing orders"))
    };
    Ok(OrderAudit {
        open: n(0)?,
        done: n(1)?,
        failed: n(2)?,
    })
}

/// The orders table's columns, in the order the row readers expect. The lines come from
/// `order_lines` in their place in the order, as text for `decode_lines`, so an order is one
/// row.
pub const ORDER_COLUMNS: &str = "id, customer, \
     (SELECT string_agg(l.product || ':' || l.qty, ',' ORDER BY l.line) FROM order_lines l \
      WHERE l.order_id = orders.id), \
     total_cents, stage, reason, owner, created_ms, updated_ms, version, trace_parent";

/// An order's lines from their text as `ORDER_COLUMNS` reads them (`tea-kettle:2,mug:1`:
/// product ids hold neither ':' nor ','); None if malformed.
pub fn decode_lines(text: &str) -> Option<Vec<OrderLine>> {
    text.split(',')
        .map(|part| {
            let (product, qty) = part.split_once(':')?;
            Some(OrderLine {
                product: ProductId::new(product).ok()?,
                qty: qty.parse().ok()?,
            })
        })
        .collect()
}

/// A count from a column: never below zero.
pub fn count(n: i64) -> u64 {
    n.max(0) as u64
}

/// Units of stock from a column: between zero and `u32::MAX`.
pub fn units(n: i64) -> u32 {
    n.clamp(0, i64::from(u32::MAX)) as u32
}
