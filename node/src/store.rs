//! The store: the state that must outlive a node (membership, stock, orders), in one SQL
//! database every node of the cluster reaches. Callers see the `Store` trait and these types,
//! never SQL. Two backends implement it: `SqliteStore` (one file, WAL: the embedded default for
//! nodes on one machine) and `PgStore` (a PostgreSQL server: nodes on many machines). `--db`
//! picks one ([`Db`]): a path is SQLite, a `postgres://` URL is PostgreSQL.
//!
//! Every write is one conditional statement (no explicit transaction), as measured in
//! DESIGN.md: a write that matched no row lost a race, and says so in its result.
//!
//! Time is the store's: heartbeats, the silence that gets a member reaped, heartbeat ages,
//! votes, hold ages and order times are all stamped and compared on one clock inside the
//! store ([`Clock`]): the database server's `now()` for PostgreSQL, the machine's clock for
//! SQLite (every node of a SQLite store shares the machine). No node's clock is ever compared
//! with another's.

mod clock;
mod columns;
#[cfg(test)]
mod contract;
pub mod faulty;
mod location;
mod postgres;
mod sqlite;

/// The newest schema version in a backend's migrations: versions run 1, 2, ... with no gaps
/// (checked below for both backends), so it is the last one's.
fn newest(migrations: &[(i64, &str)]) -> i64 {
    migrations.last().map_or(0, |(v, _)| *v)
}

#[cfg(test)]
mod migration_versions {
    #[test]
    fn versions_start_at_one_and_have_no_gaps_on_both_backends() {
        for migrations in [
            super::sqlite::migrations::MIGRATIONS,
            super::postgres::migrations::MIGRATIONS,
        ] {
            for (i, (version, _)) in migrations.iter().enumerate() {
                assert_eq!(
                    *version,
                    i as i64 + 1,
                    "migration {i} has version {version}"
                );
            }
        }
    }
}
#[cfg(test)]
pub(crate) mod test_support;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use ringshop_shared::prefix::{Found, IdPrefix};
use ringshop_shared::wire::{ClusterTiming, MemberStatus, Membership};
use ringshop_shared::{NewOrder, NodeId, Order, OrderId, Product, ProductId, ShardError, Stage};

use crate::shop::catalog::Entry;

pub(crate) use clock::millis;
pub use clock::{Clock, now_ms};
pub use location::{Db, default_db, default_db_path};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Milliseconds since the Unix epoch, on the store's clock.
pub type Millis = i64;

/// What a node gets for joining.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined {
    pub incarnation: u64,
}

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
}

impl StoreError {
    /// Whether the same call may well work if tried again shortly: a busy lock or a lost
    /// connection. A full disk is not (it needs a person), nor is a refused query.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Busy { .. } | StoreError::Lost { .. })
    }

    /// The wire error for this failure on `node`.
    pub fn on(&self, node: &NodeId) -> ShardError {
        if let StoreError::Full { .. } = self {
            return ShardError::StoreFull { node: node.clone() };
        }
        ShardError::Store {
            node: node.clone(),
            reason: self.to_string(),
        }
    }
}

/// An order with the version its compare-and-set updates check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOrder {
    pub order: Order,
    pub version: u64,
    /// The trace it was placed in (W3C traceparent), if that call was traced.
    pub trace_parent: Option<String>,
}

/// What came of asking to hold stock for an order: the truth about its hold, so a job never
/// takes a hold that is gone for one it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// Held now, by this call: the stock left after it.
    Held {
        left: u32,
    },
    /// This order held it already (an earlier call for it): nothing changed.
    AlreadyHeld {
        left: u32,
    },
    /// This order's hold was released (the order failed, or its hold was given back): a
    /// released hold is never held again, and the order cannot be bought as placed.
    Released,
    /// This order bought it already: nothing changed.
    Sold {
        left: u32,
    },
    OutOfStock {
        left: u32,
    },
    UnknownProduct,
    /// No open order has this line: the order id is not stored, its order is done or failed,
    /// or the product and quantity are not one of its lines. Nothing is held.
    NoOpenOrder,
}

/// One membership change as the log recorded it: the member's row after the change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub epoch: u64,
    pub name: NodeId,
    pub addr: SocketAddr,
    pub incarnation: u64,
    pub status: MemberStatus,
}

/// One product's stock accounts: `initial == left + sold + held` always.
/// Where one hold is. It moves held → released or held → sold, once (migration 4 refuses
/// any other move).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldState {
    Held,
    Released,
    Sold,
}

impl HoldState {
    pub fn parse(word: &str) -> Option<HoldState> {
        match word {
            "held" => Some(HoldState::Held),
            "released" => Some(HoldState::Released),
            "sold" => Some(HoldState::Sold),
            _ => None,
        }
    }
}

/// A hold still held although its order is over (failed or done) or was never stored: the
/// reaper gives it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrayHold {
    pub order: OrderId,
    pub product: ProductId,
    pub qty: u32,
    /// The order's stage; None when no order has this id.
    pub stage: Option<Stage>,
    pub held_ms: Millis,
}

/// One product's books.
///
/// At every commit: `initial == left + sold + held`.
/// Once the shop is quiet (no order open, the reaper has run): `held == 0` and
/// `sold == done_units`, i.e. exactly the units of `done` orders were sold. `settled()` checks
/// both, so a test or a chaos checker needs one `Store::audit()` call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    pub product: ProductId,
    pub initial: u64,
    pub left: u64,
    pub sold: u64,
    pub held: u64,
    /// Units of this product on the lines of orders at stage `done` (read from the orders
    /// themselves, not from their holds, so a line never sold shows up as a difference).
    pub done_units: u64,
}

impl Audit {
    /// `initial == left + sold + held`: true at every commit.
    pub fn balanced(&self) -> bool {
        self.left
            .checked_add(self.sold)
            .and_then(|n| n.checked_add(self.held))
            == Some(self.initial)
    }

    /// Balanced, nothing held, and sold exactly the units of `done` orders: true once no order
    /// is open and stray holds were reaped.
    pub fn settled(&self) -> bool {
        self.balanced() && self.held == 0 && self.sold == self.done_units
    }
}

/// What came of finishing a paying order (`Store::finish`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Sold and done.
    Done(Box<StoredOrder>),
    /// Another node moved the order first: this job stops.
    Moved,
    /// A line is not sold: the order's holds, to say which.
    Unsold(Vec<(ProductId, HoldState)>),
}

/// How many orders are at each kind of stage, in one snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderAudit {
    /// Accepted, reserving or paying.
    pub open: u64,
    pub done: u64,
    pub failed: u64,
}

/// The one small interface to the shared database.
pub trait Store: Send + Sync + 'static {
    /// Registers `name` at `addr` as active with a new incarnation, unless a live member
    /// (active, joining or leaving, heard from within `suspicion` on the store's clock) holds
    /// the name.
    fn join<'a>(
        &'a self,
        name: &'a NodeId,
        addr: SocketAddr,
        suspicion: Duration,
    ) -> BoxFuture<'a, Result<Joined, StoreError>>;

    /// Records a heartbeat at the store's now (never moving it back in time); false when this
    /// incarnation is no longer a live member (it was declared dead or replaced) and must stop
    /// serving.
    fn heartbeat<'a>(
        &'a self,
        name: &'a NodeId,
        incarnation: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Moves this incarnation to `status`; false if it is not a live member any more.
    fn set_status<'a>(
        &'a self,
        name: &'a NodeId,
        incarnation: u64,
        status: MemberStatus,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Proposes the cluster's timings for `me`, which has just joined: written only when no
    /// other live member (heard from within the stored suspicion) runs on the stored ones,
    /// else left as they are; the timings in force after. Every node calls it once joined and
    /// runs on the answer, so all live members agree: once one is live, nobody else's
    /// proposal is written.
    fn settle_timing<'a>(
        &'a self,
        me: &'a NodeId,
        proposed: ClusterTiming,
    ) -> BoxFuture<'a, Result<ClusterTiming, StoreError>>;

    /// Marks dead every live member not heard from for longer than `suspicion` (on the
    /// store's clock); the names.
    fn reap(&self, suspicion: Duration) -> BoxFuture<'_, Result<Vec<NodeId>, StoreError>>;

    /// Marks one member dead at once (it was voted dead); false if it was not live.
    fn mark_dead<'a>(
        &'a self,
        name: &'a NodeId,
        incarnation: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The membership epoch: it moves on every join, status change or death.
    fn epoch(&self) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// Records that this incarnation has applied membership `epoch` and let go of every id it
    /// lost up to it (acknowledgements only move forward); false if it is not live any more.
    fn ack<'a>(
        &'a self,
        name: &'a NodeId,
        incarnation: u64,
        epoch: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The membership changes after `epoch`, oldest first, at most `limit` of them.
    fn changes_since(
        &self,
        epoch: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Change>, StoreError>>;

    /// `voter` found `target` (at `incarnation`) unreachable, now (the store's clock). Counts
    /// the votes cast for it in the last `window`; with at least `needed` of them, marks it
    /// dead. True if it is dead now (by this vote or before).
    fn vote<'a>(
        &'a self,
        target: &'a NodeId,
        incarnation: u64,
        voter: &'a NodeId,
        window: Duration,
        needed: u32,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Every member (with its heartbeat's age on the store's clock) and the epoch, read in one
    /// statement (so they agree).
    fn membership(&self) -> BoxFuture<'_, Result<Membership, StoreError>>;

    /// Adds the catalog's products (their initial stock only the first time; names, categories
    /// and prices are updated).
    fn seed<'a>(&'a self, entries: &'a [Entry]) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Every product with its stock left.
    fn products(&self) -> BoxFuture<'_, Result<Vec<(Product, u32)>, StoreError>>;

    /// One product with its stock left.
    fn product<'a>(
        &'a self,
        id: &'a ProductId,
    ) -> BoxFuture<'a, Result<Option<(Product, u32)>, StoreError>>;

    /// Holds `qty` of `product` for `order` (taken at the store's now), if `order` is stored,
    /// not done or failed, and has exactly this line, and the stock covers it; checked in the
    /// inserting statement. Holding twice for one order and product holds once; a released or
    /// sold hold is never held again: the answer says which.
    fn reserve<'a>(
        &'a self,
        order: OrderId,
        product: &'a ProductId,
        qty: u32,
    ) -> BoxFuture<'a, Result<Reservation, StoreError>>;

    /// `reserve` for several orders of one `product` (each ask's own answer, in order), which a
    /// backend may do in fewer round trips: then the `left` of `Held` and `OutOfStock` is the
    /// stock left once all of them were tried. By default, one `reserve` after the other.
    fn reserve_many<'a>(
        &'a self,
        product: &'a ProductId,
        asks: &'a [(OrderId, u32)],
    ) -> BoxFuture<'a, Vec<Result<Reservation, StoreError>>> {
        Box::pin(async move {
            let mut answers = Vec::with_capacity(asks.len());
            for (order, qty) in asks {
                answers.push(self.reserve(*order, product, *qty).await);
            }
            answers
        })
    }

    /// Gives back what `order` holds of `product`; false if it held nothing.
    fn release<'a>(
        &'a self,
        order: OrderId,
        product: &'a ProductId,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Marks everything `order` holds sold, all or nothing: only while the order is `paying`
    /// and every one of its lines is held or sold. How many lines this call sold; `holds` tells
    /// whether the order is bought.
    fn sell(&self, order: OrderId) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// Stores a new order at stage `accepted` (created at the store's now) with the trace it
    /// was placed in, or returns the one stored under its id.
    fn create_order<'a>(
        &'a self,
        order: &'a NewOrder,
        total_cents: u64,
        owner: &'a NodeId,
        trace_parent: Option<&'a str>,
    ) -> BoxFuture<'a, Result<StoredOrder, StoreError>>;

    fn order(&self, id: OrderId) -> BoxFuture<'_, Result<Option<StoredOrder>, StoreError>>;

    /// Moves an order to `to` (and to `owner`, updated at the store's now) if it is still at
    /// `version`; None if another node moved it first.
    fn advance<'a>(
        &'a self,
        id: OrderId,
        version: u64,
        to: Stage,
        owner: &'a NodeId,
        reason: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Option<StoredOrder>, StoreError>>;

    /// Sells the paying order `cur` and moves it to `done` (owned by `owner`): `sell`, then
    /// `advance` to `done` if every line is sold. Done, Moved (another node moved it first) or
    /// Unsold with its holds (a line is not sold: the job fails the order). A backend may do it
    /// in fewer round trips (SQLite: one write, in one transaction when others wait).
    fn finish<'a>(
        &'a self,
        cur: &'a StoredOrder,
        owner: &'a NodeId,
    ) -> BoxFuture<'a, Result<Finish, StoreError>> {
        Box::pin(async move {
            let id = cur.order.id;
            self.sell(id).await?;
            let holds = self.holds(id).await?;
            let sold = cur.order.lines.iter().all(|line| {
                holds
                    .iter()
                    .any(|(p, state)| p == &line.product && *state == HoldState::Sold)
            });
            if !sold {
                return Ok(Finish::Unsold(holds));
            }
            Ok(
                match self
                    .advance(id, cur.version, Stage::Done, owner, None)
                    .await?
                {
                    Some(done) => Finish::Done(Box::new(done)),
                    None => Finish::Moved,
                },
            )
        })
    }

    /// Orders whose checkout has not finished.
    fn open_orders(&self) -> BoxFuture<'_, Result<Vec<StoredOrder>, StoreError>>;

    /// Orders, newest first, of one customer or all.
    fn orders<'a>(
        &'a self,
        customer: Option<&'a str>,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<Order>, StoreError>>;

    /// Orders whose id starts with `prefix`: the first `limit` by id, and how many match in
    /// all, read in one statement (the count and the rows agree).
    fn orders_by_prefix<'a>(
        &'a self,
        prefix: &'a IdPrefix,
        limit: u32,
    ) -> BoxFuture<'a, Result<Found<Order>, StoreError>>;

    /// Every product's books, in one statement (see `Audit` for what holds when).
    fn audit(&self) -> BoxFuture<'_, Result<Vec<Audit>, StoreError>>;

    /// Every hold `order` has, by product.
    fn holds(
        &self,
        order: OrderId,
    ) -> BoxFuture<'_, Result<Vec<(ProductId, HoldState)>, StoreError>>;

    /// Holds held for longer than `older_than` (on the store's clock) whose order is failed,
    /// done or not stored, oldest first, at most `limit`.
    fn stray_holds(
        &self,
        older_than: Duration,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<StrayHold>, StoreError>>;

    /// Gives back one stray hold if it is still held, for longer than `older_than`, and its
    /// order is still over or missing, in one statement; false if it was not (any more).
    fn release_stray<'a>(
        &'a self,
        order: OrderId,
        product: &'a ProductId,
        older_than: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// How many orders are open, done and failed.
    fn audit_orders(&self) -> BoxFuture<'_, Result<OrderAudit, StoreError>>;
}

/// Runs `call` again while it fails with a transient error (`StoreError::is_transient`) and
/// `until` leaves room for another try, pausing 10 ms, then twice as long each time, at most
/// 200 ms. A store that stutters (a lock held a moment too long, a connection lost as the
/// database restarts) then costs the caller time, not an error.
pub async fn patiently<T, F, Fut>(until: tokio::time::Instant, mut call: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut pause = Duration::from_millis(10);
    loop {
        match call().await {
            Err(e) if e.is_transient() && tokio::time::Instant::now() + pause < until => {
                tracing::debug!(error = %e, "store call failed; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            done => return done,
        }
    }
}

/// Opens the store `db` names: a SQLite file, or a PostgreSQL database.
pub async fn open(db: &Db) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    Ok(match db {
        Db::Sqlite(path) => std::sync::Arc::new(SqliteStore::open(path).await?),
        Db::Postgres(url) => std::sync::Arc::new(PgStore::connect(url).await?),
    })
}
