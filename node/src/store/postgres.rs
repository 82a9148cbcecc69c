//! The PostgreSQL backend: one server every node of the cluster reaches, wherever it runs.
//! Two pools per node, as on SQLite: the membership's (heartbeats must never queue behind shop
//! writes) and the shop's. The rules that keep the books are the database's own (plpgsql
//! triggers and functions, `postgres/migrations.rs`), so they hold for every writer. The
//! membership's SQL is in `postgres/members.rs`, the shop's in `postgres/shop.rs` and
//! `postgres/books.rs`.
//!
//! Time is the server's `now()` (unless a test set a [`Clock`] by hand): nodes on different
//! machines never compare their own clocks. A lost connection fails the statements that
//! needed it (the heartbeat too, so the node fences itself); the pools open new connections
//! once the server answers again.

use std::future::Future;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use ringshop_shared::prefix::{Found, IdPrefix};
use ringshop_shared::wire::{ClusterTiming, MemberStatus, Membership};
use ringshop_shared::{NewOrder, NodeId, Order, OrderId, Product, ProductId, Stage};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::location::redact;
use super::{
    Audit, BoxFuture, Change, Clock, HoldState, Joined, Millis, OrderAudit, Reservation, Store,
    StoreError, StoredOrder, StrayHold,
};
use crate::shop::catalog::Entry;
use migrations::{LOCK_KEY, MIGRATIONS, latest};

mod books;
mod members;
pub(super) mod migrations;
mod shop;

pub struct PgStore {
    /// The URL without its password, for errors and logs.
    db: String,
    shop: PgPool,
    members: PgPool,
    clock: Clock,
}

/// Connections per node for the shop's reads and writes.
const SHOP_CONNECTIONS: u32 = 8;
/// Connections per node for heartbeats and the membership's reads and writes.
const MEMBER_CONNECTIONS: u32 = 2;
/// How long a statement waits for a connection before it fails (the server may be down: a
/// caller learns it soon and the heartbeat's lease runs out on its own).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// SQLSTATEs we tell apart.
const INVALID_PASSWORD: &str = "28P01";
const INVALID_AUTHORIZATION: &str = "28000";
const NO_SUCH_DATABASE: &str = "3D000";

impl PgStore {
    /// Connects to the database at `url` (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE) and
    /// brings its schema up to date; nodes starting at once wait for each other's migration.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let db = redact(url);
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl {
                url: db.clone(),
                reason: e.to_string(),
            })?
            .application_name("ringshop-node");
        let pool = |n| {
            PgPoolOptions::new()
                .max_connections(n)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                // No ping before each statement (a round trip each): a connection the server
                // dropped fails one statement, and its release check closes it.
                .test_before_acquire(false)
                .connect_with(options.clone())
        };
        let shop = pool(SHOP_CONNECTIONS).await.map_err(|e| classify(&db, e))?;
        let store = PgStore {
            members: shop.clone(),
            shop,
            db,
            clock: Clock::own(),
        };
        store.migrate().await?;
        let members = pool(MEMBER_CONNECTIONS)
            .await
            .map_err(|e| classify(&store.db, e))?;
        Ok(PgStore { members, ..store })
    }

    /// This store on `clock` instead of the server's (tests set the time by hand).
    pub fn with_clock(mut self, clock: Clock) -> PgStore {
        self.clock = clock;
        self
    }

    /// The hand-set time to bind where the SQL reads `COALESCE($n, ringshop_now_ms())`; None
    /// (the server's `now()`) unless a test set the clock.
    pub(super) fn now(&self) -> Option<Millis> {
        self.clock.fixed()
    }

    /// The database's URL without its password.
    pub fn db(&self) -> &str {
        &self.db
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let err = |e: sqlx::Error| classify(&self.db, e);
        let mut tx = self.shop.begin().await.map_err(err)?;
        // Released at commit or rollback, whatever happens to this connection.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK_KEY)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        let current: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0)::bigint FROM schema_version")
                .fetch_one(&mut *tx)
                .await
                .map_err(err)?;
        if current > latest() {
            return Err(StoreError::TooNew {
                db: self.db.clone(),
                found: current,
                known: latest(),
            });
        }
        // A plain loop, not a filter closure: the future stays Send (a node may open its
        // store on a spawned task).
        for &(version, sql) in MIGRATIONS {
            if version <= current {
                continue;
            }
            // Through `Executor::execute`: `RawSql::execute` makes the future not Send.
            sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(sql))
                .await
                .map_err(err)?;
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            tracing::info!(db = %self.db, version, "migrated");
        }
        tx.commit().await.map_err(err)
    }
}

/// Turns a driver error met while connecting into one that names the database and the fix.
fn classify(db: &str, e: sqlx::Error) -> StoreError {
    let code = e
        .as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned());
    let reason = e.to_string();
    let unreachable = |fix| StoreError::Unreachable {
        db: db.to_string(),
        reason: reason.clone(),
        fix,
    };
    match (&e, code.as_deref()) {
        (sqlx::Error::Configuration(_), _) => StoreError::BadUrl {
            url: db.to_string(),
            reason,
        },
        (_, Some(INVALID_PASSWORD | INVALID_AUTHORIZATION)) => {
            unreachable("check the user and password in the URL (or the server's pg_hba.conf)")
        }
        (_, Some(NO_SUCH_DATABASE)) => unreachable(
            "create the database first (createdb NAME) or fix its name at the end of the URL",
        ),
        (sqlx::Error::Tls(_), _) => unreachable(
            "this build talks to PostgreSQL without TLS: use sslmode=disable or sslmode=prefer, over a network you trust",
        ),
        (sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed, _) => {
            unreachable("check the server is running and that HOST:PORT in the URL reaches it")
        }
        _ => StoreError::Query {
            what: "opening the store",
            reason,
        },
    }
}

pub(super) use super::columns::query_error;

impl Store for PgStore {
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

impl PgStore {
    fn shop<'a, T>(
        &'a self,
        f: impl Future<Output = Result<T, StoreError>> + Send + 'a,
    ) -> BoxFuture<'a, Result<T, StoreError>> {
        Box::pin(f)
    }
}

#[cfg(test)]
mod tests;
