//! What happened: keys, ticks, and the results of effects, which come back as actions.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use ringshop_shared::trace::TraceId;
use ringshop_shared::{NodeId, Order, OrderId, ProductId, Quote, Served};

use super::app::{LogLine, ProductRow, SortColumn, Tab};
use crate::client::MemberRow;
use crate::client::demo::Pass;
use crate::client::trace::Waterfall;

#[derive(Clone, Debug)]
pub enum Action {
    Key(KeyEvent),
    Resize(u16, u16),
    Tick(Instant),
    Members {
        epoch: u64,
        members: Vec<MemberRow>,
    },
    /// Where the client looks for the cluster while no member can be reached (empty while one
    /// is up): `Cluster::searching`.
    Searching(Vec<SocketAddr>),
    Products(Vec<ProductRow>),
    /// Quotes owners published (live stock), received at `at`.
    Stock {
        quotes: Vec<Served<Quote>>,
        at: Instant,
    },
    /// `node` stopped answering for `products` (live stock): shown stale until it answers.
    StockLost {
        node: NodeId,
        products: Vec<ProductId>,
        error: String,
    },
    Orders(Vec<Order>),
    /// An order of this session moved on (or was accepted).
    Order(Order),
    /// The checkout call of `order` failed: it may not be placed (or placed unseen).
    CheckoutFailed {
        order: OrderId,
        error: String,
    },
    /// Following `order` gave up: every watch failed for `after`; the order may still end.
    FollowGaveUp {
        order: OrderId,
        error: String,
        after: Duration,
    },
    /// A call came back; for the event log.
    Called(LogLine),
    /// Something failed: `what` ("members", "products", "checkout", "start n2", ...) and why.
    /// Shown as an error toast and logged, once while it keeps failing the same way.
    Failed {
        what: String,
        error: String,
        /// The trace of the action it failed in (the runner fills it).
        trace: Option<TraceId>,
    },
    DemoPass(Pass),
    /// The trace an order of this session was checked out in.
    OrderTrace(OrderId, TraceId),
    /// A trace's spans, gathered.
    Trace(Waterfall),
    /// The order a typed id prefix named (`Effect::FindId`).
    FoundOrder(Order),
    /// The trace a typed id prefix named (`Effect::FindId`).
    FoundTrace(TraceId),
    DemoWaiting(Duration),
    DemoDone,
    NodeStopped {
        name: NodeId,
        graceful: bool,
    },
    NodeStarted(NodeId),
    /// An effect's task is over (whatever it sent before).
    Finished,
    /// The cart was written to its file after a change (`keep.rs`), or why it could not be.
    CartKept(Result<(), String>),
    /// A click that no single key makes (`mouse.rs`).
    Pointer(Pointer),
}

/// What a click asks for that no single key does (the mouse's other gestures become the keys
/// they stand for); each has keys that reach the same place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pointer {
    /// Select row `row` of `tab`'s list, as j/k would reach it.
    Select { tab: Tab, row: usize },
    /// Sort the members by this column, or reverse the sort when it is the column already
    /// sorted by, as o and O would.
    Sort(SortColumn),
}

impl Action {
    pub fn failed(what: impl Into<String>, error: impl ToString) -> Action {
        Action::Failed {
            what: what.into(),
            error: error.to_string(),
            trace: None,
        }
    }
}
