//! The SQLite backend: one file shared by every node on the machine, WAL, synchronous=NORMAL.
//! The shop's writes go to the node's writer thread (`sqlite/writer.rs`), which commits the
//! writes waiting at once in one transaction and answers each after that commit; the
//! membership writes through a connection of its own, busy_timeout 5 s (heartbeats must never
//! queue behind shop writes); reads go through `READERS` connections (`sqlite/conns.rs`). The
//! membership's SQL is in `sqlite/roster.rs`, the shop's in `sqlite/catalog.rs`,
//! `sqlite/orders.rs` and `sqlite/books.rs`, one file per part of the `Store` trait.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

use super::{Clock, Millis, StoreError};
use conns::Conns;
use migrations::{MIGRATIONS, latest};

mod books;
mod catalog;
pub(super) mod conns;
pub(super) mod migrations;
mod orders;
mod roster;
#[cfg(test)]
mod test_hooks;
mod writer;

pub struct SqliteStore {
    path: PathBuf,
    /// The shop's writes, committed in groups on a thread of their own.
    shop: writer::Writer,
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

/// How many connections the shop's reads of one node share.
const READERS: usize = 2;

/// How long the migrating connection's busy handler waits for the write lock before the open
/// backs off and tries again.
const LOCK_WAIT: Duration = Duration::from_millis(3);

/// How long a node waits out a database that other nodes keep busy while it opens it.
const OPEN_PATIENCE: Duration = Duration::from_secs(30);

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// A database kept busy by other nodes starting at the same instant (switching the file
    /// to WAL, migrating) is waited out with backoff, never fatal.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let started = ringshop_shared::clock::now();
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
        // The schema first, on a connection of its own that gives up on a busy lock at once
        // (`open` waits a busy database out with backoff).
        let mut migrating = options
            .clone()
            .busy_timeout(LOCK_WAIT)
            .connect()
            .await
            .map_err(open_error)?;
        migrate(&mut migrating, &path).await?;
        migrating.close().await.map_err(open_error)?;
        let pool = |n| {
            SqlitePoolOptions::new()
                .max_connections(n)
                // No ping before each statement: a round trip to the connection's thread each.
                .test_before_acquire(false)
                .connect_with(options.clone())
        };
        let shop = writer::Writer::open(&path)?;
        let members = pool(1).await.map_err(open_error)?;
        let readers = connect(options.clone(), READERS)
            .await
            .map_err(open_error)?;
        Ok(SqliteStore {
            path,
            shop,
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
        self.clock.machine_now()
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

pub(super) use super::sql::query_error;

/// The row a write's `RETURNING` gave, read only once the statement ran to its end. A write
/// is read with `fetch_all`, never `fetch_optional`/`fetch_one`: those stop stepping at the
/// first row, and SQLite commits the statement (in autocommit) only at its last step, so a
/// commit that then fails (SQLITE_FULL on a full disk) is swallowed by the reset and the
/// caller is told of a row that was never stored.
pub(super) fn committed_row<R>(rows: Vec<R>) -> Option<R> {
    rows.into_iter().next()
}

#[cfg(test)]
mod tests;
