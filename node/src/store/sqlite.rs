//! The SQLite backend: one file shared by every node on the machine, WAL, synchronous=NORMAL,
//! busy_timeout 5 s, one write connection per process, every write one statement.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ringshop_shared::NodeId;
use ringshop_shared::wire::{Member, MemberStatus, Membership};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use ringshop_shared::{NewOrder, Order, OrderId, Product, ProductId, Stage};

use super::migrations::{MIGRATIONS, latest};
use super::{Audit, BoxFuture, Joined, Millis, Reservation, Store, StoreError, StoredOrder};
use super::{HoldState, OrderAudit, StrayHold};
use crate::shop::catalog::Entry;

pub struct SqliteStore {
    path: PathBuf,
    pub(super) writer: SqlitePool,
    pub(super) reader: SqlitePool,
}

/// SQLite result codes we tell apart (`code()` gives the extended code as text).
const SQLITE_CANTOPEN: &str = "14";
const SQLITE_NOTADB: &str = "26";
const SQLITE_CORRUPT: &str = "11";

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
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
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(open_error)?;
        let store_for_migrations = SqliteStore {
            path: path.clone(),
            reader: writer.clone(),
            writer,
        };
        store_for_migrations.migrate().await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        Ok(SqliteStore {
            reader,
            ..store_for_migrations
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SQLite's own consistency check of the whole file: "ok", or what is wrong.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.reader)
            .await
            .map_err(query_error("checking the file"))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let err = |e: sqlx::Error| classify(&self.path, e);
        // The write lock first, so a second node starting now waits instead of racing.
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err)?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        let current: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version")
                .fetch_one(&mut *tx)
                .await
                .map_err(err)?;
        if current > latest() {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: current,
                known: latest(),
            });
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(err)?;
            sqlx::query("INSERT INTO schema_version (version) VALUES (?)")
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            tracing::info!(path = %self.path.display(), version, "migrated");
        }
        tx.commit().await.map_err(err)
    }
}

/// Turns a driver error into one that names the file and the fix.
fn classify(path: &Path, e: sqlx::Error) -> StoreError {
    let code = e
        .as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned());
    let reason = e.to_string();
    match code.as_deref() {
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

pub(super) fn query_error(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::Query {
        what,
        reason: e.to_string(),
    }
}

const LIVE: &str = "('joining', 'active', 'leaving')";

impl Store for SqliteStore {
    fn join<'a>(
        &'a self,
        name: &'a NodeId,
        addr: SocketAddr,
        now: Millis,
        stale_before: Millis,
    ) -> BoxFuture<'a, Result<Joined, StoreError>> {
        Box::pin(async move {
            let sql = format!(
                "INSERT INTO members (name, addr, incarnation, status, heartbeat_ms, joined_ms)
                 VALUES (?1, ?2, 1, 'active', ?3, ?3)
                 ON CONFLICT (name) DO UPDATE SET
                     addr = excluded.addr, incarnation = members.incarnation + 1,
                     status = 'active', heartbeat_ms = excluded.heartbeat_ms,
                     joined_ms = excluded.joined_ms
                 WHERE members.status NOT IN {LIVE} OR members.heartbeat_ms < ?4
                 RETURNING incarnation"
            );
            let row = sqlx::query(&sql)
                .bind(name.as_str())
                .bind(addr.to_string())
                .bind(now)
                .bind(stale_before)
                .fetch_optional(&self.writer)
                .await
                .map_err(query_error("joining"))?;
            if let Some(row) = row {
                let incarnation: i64 = row.try_get(0).map_err(query_error("joining"))?;
                return Ok(Joined {
                    incarnation: incarnation.max(0) as u64,
                });
            }
            let holder = sqlx::query("SELECT addr, heartbeat_ms FROM members WHERE name = ?1")
                .bind(name.as_str())
                .fetch_one(&self.reader)
                .await
                .map_err(query_error("reading who holds a name"))?;
            let addr: String = holder
                .try_get(0)
                .map_err(query_error("reading who holds a name"))?;
            let beat: i64 = holder
                .try_get(1)
                .map_err(query_error("reading who holds a name"))?;
            Err(StoreError::NameTaken {
                name: name.clone(),
                addr,
                heartbeat_age: Duration::from_millis(now.saturating_sub(beat).max(0) as u64),
            })
        })
    }

    fn heartbeat<'a>(
        &'a self,
        name: &'a NodeId,
        incarnation: u64,
        now: Millis,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let sql = format!(
                "UPDATE members SET heartbeat_ms = ?3
                 WHERE name = ?1 AND incarnation = ?2 AND status IN {LIVE}"
            );
            let done = sqlx::query(&sql)
                .bind(name.as_str())
                .bind(incarnation as i64)
                .bind(now)
                .execute(&self.writer)
                .await
                .map_err(query_error("heartbeating"))?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn set_status<'a>(
        &'a self,
        name: &'a NodeId,
        incarnation: u64,
        status: MemberStatus,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let sql = format!(
                "UPDATE members SET status = ?3
                 WHERE name = ?1 AND incarnation = ?2 AND status IN {LIVE}"
            );
            let done = sqlx::query(&sql)
                .bind(name.as_str())
                .bind(incarnation as i64)
                .bind(status.as_str())
                .execute(&self.writer)
                .await
                .map_err(query_error("changing a member's status"))?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn reap(&self, stale_before: Millis) -> BoxFuture<'_, Result<Vec<NodeId>, StoreError>> {
        Box::pin(async move {
            let sql = format!(
                "UPDATE members SET status = 'dead'
                 WHERE status IN {LIVE} AND heartbeat_ms < ?1 RETURNING name"
            );
            let rows = sqlx::query(&sql)
                .bind(stale_before)
                .fetch_all(&self.writer)
                .await
                .map_err(query_error("marking silent members dead"))?;
            Ok(rows
                .iter()
                .filter_map(|r| r.try_get::<String, _>(0).ok())
                .filter_map(|n| NodeId::new(n).ok())
                .collect())
        })
    }

    fn mark_dead<'a>(
        &'a self,
        name: &'a NodeId,
        incarnation: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.set_status(name, incarnation, MemberStatus::Dead)
    }

    fn epoch(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let epoch: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'epoch'")
                .fetch_one(&self.reader)
                .await
                .map_err(query_error("reading the epoch"))?;
            Ok(epoch.max(0) as u64)
        })
    }

    fn membership(&self, now: Millis) -> BoxFuture<'_, Result<Membership, StoreError>> {
        Box::pin(async move {
            // One statement, so the rows and the epoch come from one snapshot.
            let rows = sqlx::query(
                "SELECT meta.value, m.name, m.addr, m.incarnation, m.status, m.heartbeat_ms
                 FROM meta LEFT JOIN members m ON 1 = 1
                 WHERE meta.key = 'epoch' ORDER BY m.name",
            )
            .fetch_all(&self.reader)
            .await
            .map_err(query_error("reading the members"))?;
            let mut membership = Membership::default();
            for row in rows {
                membership.epoch = row.try_get::<i64, _>(0).map_or(0, |e| e.max(0) as u64);
                let Ok(Some(name)) = row.try_get::<Option<String>, _>(1) else {
                    continue; // no members yet: the LEFT JOIN's empty row
                };
                match member_from_row(&row, &name, now) {
                    Some(member) => membership.members.push(member),
                    None => tracing::warn!(%name, "skipping a malformed member row"),
                }
            }
            Ok(membership)
        })
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
        now: Millis,
    ) -> BoxFuture<'a, Result<Reservation, StoreError>> {
        self.shop(self.reserve_impl(order, product, qty, now))
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
        now: Millis,
    ) -> BoxFuture<'a, Result<StoredOrder, StoreError>> {
        self.shop(self.create_order_impl(order, total_cents, owner, now))
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
        now: Millis,
    ) -> BoxFuture<'a, Result<Option<StoredOrder>, StoreError>> {
        self.shop(self.advance_impl(id, version, to, owner, reason, now))
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
        held_before: Millis,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<StrayHold>, StoreError>> {
        self.shop(self.stray_holds_impl(held_before, limit))
    }

    fn release_stray<'a>(
        &'a self,
        order: OrderId,
        product: &'a ProductId,
        held_before: Millis,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.shop(self.release_stray_impl(order, product, held_before))
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

fn member_from_row(row: &sqlx::sqlite::SqliteRow, name: &str, now: Millis) -> Option<Member> {
    let addr: String = row.try_get(2).ok()?;
    let incarnation: i64 = row.try_get(3).ok()?;
    let status: String = row.try_get(4).ok()?;
    let beat: i64 = row.try_get(5).ok()?;
    Some(Member {
        name: NodeId::new(name).ok()?,
        addr: addr.parse().ok()?,
        incarnation: incarnation.max(0) as u64,
        status: MemberStatus::parse(&status)?,
        heartbeat_age: Duration::from_millis(now.saturating_sub(beat).max(0) as u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(name: &str) -> NodeId {
        NodeId::new(name).expect("valid")
    }

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    async fn fresh() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("opens");
        (dir, store)
    }

    #[tokio::test]
    async fn a_join_bumps_the_epoch_and_lists_the_member_active() {
        let (_dir, store) = fresh().await;
        assert_eq!(store.epoch().await.expect("epoch"), 0);
        let joined = store
            .join(&n("n1"), addr(7001), 1_000, 0)
            .await
            .expect("joins");
        assert_eq!(joined.incarnation, 1);
        let m = store.membership(1_250).await.expect("members");
        assert_eq!(m.epoch, 1);
        assert_eq!(m.members.len(), 1);
        assert_eq!(m.members[0].status, MemberStatus::Active);
        assert_eq!(m.members[0].addr, addr(7001));
        assert_eq!(m.members[0].heartbeat_age, Duration::from_millis(250));
    }

    #[tokio::test]
    async fn a_live_name_is_refused_naming_its_holder() {
        let (_dir, store) = fresh().await;
        store
            .join(&n("n1"), addr(7001), 10_000, 0)
            .await
            .expect("joins");
        let err = store
            .join(&n("n1"), addr(7009), 10_300, 10_300 - 2_000)
            .await
            .expect_err("taken");
        let text = err.to_string();
        assert!(matches!(err, StoreError::NameTaken { .. }));
        assert!(
            text.contains("n1") && text.contains("127.0.0.1:7001") && text.contains("300 ms"),
            "{text}"
        );
        assert_eq!(
            store.epoch().await.expect("epoch"),
            1,
            "a refusal changes nothing"
        );
    }

    #[tokio::test]
    async fn a_stale_or_departed_name_can_be_taken_with_a_new_incarnation() {
        let (_dir, store) = fresh().await;
        store
            .join(&n("n1"), addr(7001), 10_000, 0)
            .await
            .expect("joins");
        let again = store
            .join(&n("n1"), addr(7002), 13_000, 11_000)
            .await
            .expect("stale holder");
        assert_eq!(again.incarnation, 2);
        assert!(
            store
                .set_status(&n("n1"), 2, MemberStatus::Left)
                .await
                .expect("leaves")
        );
        let third = store
            .join(&n("n1"), addr(7003), 13_100, 11_100)
            .await
            .expect("left holder");
        assert_eq!(third.incarnation, 3);
    }

    #[tokio::test]
    async fn heartbeats_of_an_old_incarnation_are_refused() {
        let (_dir, store) = fresh().await;
        store
            .join(&n("n1"), addr(7001), 10_000, 0)
            .await
            .expect("joins");
        assert!(store.heartbeat(&n("n1"), 1, 10_500).await.expect("beats"));
        assert!(!store.heartbeat(&n("n1"), 7, 10_500).await.expect("answers"));
        assert!(store.mark_dead(&n("n1"), 1).await.expect("voted dead"));
        assert!(
            !store.heartbeat(&n("n1"), 1, 11_000).await.expect("answers"),
            "dead stays dead"
        );
    }

    #[tokio::test]
    async fn reap_marks_only_silent_members_dead_and_bumps_the_epoch() {
        let (_dir, store) = fresh().await;
        store
            .join(&n("n1"), addr(7001), 10_000, 0)
            .await
            .expect("joins");
        store
            .join(&n("n2"), addr(7002), 10_000, 0)
            .await
            .expect("joins");
        store.heartbeat(&n("n2"), 1, 12_000).await.expect("beats");
        let before = store.epoch().await.expect("epoch");
        let reaped = store.reap(12_000 - 1_500).await.expect("reaps");
        assert_eq!(reaped, vec![n("n1")]);
        assert_eq!(store.epoch().await.expect("epoch"), before + 1);
        assert!(
            store.reap(12_000 - 1_500).await.expect("reaps").is_empty(),
            "idempotent"
        );
    }

    #[tokio::test]
    async fn a_corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("junk.db");
        std::fs::write(&path, vec![0x42u8; 8192]).expect("writes junk");
        let err = SqliteStore::open(&path).await.err().expect("refused");
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("junk.db"));
    }

    #[tokio::test]
    async fn an_unwritable_place_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"not a folder").expect("writes");
        let err = SqliteStore::open(&file.join("sub").join("x.db"))
            .await
            .err()
            .expect("refused");
        assert!(matches!(err, StoreError::Open { .. }), "{err}");
        assert!(err.to_string().contains("a-file"));
    }

    #[tokio::test]
    async fn reopening_keeps_the_data_and_does_not_migrate_twice() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        {
            let store = SqliteStore::open(&path).await.expect("opens");
            store
                .join(&n("n1"), addr(7001), 10_000, 0)
                .await
                .expect("joins");
        }
        let store = SqliteStore::open(&path).await.expect("reopens");
        let m = store.membership(10_000).await.expect("members");
        assert_eq!((m.epoch, m.members.len()), (1, 1));
    }
}
