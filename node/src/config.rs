//! A node's configuration: everything `serve` needs, with defaults that make the no-flag run work.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ringshop_shared::{DEFAULT_VNODES, NodeId};

use crate::membership::Timing;
use crate::shop::checkout::Payment;
use crate::store::{Db, default_db_path};

/// Default listen address of the first node a user starts by hand.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7001";
/// How long an actor keeps its value, as in the reference demo.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5);
/// Shortest TTL a node accepts.
pub const MIN_TTL: Duration = Duration::from_millis(1);

#[derive(Clone, Debug)]
pub struct Config {
    pub name: NodeId,
    /// Where to listen; port 0 picks a free port (tests, the embedded cluster).
    pub listen: SocketAddr,
    pub ttl: Duration,
    /// The database shared by every node of the cluster: a SQLite file or a PostgreSQL URL.
    pub db: Db,
    pub timing: Timing,
    pub vnodes: u32,
    /// The catalog file; None is the built-in one.
    pub catalog: Option<PathBuf>,
    pub payment: Payment,
}

impl Config {
    pub fn new(name: NodeId, listen: SocketAddr) -> Config {
        Config {
            name,
            listen,
            ttl: DEFAULT_TTL,
            db: Db::Sqlite(default_db_path()),
            timing: Timing::default(),
            vnodes: DEFAULT_VNODES,
            catalog: None,
            payment: Payment::default(),
        }
    }

    /// A path (SQLite) or `Db::Postgres(url)`.
    pub fn with_db(mut self, db: impl Into<Db>) -> Config {
        self.db = db.into();
        self
    }

    pub fn with_payment(mut self, payment: Payment) -> Config {
        self.payment = payment;
        self
    }

    pub fn with_catalog(mut self, catalog: impl Into<PathBuf>) -> Config {
        self.catalog = Some(catalog.into());
        self
    }

    pub fn with_timing(mut self, timing: Timing) -> Config {
        self.timing = timing;
        self
    }

    pub fn with_ttl(mut self, ttl: Duration) -> Config {
        self.ttl = ttl;
        self
    }
}
