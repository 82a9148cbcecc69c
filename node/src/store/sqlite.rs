//! The SQLite backend: one file shared by every node on the machine, WAL, synchronous=NORMAL,
//! every write one statement. The shop writes through `WRITERS` connections of its own that
//! wait for the write lock themselves (`sqlite/conns.rs`: SQLite's busy handler made the
//! shop's tail); the membership writes through one more, busy_timeout 5 s (heartbeats must
//! never queue behind shop writes); reads go through `READERS` connections. The membership's
//! SQL is in `sqlite/members.rs`, the shop's in `sqlite/shop.rs` and `sqlite/books.rs`.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ringshop_shared::NodeId;
use ringshop_shared::prefix::{Found, IdPrefix};
use ringshop_shared::wire::{ClusterTiming, MemberStatus, Membership};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

use ringshop_shared::{NewOrder, Order, OrderId, Product, ProductId, Stage};

use super::{
    Audit, BoxFuture, Change, Clock, Finish, Joined, Millis, Reservation, Store, StoreError,
    StoredOrder, now_ms,
};
use super::{HoldState, OrderAudit, StrayHold};
use crate::shop::catalog::Entry;
use conns::{Conns, LOCK_WAIT};
use migrations::{MIGRATIONS, latest};

mod books;
pub(super) mod conns;
mod members;
pub(super) mod migrations;
mod shop;

pub struct SqliteStore {
    path: PathBuf,
    writer: Conns,
    members: SqlitePool,
    reader: Conns,
    clock: Clock,
}

/// SQLite result codes we tell apart (`code()` gives the extended code as text).
const SQLITE_CANTOPEN: &str = "14";
const SQLITE_NOTADB: &str = "26";
const SQLITE_CORRUPT: &str = "11";
const SQLITE_BUSY: &str = "5";
const SQLITE_LOCKED: &str = "6";
const SQLITE_BUSY_SNAPSHOT: &str = "517";

/// How many connections the shop's writes of one node share (each write is one statement in
/// autocommit, so more than one lets a node's writes overlap their round trips), and its reads.
const WRITERS: usize = 2;
const READERS: usize = 2;

/// How long a node waits out a database that other nodes keep busy while it opens it.
const OPEN_PATIENCE: Duration = Duration::from_secs(30);

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// A database kept busy by other nodes starting at the same instant (switching the file
    /// to WAL, migrating) is waited out with backoff, never fatal.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            match SqliteStore::open_once(path).await {
                Err(StoreError::Busy { reason }) if started.elapsed() < OPEN_PATIENCE => {
                    tracing::debug!(path = %path.display(), %reason, "database busy while opening; waiting");
                    tokio::time::sleep(pause + Duration::from_millis(fastrand::u64(0..10))).await;
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                Err(StoreError::Busy { reason }) => {
                    return Err(StoreError::Open {
                        path: path.to_path_buf(),
                        reason: format!("still busy after {OPEN_PATIENCE:?}: {reason}"),
                    });
                }
                other => return other,
            }
        }
    }

    async fn open_once(path: &Path) -> Result<SqliteStore, StoreError> {
        let path = path.to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.clone(),
                reason: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let open_error = |e: sqlx::Error| classify(&path, e);
        let connect = |options: SqliteConnectOptions, n: usize| async move {
            let mut conns = Vec::with_capacity(n);
            for _ in 0..n {
                conns.push(options.connect().await?);
            }
            Ok::<_, sqlx::Error>(conns)
        };
        // Writes wait for the write lock in short steps (`conns::locked!`).
        let mut writers = connect(options.clone().busy_timeout(LOCK_WAIT), WRITERS)
            .await
            .map_err(open_error)?;
        if let Some(first) = writers.first_mut() {
            migrate(first, &path).await?;
        }
        let pool = |n| {
            SqlitePoolOptions::new()
                .max_connections(n)
                // No ping before each statement: a round trip to the connection's thread each.
                .test_before_acquire(false)
                .connect_with(options.clone())
        };
        let members = pool(1).await.map_err(open_error)?;
        let readers = connect(options.clone(), READERS)
            .await
            .map_err(open_error)?;
        Ok(SqliteStore {
            path,
            writer: Conns::new(writers),
            members,
            reader: Conns::new(readers),
            clock: Clock::own(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This store on `clock` instead of the machine's (tests set the time by hand).
    pub fn with_clock(mut self, clock: Clock) -> SqliteStore {
        self.clock = clock;
        self
    }

    /// Now on this store's clock: the machine's, which every node of a SQLite file shares.
    pub(super) fn now(&self) -> Millis {
        self.clock.fixed().unwrap_or_else(now_ms)
    }

    /// SQLite's own consistency check of the whole file: "ok", or what is wrong.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut *self.reader.get().await)
            .await
            .map_err(query_error("checking the file"))
    }
}

/// Brings the schema up to date, on the writer's connection before its task starts.
async fn migrate(conn: &mut SqliteConnection, path: &Path) -> Result<(), StoreError> {
    let err = |e: sqlx::Error| classify(path, e);
    // The write lock first, so a second node starting now waits instead of racing.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(err)?;
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    let current: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        .fetch_one(&mut *tx)
        .await
        .map_err(err)?;
    if current > latest() {
        return Err(StoreError::TooNew {
            db: path.display().to_string(),
            found: current,
            known: latest(),
        });
    }
    // A plain loop, not a filter closure: the future stays Send (a node may open its
    // store on a spawned task).
    for (version, sql) in MIGRATIONS {
        if *version <= current {
            continue;
        }
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(err)?;
        sqlx::query("INSERT INTO schema_version (version) VALUES (?)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tracing::info!(path = %path.display(), version, "migrated");
    }
    tx.commit().await.map_err(err)
}

/// Turns a driver error into one that names the file and the fix.
fn classify(path: &Path, e: sqlx::Error) -> StoreError {
    let code = e
        .as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned());
    let reason = e.to_string();
    match code.as_deref() {
        Some(SQLITE_BUSY | SQLITE_LOCKED | SQLITE_BUSY_SNAPSHOT) => StoreError::Busy { reason },
        Some(SQLITE_NOTADB) | Some(SQLITE_CORRUPT) => StoreError::Corrupt {
            path: path.to_path_buf(),
            reason,
        },
        Some(SQLITE_CANTOPEN) => StoreError::Open {
            path: path.to_path_buf(),
            reason,
        },
        _ if matches!(e, sqlx::Error::Io(_)) => StoreError::Open {
            path: path.to_path_buf(),
            reason,
        },
        _ => StoreError::Query {
            what: "opening the store",
            reason,
        },
    }
}

pub(super) use super::columns::query_error;

/// The row a write's `RETURNING` gave, read only once the statement ran to its end. A write
/// is read with `fetch_all`, never `fetch_optional`/`fetch_one`: those stop stepping at the
/// first row, and SQLite commits the statement (in autocommit) only at its last step, so a
/// commit that then fails (SQLITE_FULL on a full disk) is swallowed by the reset and the
/// caller is told of a row that was never stored.
pub(super) fn committed_row<R>(rows: Vec<R>) -> Option<R> {
    rows.into_iter().next()
}

impl Store for SqliteStore {
    fn join<'a>(
        &'a self,
        name: &'a NodeId,
        addr: SocketAddr,
        suspicion: Duration,
    ) -> BoxFuture<'a, Result<Joined, StoreError>> {
        Box::pin(self.join_impl(name, addr, suspicion))
    }

    fn heartbeat<'a>(
        &'a self,
        name: &'a NodeId,
        incarnation: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.heartbeat_impl(name, incarnation))
    }

    fn set_status<'a>(
        &'a self,
        name: &'a NodeId,
        incarnation: u64,
        status: MemberStatus,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.set_status_impl(name, incarnation, status))
    }

    fn settle_timing<'a>(
        &'a self,
        me: &'a NodeId,
        proposed: ClusterTiming,
    ) -> BoxFuture<'a, Result<ClusterTiming, StoreError>> {
        Box::pin(self.settle_timing_impl(me, proposed))
    }

    fn reap(&self, suspicion: Duration) -> BoxFuture<'_, Result<Vec<NodeId>, StoreError>> {
        Box::pin(self.reap_impl(suspicion))
    }

    fn mark_dead<'a>(
        &'a self,
        name: &'a NodeId,
        incarnation: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.set_status(name, incarnation, MemberStatus::Dead)
    }

    fn epoch(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(self.epoch_impl())
    }

    fn ack<'a>(
        &'a self,
        name: &'a NodeId,
        incarnation: u64,
        epoch: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.ack_impl(name, incarnation, epoch))
    }

    fn changes_since(
        &self,
        epoch: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Change>, StoreError>> {
        Box::pin(self.changes_since_impl(epoch, limit))
    }

    fn vote<'a>(
        &'a self,
        target: &'a NodeId,
        incarnation: u64,
        voter: &'a NodeId,
        window: Duration,
        needed: u32,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.vote_impl(target, incarnation, voter, window, needed))
    }

    fn membership(&self) -> BoxFuture<'_, Result<Membership, StoreError>> {
        Box::pin(self.membership_impl())
    }

    fn seed<'a>(&'a self, entries: &'a [Entry]) -> BoxFuture<'a, Result<(), StoreError>> {
        self.shop(self.seed_impl(entries))
    }

    fn products(&self) -> BoxFuture<'_, Result<Vec<(Product, u32)>, StoreError>> {
        self.shop(self.products_impl())
    }

    fn product<'a>(
        &'a self,
        id: &'a ProductId,
    ) -> BoxFuture<'a, Result<Option<(Product, u32)>, StoreError>> {
        self.shop(self.product_impl(id))
    }

    fn reserve<'a>(
        &'a self,
        order: OrderId,
        product: &'a ProductId,
        qty: u32,
    ) -> BoxFuture<'a, Result<Reservation, StoreError>> {
        self.shop(self.reserve_impl(order, product, qty))
    }

    fn reserve_many<'a>(
        &'a self,
        product: &'a ProductId,
        asks: &'a [(OrderId, u32)],
    ) -> BoxFuture<'a, Vec<Result<Reservation, StoreError>>> {
        Box::pin(self.reserve_many_impl(product, asks))
    }

    fn release<'a>(
        &'a self,
        order: OrderId,
        product: &'a ProductId,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.shop(self.release_impl(order, product))
    }

    fn sell(&self, order: OrderId) -> BoxFuture<'_, Result<u64, StoreError>> {
        self.shop(self.sell_impl(order))
    }

    fn create_order<'a>(
        &'a self,
        order: &'a NewOrder,
        total_cents: u64,
        owner: &'a NodeId,
        trace_parent: Option<&'a str>,
    ) -> BoxFuture<'a, Result<StoredOrder, StoreError>> {
        self.shop(self.create_order_impl(order, total_cents, owner, trace_parent))
    }

    fn order(&self, id: OrderId) -> BoxFuture<'_, Result<Option<StoredOrder>, StoreError>> {
        self.shop(self.order_impl(id))
    }

    fn advance<'a>(
        &'a self,
        id: OrderId,
        version: u64,
        to: Stage,
        owner: &'a NodeId,
        reason: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Option<StoredOrder>, StoreError>> {
        self.shop(self.advance_impl(id, version, to, owner, reason))
    }

    fn finish<'a>(
        &'a self,
        cur: &'a StoredOrder,
        owner: &'a NodeId,
    ) -> BoxFuture<'a, Result<Finish, StoreError>> {
        self.shop(self.finish_impl(cur, owner))
    }

    fn open_orders(&self) -> BoxFuture<'_, Result<Vec<StoredOrder>, StoreError>> {
        self.shop(self.open_orders_impl())
    }

    fn orders<'a>(
        &'a self,
        customer: Option<&'a str>,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<Order>, StoreError>> {
        self.shop(self.orders_impl(customer, limit))
    }

    fn orders_by_prefix<'a>(
        &'a self,
        prefix: &'a IdPrefix,
        limit: u32,
    ) -> BoxFuture<'a, Result<Found<Order>, StoreError>> {
        self.shop(self.orders_by_prefix_impl(prefix, limit))
    }

    fn audit(&self) -> BoxFuture<'_, Result<Vec<Audit>, StoreError>> {
        self.shop(self.audit_impl())
    }

    fn holds(
        &self,
        order: OrderId,
    ) -> BoxFuture<'_, Result<Vec<(ProductId, HoldState)>, StoreError>> {
        self.shop(self.holds_impl(order))
    }

    fn stray_holds(
        &self,
        older_than: Duration,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<StrayHold>, StoreError>> {
        self.shop(self.stray_holds_impl(older_than, limit))
    }

    fn release_stray<'a>(
        &'a self,
        order: OrderId,
        product: &'a ProductId,
        older_than: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.shop(self.release_stray_impl(order, product, older_than))
    }

    fn audit_orders(&self) -> BoxFuture<'_, Result<OrderAudit, StoreError>> {
        self.shop(self.audit_orders_impl())
    }
}

impl SqliteStore {
    fn shop<'a, T>(
        &'a self,
        f: impl Future<Output = Result<T, StoreError>> + Send + 'a,
    ) -> BoxFuture<'a, Result<T, StoreError>> {
        Box::pin(f)
    }
}

#[cfg(test)]
mod tests;
