//! The record of one chaos run: every value call with its start and end on the wall clock and
//! what came back, every nemesis event with its time, every buyer failure and every
//! acknowledged order. The checker reads only this (and, at quiesce, the store), so a
//! hand-made history tests the checker.

use std::fmt;
use std::time::{Duration, SystemTime};

use ringshop_shared::{NodeId, OrderId};

/// What a successful value call answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub node: NodeId,
    pub value: u32,
    pub created_at: SystemTime,
    pub hit: bool,
}

/// One `Cluster::request(id)`, as the caller saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub id: u64,
    /// The kind of main that made it.
    pub main: Main,
    pub start: SystemTime,
    pub end: SystemTime,
    pub outcome: Result<Seen, String>,
}

/// The kinds of main the load runs (see `load`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Main {
    /// Follows the membership as it changes.
    Following,
    /// Learns a change only from `Moved` or an owner it cannot reach.
    Slow,
    /// Opened on a node that just joined, seeded with it alone.
    Fresh,
}

impl Main {
    /// "a following main", "a slow main", "a fresh main".
    pub fn words(self) -> &'static str {
        match self {
            Main::Following => "a following main",
            Main::Slow => "a slow main",
            Main::Fresh => "a fresh main",
        }
    }
}

/// One computed value of an id. An entry handed to a new owner keeps its value and
/// `created_at`, so it is the same generation there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Generation {
    pub id: u64,
    pub value: u32,
    pub created_at: SystemTime,
}

impl Call {
    pub fn generation(&self) -> Option<Generation> {
        self.outcome.as_ref().ok().map(|s| Generation {
            id: self.id,
            value: s.value,
            created_at: s.created_at,
        })
    }

    /// The node that answered, if one did.
    pub fn node(&self) -> Option<&NodeId> {
        self.outcome.as_ref().ok().map(|s| &s.node)
    }
}

/// What the nemesis did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A new node started.
    Join,
    /// SIGTERM: the node left gracefully.
    Leave,
    /// SIGKILL.
    Kill,
    /// A new process under the name of a stopped node, on the same database.
    Restart,
    /// SIGSTOP.
    Stop,
    /// SIGCONT after a `Stop`; whether the client saw the cluster mark the node dead meanwhile.
    Resume { declared_dead: bool },
    /// The node's host lost its link (test hosts): it runs on, cut off.
    Partition,
    /// Its host's link came back after a `Partition`; whether the client saw the cluster mark
    /// the node dead meanwhile.
    Heal { declared_dead: bool },
    /// The store's disk filled up (the node named is the first; every node shares the store).
    DiskFull,
    /// Space came back after a `DiskFull`.
    DiskFreed,
    /// Only the path between the test's mains and the node went down (test hosts).
    CutClient,
    /// It came back after a `CutClient`.
    MendClient,
    /// The link between this node and another went down (the simulator).
    CutNodes,
    /// It came back after a `CutNodes`.
    MendNodes,
    /// This node's store calls fail as on a lost connection (the simulator).
    StoreDown,
    /// This node's store calls answer late (the simulator).
    StoreSlow,
    /// This node's store works again.
    StoreBack,
    /// A link of this node's got slower (the simulator).
    SlowLink,
    /// The node was paused or cut off and the cluster never gave up on it meanwhile (the
    /// simulator knows, from the store: never counted dead, or counted dead while its
    /// heartbeat was still fresh, so still awaited): it kept its ids, or handed them over
    /// to be handed back, so what it answers after is not stale. A `Stop` or `Partition`
    /// that ends so is recorded as this.
    Held,
    /// The end of a `Held`.
    Released,
}

impl EventKind {
    /// For the end of a cut-off (`Resume`, `Heal`): the event that began it, and whether the
    /// node was declared dead meanwhile.
    pub fn ends_cut_off(self) -> Option<(EventKind, bool)> {
        match self {
            EventKind::Resume { declared_dead } => Some((EventKind::Stop, declared_dead)),
            EventKind::Heal { declared_dead } => Some((EventKind::Partition, declared_dead)),
            _ => None,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            EventKind::Join => "join",
            EventKind::Leave => "leave",
            EventKind::Kill => "sigkill",
            EventKind::Restart => "restart",
            EventKind::Stop => "sigstop",
            EventKind::Resume { .. } => "sigcont",
            EventKind::Partition => "partition",
            EventKind::Heal { .. } => "heal",
            EventKind::DiskFull => "disk full",
            EventKind::DiskFreed => "disk freed",
            EventKind::CutClient => "cut main",
            EventKind::MendClient => "mend main",
            EventKind::CutNodes => "cut link",
            EventKind::MendNodes => "mend link",
            EventKind::StoreDown => "store down",
            EventKind::StoreSlow => "store slow",
            EventKind::StoreBack => "store back",
            EventKind::SlowLink => "slow link",
            EventKind::Held => "held",
            EventKind::Released => "released",
        }
    }
}

/// One nemesis event, stamped as the signal was sent, or, for a join or restart, once the
/// node printed its address (it has joined the membership by then).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub at: SystemTime,
    pub kind: EventKind,
    pub node: NodeId,
}

/// A buyer's outcome that is not a business one (out of stock and a declined payment are).
#[derive(Clone, Debug, PartialEq)]
pub struct BuyerFailure {
    pub at: SystemTime,
    pub order: Option<OrderId>,
    pub what: String,
}

/// How the buyers' orders ended, as they followed them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purchases {
    pub placed: usize,
    pub done: usize,
    /// Refused at checkout, or failed at reserving, for want of stock.
    pub out_of_stock: usize,
    pub declined: usize,
    /// Refused at checkout because the store's disk was full (nothing placed).
    pub store_full: usize,
}

impl Purchases {
    pub fn add(&mut self, other: Purchases) {
        self.placed += other.placed;
        self.done += other.done;
        self.out_of_stock += other.out_of_stock;
        self.declined += other.declined;
        self.store_full += other.store_full;
    }
}

/// Everything one run recorded. Times are the test's wall clock; `created_at` is the node's,
/// which is the same machine's clock.
#[derive(Clone, Debug)]
pub struct History {
    /// When the load started: the zero of every time shown.
    pub origin: SystemTime,
    /// When the load stopped (the last window ends here).
    pub stopped: SystemTime,
    pub calls: Vec<Call>,
    pub events: Vec<Event>,
    pub acknowledged: Vec<OrderId>,
    pub buyer_failures: Vec<BuyerFailure>,
    pub purchases: Purchases,
}

impl History {
    pub fn new(origin: SystemTime) -> History {
        History {
            origin,
            stopped: origin,
            calls: Vec::new(),
            events: Vec::new(),
            acknowledged: Vec::new(),
            buyer_failures: Vec::new(),
            purchases: Purchases::default(),
        }
    }

    /// `t` as seconds since the load started, for display.
    pub fn secs(&self, t: SystemTime) -> Secs {
        Secs::since(self.origin, t)
    }
}

/// Seconds since the load started, shown to the millisecond.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Secs(pub f64);

impl Secs {
    pub fn since(origin: SystemTime, t: SystemTime) -> Secs {
        Secs(match t.duration_since(origin) {
            Ok(d) => d.as_secs_f64(),
            Err(before) => -before.duration().as_secs_f64(),
        })
    }
}

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} s", self.0)
    }
}

/// `b - a`, zero if `b` is earlier.
pub fn since(a: SystemTime, b: SystemTime) -> Duration {
    b.duration_since(a).unwrap_or_default()
}
