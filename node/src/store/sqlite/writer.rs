//! The shop's writes on one thread of their own, committed in groups.
//!
//! One thread owns a write connection (rusqlite, on the same libsqlite3 as sqlx's). A write
//! is a job sent to it: a closure that runs its statements on the connection. The thread
//! takes the jobs that wait when it is free (at most `MAX_BATCH`), opens one transaction,
//! runs them one after the other and commits once; each caller is answered only after that
//! commit, with its own result, or with the commit's error (then none of the group was
//! written). So a write costs no round trip to a connection's thread per statement, the
//! write lock is taken once per group instead of once per statement, and a commit is shared
//! by every write that waited for it.
//!
//! A job's statement that a rule refuses (a trigger's RAISE(ABORT)) is undone alone, as in
//! autocommit: the group goes on. An error after which SQLite has rolled the whole
//! transaction back (a full disk, an I/O error) fails every job of the group, and nothing of
//! the group is written. "Acknowledged" still means "committed".

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};
use tokio::sync::oneshot;

use crate::store::rows::Cells;
use crate::store::{Rule, StoreError};

/// The most jobs one transaction holds: the write lock is held while they run, so other
/// nodes' writers wait for the whole group.
const MAX_BATCH: usize = 64;
/// Tries of the write lock before a group fails as busy: the first ones 100 µs apart, then
/// 1 ms apart, about 5 s in all.
const QUICK_TRIES: i32 = 20;
const LOCK_TRIES: i32 = 5_000;

/// The handle the store's methods send their writes through.
pub(super) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    /// Transactions the thread committed or failed, one per group (read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    groups: Arc<AtomicU64>,
}

/// One write waiting for its group.
trait Job: Send {
    /// Runs the write's statements in the open transaction: Err if they failed.
    fn run(&mut self, c: &Connection) -> Result<(), StoreError>;
    /// Answers the caller: its own result if the group committed, else why it did not.
    fn answer(self: Box<Self>, committed: Result<(), StoreError>);
}

struct Write<T, F> {
    work: Option<F>,
    out: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Write<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, c: &Connection) -> Result<(), StoreError> {
        let Some(work) = self.work.take() else {
            return Ok(());
        };
        let out = catch_unwind(AssertUnwindSafe(|| work(c))).unwrap_or_else(|_| {
            Err(StoreError::Query {
                what: "writing",
                reason: "the write panicked".into(),
            })
        });
        let ran = out.as_ref().map(drop).map_err(Clone::clone);
        self.out = Some(out);
        ran
    }

    fn answer(self: Box<Self>, committed: Result<(), StoreError>) {
        let out = match (committed, self.out) {
            (Ok(()), Some(out)) => out,
            (Err(e), _) => Err(e),
            (Ok(()), None) => Err(StoreError::Query {
                what: "writing",
                reason: "the write was never run".into(),
            }),
        };
        // The caller may have stopped waiting: the write is done all the same.
        let _ = self.reply.send(out);
    }
}

impl Writer {
    /// Opens the write connection to `path` (already created and migrated) and starts its
    /// thread, which ends once every handle is dropped and the jobs sent are answered.
    pub(super) fn open(path: &Path) -> Result<Writer, StoreError> {
        let open = |e: rusqlite::Error| StoreError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open)?;
        conn.busy_handler(Some(wait_for_the_lock)).map_err(open)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open)?;
        conn.set_prepared_statement_cache_capacity(64);
        let (jobs, queue) = mpsc::channel();
        let groups = Arc::new(AtomicU64::new(0));
        let counted = groups.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || serve(conn, queue, &counted))
            .map_err(|e| StoreError::Open {
                path: path.to_path_buf(),
                reason: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(Writer { jobs, groups })
    }

    /// How many groups (transactions) the writer has run.
    #[cfg(test)]
    pub(super) fn groups(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
    }

    /// Runs `work` in the writer's next group; its result once that group committed.
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Write {
            work: Some(work),
            out: None,
            reply,
        });
        let stopped = || StoreError::Lost {
            what: "writing",
            reason: "the store's writer thread stopped".into(),
        };
        self.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// SQLite's busy handler for the writer: short waits first, then 1 ms ones; false (busy)
/// after `LOCK_TRIES`.
fn wait_for_the_lock(tries: i32) -> bool {
    if tries >= LOCK_TRIES {
        return false;
    }
    let pause = if tries < QUICK_TRIES {
        Duration::from_micros(100)
    } else {
        Duration::from_millis(1)
    };
    std::thread::sleep(pause);
    true
}

/// The writer thread: a group per turn, until every handle is gone.
fn serve(conn: Connection, queue: mpsc::Receiver<Box<dyn Job>>, groups: &AtomicU64) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let committed = run_group(&conn, &mut group);
        groups.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = &committed {
            tracing::warn!(error = %e, writes = group.len(), "a group of writes failed");
        }
        for job in group {
            job.answer(committed.clone());
        }
    }
}

/// One transaction for `group`: Ok once committed.
fn run_group(conn: &Connection, group: &mut [Box<dyn Job>]) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(write_error("taking the write lock"))?;
    for job in group.iter_mut() {
        if let Err(e) = job.run(conn)
            && conn.is_autocommit()
        {
            // SQLite rolled the transaction back: every write of the group went with it.
            return Err(e);
        }
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => Ok(()),
        Err(e) => {
            let e = write_error("committing")(e);
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Err(e)
        }
    }
}

/// A store error for a failed statement of the writer while doing `what` (as
/// `sql::query_error` says it for sqlx's errors).
pub(super) fn write_error(what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| {
        let reason = e.to_string();
        let rusqlite::Error::SqliteFailure(failure, message) = &e else {
            return StoreError::Query { what, reason };
        };
        if let Some(rule) = message.as_deref().and_then(Rule::raised) {
            return StoreError::Refused { what, rule };
        }
        match failure.code {
            ErrorCode::DiskFull => StoreError::Full { what, reason },
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Busy { reason },
            _ => StoreError::Query { what, reason },
        }
    }
}

/// Runs one statement of a write (prepared once per connection); how many rows it changed.
pub(super) fn execute(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(params)
}

/// The rows `sql` gives with `params`, each taken whole (prepared once per connection).
pub(super) fn rows_of(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<Values>> {
    let mut statement = c.prepare_cached(sql)?;
    let rows = statement.query_map(params, Values::of)?;
    rows.collect()
}

/// A row the SQLite writer read (rusqlite), its values taken whole, to decode with the same
/// decoders as sqlx's rows.
pub struct Values(pub Vec<rusqlite::types::Value>);

impl Values {
    /// Every column of `row`.
    pub fn of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Values> {
        let n = row.as_ref().column_count();
        (0..n)
            .map(|i| row.get(i))
            .collect::<Result<_, _>>()
            .map(Values)
    }

    fn at(&self, i: usize) -> Result<&rusqlite::types::Value, sqlx::Error> {
        self.0
            .get(i)
            .ok_or_else(|| sqlx::Error::ColumnIndexOutOfBounds {
                index: i,
                len: self.0.len(),
            })
    }
}

fn mismatch(i: usize, wanted: &str, found: &rusqlite::types::Value) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: i.to_string(),
        source: format!("{wanted} wanted, {:?} found", found.data_type()).into(),
    }
}

impl Cells for Values {
    fn text(&self, i: usize) -> Result<String, sqlx::Error> {
        match self.at(i)? {
            rusqlite::types::Value::Text(t) => Ok(t.clone()),
            other => Err(mismatch(i, "text", other)),
        }
    }
    fn maybe_text(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
        match self.at(i)? {
            rusqlite::types::Value::Null => Ok(None),
            rusqlite::types::Value::Text(t) => Ok(Some(t.clone())),
            other => Err(mismatch(i, "text or null", other)),
        }
    }
    fn int(&self, i: usize) -> Result<i64, sqlx::Error> {
        match self.at(i)? {
            rusqlite::types::Value::Integer(n) => Ok(*n),
            other => Err(mismatch(i, "integer", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer on a new file with one table, `t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL
    /// CHECK (n > 0))`.
    fn writer(dir: &tempfile::TempDir) -> (Writer, std::path::PathBuf) {
        let path = dir.path().join("w.db");
        let c = Connection::open(&path).expect("creates");
        c.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL CHECK (n > 0));",
        )
        .expect("makes the table");
        (Writer::open(&path).expect("opens"), path)
    }

    fn insert(id: i64, n: i64) -> impl FnOnce(&Connection) -> Result<usize, StoreError> {
        move |c| {
            c.execute("INSERT INTO t (id, n) VALUES (?1, ?2)", [id, n])
                .map_err(write_error("inserting"))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_sent_together_commit_in_groups_and_a_refused_one_fails_alone() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (writer, path) = writer(&dir);
        let writer = Arc::new(writer);
        // 400 writes at once; every tenth breaks the table's CHECK.
        let sent = (1..=400).map(|id| {
            let writer = writer.clone();
            let n = if id % 10 == 0 { 0 } else { id };
            tokio::spawn(async move { writer.write(insert(id, n)).await })
        });
        let answers = futures::future::join_all(sent).await;
        for (id, answer) in (1..=400).zip(answers) {
            let answer = answer.expect("the task ran");
            if id % 10 == 0 {
                assert!(
                    matches!(answer, Err(StoreError::Query { .. })),
                    "{id}: {answer:?}"
                );
            } else {
                assert_eq!(answer.expect("written"), 1, "{id}");
            }
        }
        assert!(
            writer.groups() < 400,
            "400 writes sent at once took {} transactions",
            writer.groups()
        );
        let c = Connection::open(&path).expect("opens");
        let stored: i64 = c
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .expect("counts");
        assert_eq!(stored, 360, "every write answered Ok is stored, no other");
    }

    #[tokio::test]
    async fn a_write_that_panics_fails_alone_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (writer, _path) = writer(&dir);
        let panicked = writer
            .write(|_: &Connection| -> Result<(), StoreError> { panic!("a bug in a write") })
            .await;
        assert!(
            matches!(panicked, Err(StoreError::Query { .. })),
            "{panicked:?}"
        );
        assert_eq!(writer.write(insert(1, 1)).await.expect("written"), 1);
    }

    #[tokio::test]
    async fn a_write_waits_for_another_connections_write_lock() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (writer, path) = writer(&dir);
        let other = Connection::open(&path).expect("opens");
        other.execute_batch("BEGIN IMMEDIATE").expect("locks");
        let holder = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            other.execute_batch("COMMIT").expect("commits");
        });
        let started = ringshop_shared::clock::now();
        assert_eq!(
            writer.write(insert(1, 1)).await.expect("written once free"),
            1
        );
        assert!(
            started.elapsed() >= Duration::from_millis(250),
            "wrote while the lock was held"
        );
        holder.join().expect("the holder commits");
    }
}
