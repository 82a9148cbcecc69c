//! What happened: keys, ticks, and the results of effects, which come back as actions.

use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use ringshop_shared::trace::TraceId;
use ringshop_shared::{NodeId, Order, OrderId, ProductId, Quote, Served};

use super::app::{LogLine, ProductRow};
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
    DemoWaiting(Duration),
    DemoDone,
    NodeStopped {
        name: NodeId,
        graceful: bool,
    },
    NodeStarted(NodeId),
    /// An effect's task is over (whatever it sent before).
    Finished,
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
