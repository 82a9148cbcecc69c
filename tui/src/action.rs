//! What happened: keys, ticks, and the results of effects, which come back as actions.

use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use ringshop_shared::NodeId;

use crate::app::{LogLine, MemberRow, OrderRow, ProductRow};
use crate::demo::Pass;

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
    Orders(Vec<OrderRow>),
    /// An order of this session moved on (or was accepted).
    Order(OrderRow),
    /// A call came back; for the event log.
    Called(LogLine),
    /// Something failed; shown as an error toast and logged.
    Failed(String),
    DemoPass(Pass),
    DemoWaiting(Duration),
    DemoDone,
    NodeStopped(NodeId),
    NodeStarted(NodeId),
}
