//! What the two SQL backends share besides their rows (`rows.rs`): how a driver error becomes
//! a [`StoreError`] a caller can act on (busy, lost, full, a rule of the books broken, or a
//! refused query).

use super::{Rule, StoreError};

/// A store error for a failed query while doing `what`.
pub fn query_error(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| {
        let reason = e.to_string();
        if disk_full(&e) {
            return StoreError::Full { what, reason };
        }
        if let Some(rule) = rule(&e) {
            return StoreError::Refused { what, rule };
        }
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => StoreError::Lost { what, reason },
            _ if busy(&e) => StoreError::Busy { reason },
            _ => StoreError::Query { what, reason },
        }
    }
}

/// A SQLite result code (extended codes are below 10,000). PostgreSQL's SQLSTATEs are five
/// characters, and some parse as numbers ("53100"), so a five-character code is never SQLite's.
pub(in crate::store) fn sqlite_code(e: &sqlx::Error) -> Option<i32> {
    let code = e.as_database_error()?.code()?;
    if code.len() == 5 {
        return None; // a PostgreSQL SQLSTATE
    }
    code.parse::<i32>().ok()
}

/// SQLITE_BUSY (5) and its extended codes: another connection holds the write lock.
pub(in crate::store) fn busy(e: &sqlx::Error) -> bool {
    sqlite_code(e).is_some_and(|c| c & 0xff == 5)
}

/// SQLITE_FULL (13, and its extended codes), PostgreSQL's disk_full (53100), or an I/O error
/// that says ENOSPC.
fn disk_full(e: &sqlx::Error) -> bool {
    if let sqlx::Error::Io(io) = e {
        return io.raw_os_error() == Some(28);
    }
    let pg = e.as_database_error().and_then(|d| d.code());
    pg.is_some_and(|c| c == "53100") || sqlite_code(e).is_some_and(|c| c & 0xff == 13)
}

/// The rule a trigger's RAISE named, if the error is one: the one place a database error's
/// message is read.
fn rule(e: &sqlx::Error) -> Option<Rule> {
    Rule::raised(e.as_database_error()?.message())
}
