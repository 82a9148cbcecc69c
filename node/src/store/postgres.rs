//! The PostgreSQL backend: one server every node of the cluster reaches, wherever it runs.
//! Two pools per node, as on SQLite: the membership's (heartbeats must never queue behind shop
//! writes) and the shop's. The rules that keep the books are the database's own (plpgsql
//! triggers and functions, `postgres/migrations.rs`), so they hold for every writer. The
//! membership's SQL is in `postgres/roster.rs`, the shop's in `postgres/catalog.rs`,
//! `postgres/orders.rs` and `postgres/books.rs`, one file per part of the `Store` trait.
//!
//! Time is the server's `now()` (unless a test set a [`Clock`] by hand): nodes on different
//! machines never compare their own clocks. A lost connection fails the statements that
//! needed it (the heartbeat too, so the node fences itself); the pools open new connections
//! once the server answers again.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::location::redact;
use super::{Clock, Millis, StoreError};
use migrations::{LOCK_KEY, MIGRATIONS, latest};

mod books;
mod catalog;
pub(super) mod migrations;
mod orders;
mod roster;
#[cfg(test)]
mod test_hooks;

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

pub(super) use super::sql::query_error;

#[cfg(test)]
mod tests;
