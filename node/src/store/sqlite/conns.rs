//! The SQLite connections a node's shop reads through.
//!
//! No sqlx pool: a pool pings a connection when it is taken and again when it is given back,
//! each a round trip to the connection's thread (measured in the shop bench: with one write
//! per statement, three thread switches where one does). A connection here is taken whole,
//! behind a fair (first come, first served) lock, for as many statements as its user needs.
//!
//! The shop's writes do not come here: they go to the writer thread (`writer.rs`). Before it,
//! they went through two connections like these, one statement in autocommit each, waiting
//! for the lock in 1–2 ms steps; a group commit over such connections (one `BEGIN IMMEDIATE`
//! … `COMMIT` for the writes waiting on a node) was measured then and lost, because it held
//! the lock across a round trip to the connection's thread per statement. The writer thread
//! runs the group's statements where the connection is, and doubled the shop's throughput
//! (BENCHMARKS.md).

use std::ops::{Deref, DerefMut};

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
