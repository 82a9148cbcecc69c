//! The SQLite connections a node's shop uses, and how a write waits for the database's lock.
//!
//! No sqlx pool: a pool pings a connection when it is taken and again when it is given back,
//! each a round trip to the connection's thread (measured in the shop bench: with one write
//! per statement, three thread switches where one does). A connection here is taken whole,
//! behind a fair (first come, first served) lock, for as many statements as its user needs.
//!
//! Writes wait for the database's write lock in short steps ([`locked!`]): SQLite's busy
//! handler, left to wait 5 s, sleeps 1, 2, 5, 10, 15, 20, 25 ms... between tries, so a writer
//! that lost a few races to other nodes slept tens of milliseconds while they kept taking the
//! lock (measured: writes waiting 8, 18, 33, 53 ms: the shop's p99). The write connections
//! wait `LOCK_WAIT` in the handler (1 ms, then 2 ms), then the statement is sent again, for up
//! to 5 s. Retrying without the handler's sleeps (busy timeout 0, a few immediate tries, then
//! 1 ms pauses) was measured too: as fast, but 11–16 k wasted round trips per 2,000 orders
//! against 140–260.
//!
//! Every write is still one statement in autocommit. Group commit (the writes waiting on a
//! node in one `BEGIN IMMEDIATE` … `COMMIT`) was built and measured side by side: it holds the
//! lock across a round trip to the connection's thread per statement instead of inside one
//! `sqlite3_step`, and lost (2,001–2,020 orders/s, p99 73–97 ms, heartbeats up to 179 ms,
//! against 2,055–2,238, p99 64–82 ms, heartbeats up to 79 ms).

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use sqlx::sqlite::SqliteConnection;
use tokio::sync::{Semaphore, SemaphorePermit};

/// A few connections, each taken whole, first come first served: whoever asked first gets
/// the first connection given back, whichever it is.
pub(super) struct Conns {
    free: std::sync::Mutex<Vec<SqliteConnection>>,
    turns: Semaphore,
}

/// A connection taken from `Conns`; given back when dropped.
pub(super) struct Taken<'a> {
    conn: Option<SqliteConnection>,
    from: &'a Conns,
    _turn: SemaphorePermit<'a>,
}

impl Conns {
    /// `conns` must not be empty.
    pub(super) fn new(conns: Vec<SqliteConnection>) -> Conns {
        assert!(!conns.is_empty(), "a store needs at least one connection");
        Conns {
            turns: Semaphore::new(conns.len()),
            free: std::sync::Mutex::new(conns),
        }
    }

    fn free(&self) -> std::sync::MutexGuard<'_, Vec<SqliteConnection>> {
        self.free.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next free connection, in the order asked.
    pub(super) async fn get(&self) -> Taken<'_> {
        // The semaphore is never closed, so acquiring only waits.
        let turn = match self.turns.acquire().await {
            Ok(turn) => turn,
            Err(_) => unreachable!("the connections' semaphore is never closed"),
        };
        // A permit means a connection is free: one per permit, given back before the permit.
        let conn = self.free().pop();
        Taken {
            conn,
            from: self,
            _turn: turn,
        }
    }
}

impl Deref for Taken<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.conn
            .as_ref()
            .expect("a taken connection is there until it is given back")
    }
}

impl DerefMut for Taken<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .expect("a taken connection is there until it is given back")
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.from.free().push(conn);
        }
        // The permit goes after this, so the next holder finds the connection.
    }
}

/// How long a write waits for the write lock before it fails as busy.
const LOCK_PATIENCE: Duration = Duration::from_secs(5);
/// The write connections' own busy timeout: SQLite sleeps 1 ms, then 2 ms, in the
/// connection's thread, then answers busy and the statement is sent again. No wait between
/// tries grows past 2 ms, and no try costs a round trip to the connection's thread more often
/// than every 3 ms.
pub(super) const LOCK_WAIT: Duration = Duration::from_millis(3);

/// Runs a statement on a write connection, sending it again while another connection holds
/// the database's write lock. The statement expression is built anew for each try, so it binds
/// borrowed values: `locked!(sqlx::query(SQL).bind(id.as_str()).execute(&mut *c))`.
macro_rules! locked {
    ($statement:expr) => {{
        let mut waiting = $crate::store::sqlite::conns::Waiting::default();
        loop {
            let tried = ringshop_shared::clock::now();
            let done = $statement.await;
            if let Err(e) = &done
                && waiting.busy_again(e)
            {
                waiting.pause(tried.elapsed()).await;
                continue;
            }
            break done;
        }
    }};
}
pub(super) use locked;

/// One statement's wait for the write lock, for at most `LOCK_PATIENCE`.
#[derive(Default)]
pub(super) struct Waiting {
    started: Option<Instant>,
}

impl Waiting {
    /// Whether `e` says the lock was busy and there is patience left to try again.
    pub(in crate::store) fn busy_again(&mut self, e: &sqlx::Error) -> bool {
        let started = *self.started.get_or_insert_with(clock::now);
        crate::store::sql::busy(e) && started.elapsed() < LOCK_PATIENCE
    }

    /// Before the next try: nothing if SQLite waited in its busy handler (`took` was at least
    /// `LOCK_WAIT`), else the same wait here (a busy answer without the handler, which some
    /// lock states give at once, must not turn into a loop of round trips).
    pub(super) async fn pause(&self, took: Duration) {
        if took < LOCK_WAIT {
            tokio::time::sleep(LOCK_WAIT - took).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

    use super::*;

    #[tokio::test]
    async fn a_write_waits_out_another_connections_write_lock_in_short_steps() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("lock.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let mut other = options.connect().await.expect("opens");
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .execute(&mut other)
            .await
            .expect("creates");
        let mut writer = options
            .clone()
            .busy_timeout(LOCK_WAIT)
            .connect()
            .await
            .expect("opens");
        // Another connection holds the write lock for 300 ms.
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .expect("locks");
        let holder = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            sqlx::query("INSERT INTO t VALUES (1)")
                .execute(&mut other)
                .await
                .expect("writes");
            sqlx::query("COMMIT")
                .execute(&mut other)
                .await
                .expect("commits");
        });
        let started = clock::now();
        // Without the retries, SQLite answers "database is locked" after LOCK_WAIT.
        let written = locked!(sqlx::query("INSERT INTO t VALUES (2)").execute(&mut writer));
        let waited = started.elapsed();
        written.expect("written once the lock was free");
        holder.await.expect("the holder commits");
        assert!(
            waited >= Duration::from_millis(250),
            "waited only {waited:?}"
        );
        let rows: Vec<i64> = sqlx::query_scalar("SELECT id FROM t ORDER BY id")
            .fetch_all(&mut writer)
            .await
            .expect("reads");
        assert_eq!(rows, vec![1, 2]);
    }
}
