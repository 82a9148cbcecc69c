//! The store: the state that must outlive a node (membership, stock, orders), in one database
//! every node of the cluster reaches. Callers see the [`Store`] trait and these types, never
//! SQL. Three backends implement it: `SqliteStore` (one file, WAL: the embedded default for
//! nodes on one machine), `PgStore` (a PostgreSQL server: nodes on many machines) and
//! `MemoryStore` (this process's memory: tests and the simulator). `--db` picks one ([`Db`]): a
//! path is SQLite, a `postgres://` URL is PostgreSQL, `:memory:` is memory.
//!
//! Tour: the trait's four parts each have a file with their types: [`roster`] (membership),
//! [`catalog`] (products), [`orders`] and [`books`] (holds, sales, the audit). Each backend is
//! a folder with one file per part (`sqlite/roster.rs`, `postgres/books.rs`, ...) plus its
//! connections and migrations; `rows.rs` and `sql.rs` are what the SQL backends share (row
//! decoding, error classification). [`faulty`] wraps any store to fail on purpose (tests);
//! `contract/` is the one suite every backend passes.
//!
//! Every write is one conditional statement (no explicit transaction), as measured in
//! DESIGN.md: a write that matched no row lost a race, and says so in its result. (In memory,
//! one lock taken and let go within the call stands for the statement.)
//!
//! Time is the store's: heartbeats, the silence that gets a member reaped, heartbeat ages,
//! votes, hold ages and order times are all stamped and compared on one clock inside the
//! store ([`Clock`]): the database server's `now()` for PostgreSQL, the machine's clock for
//! SQLite and memory (every node of such a store shares the machine). No node's clock is ever
//! compared with another's.

pub mod books;
pub mod catalog;
mod clock;
#[cfg(test)]
mod contract;
mod error;
pub mod faulty;
mod location;
mod memory;
pub mod orders;
mod postgres;
pub mod roster;
mod rows;
mod rule;
mod sql;
mod sqlite;

#[cfg(test)]
pub(crate) mod test_support;

use std::future::Future;
use std::time::Duration;

use ringshop_shared::clock::Instant;

pub use books::{Audit, Books, Finish, HoldState, StrayHold};
pub use catalog::{Catalog, Entry};
pub(crate) use clock::millis;
pub use clock::{Clock, now_ms};
pub use error::StoreError;
pub use location::{Db, default_db, default_db_path};
pub use memory::MemoryStore;
pub use orders::{OrderAudit, Orders, StoredOrder};
pub use postgres::PgStore;
pub use ringshop_shared::Reservation;
pub use roster::{Change, Joined, Roster};
pub use rule::Rule;
pub use sqlite::SqliteStore;

/// Milliseconds since the Unix epoch, on the store's clock.
pub type Millis = i64;

/// The one interface to the shared database, in four parts by concept: the membership
/// ([`Roster`]), the products ([`Catalog`]), the orders ([`Orders`]) and the books
/// ([`Books`]). Each backend implements each part directly, in the file of that concept
/// (`sqlite/roster.rs`, ...): there is no layer that forwards one method to another. Callers
/// hold an `Arc<dyn Store>` and call any part's methods on it.
pub trait Store: Roster + Catalog + Books {}

impl<T: Roster + Catalog + Books> Store for T {}

/// Runs `call` again while it fails with a transient error (`StoreError::is_transient`) and
/// `until` leaves room for another try, pausing 10 ms, then twice as long each time, at most
/// 200 ms. A store that stutters (a lock held a moment too long, a connection lost as the
/// database restarts) then costs the caller time, not an error.
pub async fn patiently<T, F, Fut>(until: Instant, mut call: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut pause = Duration::from_millis(10);
    loop {
        match call().await {
            Err(e) if e.is_transient() && ringshop_shared::clock::now() + pause < until => {
                tracing::debug!(error = %e, "store call failed; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            done => return done,
        }
    }
}

/// Opens the store `db` names: a SQLite file, a PostgreSQL database, or a new store in memory.
pub async fn open(db: &Db) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    Ok(match db {
        Db::Memory => std::sync::Arc::new(MemoryStore::new()),
        Db::Sqlite(path) => std::sync::Arc::new(SqliteStore::open(path).await?),
        Db::Postgres(url) => std::sync::Arc::new(PgStore::connect(url).await?),
    })
}

/// The newest schema version in a backend's migrations: versions run 1, 2, ... with no gaps
/// (checked below for both backends), so it is the last one's.
fn newest(migrations: &[(i64, &str)]) -> i64 {
    migrations.last().map_or(0, |(v, _)| *v)
}

#[cfg(test)]
mod patiently_tests;

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
