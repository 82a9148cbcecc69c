//! How both backends write an order in its columns: its lines as text (`mug:2,teapot:1`) and
//! its times as ms since the Unix epoch; and how both read orders and products back from a
//! row (`Cells`, for either backend's row type).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ringshop_shared::prefix::Found;
use ringshop_shared::trace::TraceId;
use ringshop_shared::wire::ClusterTiming;
use ringshop_shared::{NodeId, Order, OrderId, OrderLine, Product, ProductId, Stage};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use super::{HoldState, StoreError, StoredOrder};

/// A store error for a failed query while doing `what`.
pub fn query_error(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| {
        let reason = e.to_string();
        if disk_full(&e) {
            return StoreError::Full { what, reason };
        }
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => StoreError::Lost { what, reason },
            _ if super::sqlite::conns::busy(&e) => StoreError::Busy { reason },
            _ => StoreError::Query { what, reason },
        }
    }
}

/// A SQLite result code (extended codes are below 10,000). PostgreSQL's SQLSTATEs are five
/// characters, and some parse as numbers ("53100"), so a five-character code is never SQLite's.
pub(in crate::store) fn sqlite_code(e: &sqlx::Error) -> Option<i32> {
    let code = e.as_database_error()?.code()?;
    if code.len() == 5 {
        return None; // a PostgreSQL SQLSTATE
    }
    code.parse::<i32>().ok()
}

/// SQLITE_FULL (13, and its extended codes), PostgreSQL's disk_full (53100), or an I/O error
/// that says ENOSPC.
fn disk_full(e: &sqlx::Error) -> bool {
    if let sqlx::Error::Io(io) = e {
        return io.raw_os_error() == Some(28);
    }
    let pg = e.as_database_error().and_then(|d| d.code());
    pg.is_some_and(|c| c == "53100") || sqlite_code(e).is_some_and(|c| c & 0xff == 13)
}

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

/// The reads a row decoder needs, the same on either backend's row.
pub trait Cells {
    fn text(&self, i: usize) -> Result<String, sqlx::Error>;
    fn maybe_text(&self, i: usize) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, i: usize) -> Result<i64, sqlx::Error>;
}

macro_rules! cells {
    ($row:ty) => {
        impl Cells for $row {
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
    };
}
cells!(SqliteRow);
cells!(PgRow);

/// An order from a row of `ORDER_COLUMNS`.
pub fn order_from_row(row: &impl Cells) -> Result<StoredOrder, StoreError> {
    let bad = |what: &str| StoreError::Query {
        what: "reading an order",
        reason: format!("malformed {what} in the orders table"),
    };
    let get_text = |i: usize| row.text(i).map_err(query_error("reading an order"));
    let get_int = |i: usize| row.int(i).map_err(query_error("reading an order"));
    let id: OrderId = get_text(0)?.parse().map_err(|_| bad("id"))?;
    let lines = decode_lines(&get_text(2)?).ok_or_else(|| bad("lines"))?;
    let stage = Stage::parse(&get_text(4)?).ok_or_else(|| bad("stage"))?;
    let reason = row.maybe_text(5).map_err(query_error("reading an order"))?;
    let node = NodeId::new(get_text(6)?).map_err(|_| bad("owner"))?;
    let (created, updated) = (get_int(7)?, get_int(8)?);
    Ok(StoredOrder {
        order: Order {
            id,
            customer: get_text(1)?,
            lines,
            total_cents: get_int(3)?.max(0) as u64,
            stage,
            reason,
            node,
            created_at: at(created),
            updated_at: at(updated),
            elapsed: Duration::from_millis(updated.saturating_sub(created).max(0) as u64),
            waiting: None,
            trace_id: row
                .maybe_text(10)
                .map_err(query_error("reading an order"))?
                .as_deref()
                .and_then(TraceId::from_traceparent),
        },
        version: get_int(9)?.max(0) as u64,
        trace_parent: row
            .maybe_text(10)
            .map_err(query_error("reading an order"))?,
    })
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

/// The orders table's columns, in the order the row readers expect.
pub const ORDER_COLUMNS: &str = "id, customer, lines, total_cents, stage, reason, owner, created_ms, updated_ms, version, \
     trace_parent";

/// `tea-kettle:2,mug:1`: product ids cannot hold ':' or ','.
pub fn encode_lines(lines: &[OrderLine]) -> String {
    lines
        .iter()
        .map(|l| format!("{}:{}", l.product, l.qty))
        .collect::<Vec<_>>()
        .join(",")
}

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

pub fn at(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}
