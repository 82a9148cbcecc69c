//! A node's configuration: everything `serve` needs, with defaults that make the no-flag run work.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ringshop_shared::transport::{Limits, Security};
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
    /// The address other nodes and clients dial, as the members table lists it; None is the
    /// bound address. Port 0 here means the bound port.
    pub advertise: Option<SocketAddr>,
    /// Mutual TLS with the cluster's CA, or plaintext.
    pub security: Security,
    /// Plaintext on a non-loopback address, asked for explicitly (`--insecure`).
    pub insecure: bool,
    /// The bounds on connections and their unfinished frames (tests lower them).
    pub limits: Limits,
    /// The bounds on requests in flight (tests lower them).
    pub admission: crate::admission::Limits,
}

/// A listen / advertise / security combination a node refuses to start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExposureError {
    #[error(
        "--listen {listen} binds every interface, so it is no address to dial: add --advertise IP:PORT, the address other nodes and clients reach this node at"
    )]
    WildcardWithoutAdvertise { listen: SocketAddr },
    #[error(
        "--advertise {advertise} is a wildcard; advertise the address other nodes and clients reach this node at"
    )]
    WildcardAdvertise { advertise: SocketAddr },
    #[error(
        "--listen {listen} is not a loopback address: give the cluster's certificates with --certs DIR (make them with `ringshop-node certs init DIR`), or pass --insecure to serve without TLS"
    )]
    NoCerts { listen: SocketAddr },
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
            advertise: None,
            security: Security::Plain,
            insecure: false,
            limits: Limits::for_this_process(),
            admission: crate::admission::Limits::default(),
        }
    }

    /// Refuses a wildcard listen without an address to advertise, and a non-loopback address
    /// without TLS unless `insecure`. Loopback without certificates is fine, as always.
    pub fn check_exposure(&self) -> Result<(), ExposureError> {
        let listen = self.listen;
        if let Some(advertise) = self.advertise
            && advertise.ip().is_unspecified()
        {
            return Err(ExposureError::WildcardAdvertise { advertise });
        }
        if listen.ip().is_unspecified() && self.advertise.is_none() {
            return Err(ExposureError::WildcardWithoutAdvertise { listen });
        }
        if !listen.ip().is_loopback() && !self.security.is_tls() && !self.insecure {
            return Err(ExposureError::NoCerts { listen });
        }
        Ok(())
    }

    /// The address to list in the members table once bound at `bound`: `advertise` (its port
    /// 0 taken as the bound port), else the bound address.
    pub fn advertised(&self, bound: SocketAddr) -> SocketAddr {
        match self.advertise {
            Some(a) if a.port() == 0 => SocketAddr::new(a.ip(), bound.port()),
            Some(a) => a,
            None => bound,
        }
    }

    pub fn with_advertise(mut self, advertise: SocketAddr) -> Config {
        self.advertise = Some(advertise);
        self
    }

    pub fn with_security(mut self, security: Security) -> Config {
        self.security = security;
        self
    }

    /// Serve without TLS even off loopback (`--insecure`).
    pub fn insecure(mut self) -> Config {
        self.insecure = true;
        self
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

    pub fn with_limits(mut self, limits: Limits) -> Config {
        self.limits = limits;
        self
    }

    pub fn with_admission(mut self, admission: crate::admission::Limits) -> Config {
        self.admission = admission;
        self
    }

    pub fn with_ttl(mut self, ttl: Duration) -> Config {
        self.ttl = ttl;
        self
    }
}
