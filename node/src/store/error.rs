//! What a store call can fail with, named for the thing and the fix. A caller branches on
//! `is_transient` (try again) and `on` (the wire's error), never on the text.

use std::path::PathBuf;
use std::time::Duration;

use ringshop_shared::{NodeId, ShardError};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {reason}; check the folder exists and is writable, or choose another file with --db", path = path.display())]
    Open { path: PathBuf, reason: String },
    #[error("{path} is not a ringshop database or is damaged ({reason}); move it away or choose another file with --db", path = path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "the database {db} has schema version {found}, newer than this release knows ({known}); upgrade ringshop"
    )]
    TooNew { db: String, found: i64, known: i64 },
    #[error(
        "{url:?} is not a database this node can use: {reason}; give --db a file path (SQLite) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
    )]
    BadUrl { url: String, reason: String },
    #[error("cannot use the database {db}: {reason}; {fix}")]
    Unreachable {
        db: String,
        reason: String,
        fix: &'static str,
    },
    #[error("the name {name} is held by a live node at {addr} (last heartbeat {} ms ago); choose another --name or stop that node", heartbeat_age.as_millis())]
    NameTaken {
        name: NodeId,
        addr: String,
        heartbeat_age: Duration,
    },
    /// Other connections keep the database locked; waited out where it matters (opening).
    #[error("the database is busy (other nodes hold its lock): {reason}")]
    Busy { reason: String },
    #[error("database error while {what}: {reason}")]
    Query { what: &'static str, reason: String },
    /// The database's disk is full: nothing was written. Writes resume by themselves once
    /// there is space again.
    #[error(
        "the store is full (no space left on the database's disk) while {what}: {reason}; free space there and the node resumes by itself"
    )]
    Full { what: &'static str, reason: String },
    /// The connection to the database broke (or its pool had none to give): the call may or
    /// may not have been done. Worth trying again: every write is safe to repeat.
    #[error("lost the connection to the database while {what}: {reason}")]
    Lost { what: &'static str, reason: String },
}

impl StoreError {
    /// Whether the same call may well work if tried again shortly: a busy lock or a lost
    /// connection. A full disk is not (it needs a person), nor is a refused query.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Busy { .. } | StoreError::Lost { .. })
    }

    /// The wire error for this failure on `node`.
    pub fn on(&self, node: &NodeId) -> ShardError {
        if let StoreError::Full { .. } = self {
            return ShardError::StoreFull { node: node.clone() };
        }
        ShardError::Store {
            node: node.clone(),
            reason: self.to_string(),
        }
    }
}
