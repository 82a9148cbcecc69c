//! The memory backend: the whole store in this process's memory, for tests and the simulator.
//! Same contract as the SQL backends (the contract suite runs on it too), same rules: every
//! write is conditional, an order moves by compare-and-set on its version, a hold belongs to
//! one line of an open order and moves held → released | sold once, time is the store's clock.
//!
//! One lock over all the tables stands where a SQL statement's transaction stands: a call
//! takes it, reads and writes, and lets it go, never across an `.await`, so every call is
//! atomic as one statement is. The rules a SQL backend's triggers keep are kept by the few
//! functions every write goes through (`Tables::move_hold`, `Tables::advance`, ...), so no
//! call can skip them. Stores made by [`MemoryStore::another`] share the tables (a second node
//! on one database), each on its own clock.
//!
//! It must never be what a real cluster runs on: nothing outlives the process, and nodes in
//! other processes cannot reach it (`--db :memory:` gives one node a cluster of its own).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use ringshop_shared::hash::Map;
use ringshop_shared::wire::{ClusterTiming, MemberStatus};
use ringshop_shared::{NodeId, OrderId, Product, ProductId};

use super::orders::OrderRecord;
use super::{Change, Clock, HoldState, Millis, Rule, StoreError};

mod books;
mod catalog;
mod orders;
mod roster;
#[cfg(test)]
mod test_hooks;
#[cfg(test)]
mod tests;

/// A store in memory; clones share the tables and the clock.
#[derive(Clone, Default)]
pub struct MemoryStore {
    tables: Arc<Mutex<Tables>>,
    clock: Clock,
}

/// Everything the store keeps, as the SQL backends' tables keep it.
#[derive(Default)]
struct Tables {
    members: BTreeMap<NodeId, MemberRow>,
    /// Moves with every join, status change or death (`members_log` gets a row each).
    epoch: u64,
    log: BTreeMap<u64, Change>,
    /// When each voter last found (target, incarnation) unreachable.
    votes: Map<(NodeId, u64, NodeId), Millis>,
    timing: Option<ClusterTiming>,
    products: BTreeMap<ProductId, ProductRow>,
    orders: BTreeMap<OrderId, OrderRecord>,
    /// Each order's holds, by product.
    holds: BTreeMap<OrderId, BTreeMap<ProductId, HoldRow>>,
}

struct MemberRow {
    addr: std::net::SocketAddr,
    incarnation: u64,
    status: MemberStatus,
    heartbeat_ms: Millis,
    acked_epoch: u64,
}

struct ProductRow {
    product: Product,
    initial: u64,
    left: u64,
    sold: u64,
}

struct HoldRow {
    qty: u32,
    state: HoldState,
    held_ms: Millis,
}

impl MemoryStore {
    /// An empty store on this machine's clock.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// This store on `clock` instead of the machine's.
    pub fn with_clock(mut self, clock: Clock) -> MemoryStore {
        self.clock = clock;
        self
    }

    /// Another store on the same tables (as a second node opens the same database), on `clock`.
    pub fn another(&self, clock: Clock) -> MemoryStore {
        MemoryStore {
            tables: self.tables.clone(),
            clock,
        }
    }

    /// Now on this store's clock.
    fn now(&self) -> Millis {
        self.clock.machine_now()
    }

    /// The tables, for one call's reads and writes (never held across an `.await`).
    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A write the store's rules refuse, as a SQL backend's trigger would refuse it.
fn refused(what: &'static str, rule: Rule) -> StoreError {
    StoreError::Refused { what, rule }
}

/// `at - span`, never below the smallest time.
fn before(at: Millis, span: std::time::Duration) -> Millis {
    at.saturating_sub(super::millis(span))
}

/// Units of stock as the trait answers them (at most `u32::MAX`).
fn units(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
