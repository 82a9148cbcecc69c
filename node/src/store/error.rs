//! What a store call can fail with, named for the thing and the fix. A caller branches on
//! `is_transient` (try again), on the variants (the books' refusals are typed: `Refused` with
//! its [`Rule`], and the refusals of a hold each have their own) and `on` (the wire's error),
//! never on the text.

use std::path::PathBuf;
use std::time::Duration;

use ringshop_shared::{NodeId, OrderId, ProductId, ShardError};

use super::Rule;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {reason}; check the folder exists and is writable, or choose another file with --db", path = path.display())]
    Open { path: PathBuf, reason: String },
    #[error("{path} is not a ringshop database or is damaged ({reason}); move it away or choose another file with --db", path = path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "the database {db} has schema version {found}, newer than this release knows ({known}); upgrade ringshop"
    )]
    TooNew { db: String, found: i64, known: i64 },
    #[error(
        "{url:?} is not a database this node can use: {reason}; give --db a file path (SQLite) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
    )]
    BadUrl { url: String, reason: String },
    #[error("cannot use the database {db}: {reason}; {fix}")]
    Unreachable {
        db: String,
        reason: String,
        fix: &'static str,
    },
    #[error("the name {name} is held by a live node at {addr} (last heartbeat {} ms ago); choose another --name or stop that node", heartbeat_age.as_millis())]
    NameTaken {
        name: NodeId,
        addr: String,
        heartbeat_age: Duration,
    },
    /// Other connections keep the database locked; waited out where it matters (opening).
    #[error("the database is busy (other nodes hold its lock): {reason}")]
    Busy { reason: String },
    #[error("database error while {what}: {reason}")]
    Query { what: &'static str, reason: String },
    /// The database's disk is full: nothing was written. Writes resume by themselves once
    /// there is space again.
    #[error(
        "the store is full (no space left on the database's disk) while {what}: {reason}; free space there and the node resumes by itself"
    )]
    Full { what: &'static str, reason: String },
    /// The connection to the database broke (or its pool had none to give): the call may or
    /// may not have been done. Worth trying again: every write is safe to repeat.
    #[error("lost the connection to the database while {what}: {reason}")]
    Lost { what: &'static str, reason: String },
    /// The store's rules refused the write (a trigger on SQL, the same rule in memory):
    /// nothing changed.
    #[error("the store refused {what}: {rule}")]
    Refused { what: &'static str, rule: Rule },
    /// Refusals of a hold (`Books::reserve`): nothing was held.
    #[error("{product}: {wanted} wanted but only {left} left")]
    OutOfStock {
        product: ProductId,
        wanted: u32,
        left: u32,
    },
    #[error("unknown product {product}")]
    UnknownProduct { product: ProductId },
    /// No open order has this line: the order id is not stored, its order is done or failed,
    /// or the product and quantity are not one of its lines.
    #[error("order {order} has no open line {product}:{qty}")]
    NoOpenOrder {
        order: OrderId,
        product: ProductId,
        qty: u32,
    },
    /// This order's hold was released (the order failed, or its hold was given back): a
    /// released hold is never held again, and the order cannot be bought as placed.
    #[error("order {order}: its hold on {product} was released and is never held again")]
    HoldReleased { order: OrderId, product: ProductId },
}

impl StoreError {
    /// Whether the same call may well work if tried again shortly: a busy lock or a lost
    /// connection. A full disk is not (it needs a person), nor is a refused query.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Busy { .. } | StoreError::Lost { .. })
    }

    /// The wire error for this failure on `node`.
    pub fn on(&self, node: &NodeId) -> ShardError {
        match self.clone() {
            StoreError::Full { .. } => ShardError::StoreFull { node: node.clone() },
            StoreError::OutOfStock {
                product,
                wanted,
                left,
            } => ShardError::OutOfStock {
                product,
                wanted,
                left,
            },
            StoreError::UnknownProduct { product } => ShardError::UnknownProduct { id: product },
            StoreError::NoOpenOrder {
                order,
                product,
                qty,
            } => ShardError::NoOpenOrder {
                order,
                product,
                qty,
            },
            StoreError::HoldReleased { order, product } => {
                ShardError::HoldReleased { order, product }
            }
            other => ShardError::Store {
                node: node.clone(),
                reason: other.to_string(),
            },
        }
    }
}
