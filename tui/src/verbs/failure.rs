//! What a verb can fail with: a kind (which the binary maps to its exit code, and `--json`
//! prints as `error.kind`) and a message for a person.

use ringshop_shared::prefix::BadPrefix;

use crate::client::{ClusterError, OpenError, ResolveError};

/// Why a verb failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A call failed or an answer was wrong.
    Cluster,
    /// Some of the demo's requests failed.
    Request,
    /// An order did not finish while it was followed.
    Timeout,
    /// The embedded cluster could not start.
    Embedded,
    /// The terminal could not be opened or drawn on.
    Terminal,
    /// Unknown flag, bad value, a mutation without `--yes` off a terminal.
    Usage,
    /// A typed id prefix that more than one order or trace starts with.
    Ambiguous,
    /// The cluster refused an argument (a bad quantity, an empty order).
    Invalid,
    /// No node answered.
    Unreachable,
    /// Unknown product or order.
    NotFound,
    /// Out of stock, payment declined.
    Refused,
    /// A node's database is full: nothing was stored.
    StoreFull,
}

impl Kind {
    /// The `error.kind` of `--json` errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cluster => "cluster",
            Kind::Request => "request",
            Kind::Timeout => "timeout",
            Kind::Embedded => "embedded",
            Kind::Terminal => "terminal",
            Kind::Usage => "usage",
            Kind::Ambiguous => "ambiguous",
            Kind::Invalid => "invalid",
            Kind::Unreachable => "unreachable",
            Kind::NotFound => "not_found",
            Kind::Refused => "refused",
            Kind::StoreFull => "store_full",
        }
    }
}

/// A verb's failure.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
    /// The whole ids an ambiguous prefix could mean (`--json` lists them as `candidates`).
    pub candidates: Vec<String>,
}

impl Failure {
    pub fn new(kind: Kind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
            candidates: Vec::new(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(Kind::Usage, message)
    }
}

impl From<ClusterError> for Failure {
    fn from(e: ClusterError) -> Failure {
        use ringshop_shared::ShardError as S;
        let kind = match &e {
            ClusterError::Unreachable { .. } | ClusterError::NoLiveMembers { .. } => {
                Kind::Unreachable
            }
            ClusterError::Shard { error, .. } => match error {
                S::UnknownProduct { .. } | S::UnknownOrder { .. } => Kind::NotFound,
                S::OutOfStock { .. } | S::HoldReleased { .. } | S::NoOpenOrder { .. } => {
                    Kind::Refused
                }
                S::StoreFull { .. } => Kind::StoreFull,
                S::BadQuantity { .. } | S::EmptyOrder | S::Invalid { .. } | S::TooMany { .. } => {
                    Kind::Invalid
                }
                _ => Kind::Cluster,
            },
            _ => Kind::Cluster,
        };
        Failure::new(kind, e.to_string())
    }
}

impl From<ResolveError> for Failure {
    fn from(e: ResolveError) -> Failure {
        let kind = match &e {
            ResolveError::Cluster(e) => return e.clone().into(),
            ResolveError::NoOrder { .. } | ResolveError::NoTrace { .. } => Kind::NotFound,
            ResolveError::AmbiguousOrder { .. } | ResolveError::AmbiguousTrace { .. } => {
                Kind::Ambiguous
            }
        };
        Failure {
            candidates: e.candidates(),
            ..Failure::new(kind, e.to_string())
        }
    }
}

impl From<BadPrefix> for Failure {
    fn from(e: BadPrefix) -> Failure {
        Failure::usage(e.to_string())
    }
}

impl From<OpenError> for Failure {
    fn from(e: OpenError) -> Failure {
        match e {
            OpenError::Cluster(e) => e.into(),
            e @ OpenError::Embedded(_) => Failure::new(Kind::Embedded, e.to_string()),
        }
    }
}
