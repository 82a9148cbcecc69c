//! What the screen is doing besides showing a tab: the dialog (or text input) that is open,
//! the questions it asks, and a list's selection and filter. Plain data.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ringshop_shared::trace::TraceId;
use ringshop_shared::{NodeId, OrderId, OrderLine, ProductId};

use crate::client::demo::Pass;

/// A question the user must answer with `y`; anything else is no.
#[derive(Clone, Debug, PartialEq)]
pub enum Confirm {
    /// Kill a node. Captured when the dialog opened, so a refresh cannot retarget it.
    KillNode { name: NodeId, addr: SocketAddr },
    /// Let a node leave gracefully; captured as `KillNode` is.
    LeaveNode { name: NodeId, addr: SocketAddr },
    Checkout {
        lines: Vec<OrderLine>,
        summary: String,
    },
    /// Quit with this many items in the cart (kept for next time).
    Quit { items: u32 },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Normal,
    Help,
    /// Typing the focused list's filter (applied as it is typed).
    Filter(String),
    /// Typing a quantity; empty means 1 (shown as a placeholder).
    Quantity {
        product: ProductId,
        input: String,
    },
    Confirm(Confirm),
    OrderDetail(OrderId),
    /// Picking a line of the event log: the index of the picked line in `App::log`.
    LogPick(usize),
    /// A trace's waterfall (`App::trace` once gathered).
    Trace(TraceId),
    /// Esc was pressed in a text input that holds text: throw it away? The input (a `Filter`,
    /// a `Quantity` or a `Palette`) waits here untouched until the answer.
    Discard(Box<Mode>),
    /// Typing a `:` command (`palette.rs`).
    Palette(String),
    /// A member's full counters (Enter on the Cluster tab).
    MemberDetail(NodeId),
}

/// The dialogs (and text inputs) a key can go to instead of the tab: each has its own scope in
/// the key table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dialog {
    Help,
    Filter,
    Quantity,
    Confirm,
    OrderDetail,
    LogPick,
    Trace,
    Discard,
    Palette,
    MemberDetail,
}

impl Dialog {
    pub const ALL: [Dialog; 10] = [
        Dialog::Help,
        Dialog::Filter,
        Dialog::Quantity,
        Dialog::Confirm,
        Dialog::OrderDetail,
        Dialog::LogPick,
        Dialog::Trace,
        Dialog::Discard,
        Dialog::Palette,
        Dialog::MemberDetail,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Dialog::Help => "In this help",
            Dialog::Filter => "Typing a filter (/)",
            Dialog::Quantity => "Typing a quantity",
            Dialog::Confirm => "A yes/no question",
            Dialog::OrderDetail => "An order's detail",
            Dialog::LogPick => "Picking a log line (L)",
            Dialog::Trace => "A trace's waterfall",
            Dialog::Discard => "Discarding typed text",
            Dialog::Palette => "Typing a command (:)",
            Dialog::MemberDetail => "A member's detail",
        }
    }

    /// Characters typed in it are text, not commands (unless the dialog binds them).
    pub fn takes_text(self) -> bool {
        matches!(self, Dialog::Filter | Dialog::Quantity | Dialog::Palette)
    }
}

impl Mode {
    /// The dialog keys go to, if one is open.
    pub fn dialog(&self) -> Option<Dialog> {
        Some(match self {
            Mode::Normal => return None,
            Mode::Help => Dialog::Help,
            Mode::Filter(_) => Dialog::Filter,
            Mode::Quantity { .. } => Dialog::Quantity,
            Mode::Confirm(_) => Dialog::Confirm,
            Mode::OrderDetail(_) => Dialog::OrderDetail,
            Mode::LogPick(_) => Dialog::LogPick,
            Mode::Trace(_) => Dialog::Trace,
            Mode::Discard(_) => Dialog::Discard,
            Mode::Palette(_) => Dialog::Palette,
            Mode::MemberDetail(_) => Dialog::MemberDetail,
        })
    }
}

/// A list's selection and filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListState {
    pub selected: usize,
    pub filter: String,
}

/// A pass of the demo cycle and when it arrived (its rows' TTLs count down from then).
#[derive(Clone, Debug, PartialEq)]
pub struct DemoPass {
    pub pass: Pass,
    pub at: Instant,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoView {
    pub running: bool,
    pub passes: Vec<DemoPass>,
    /// Until when the demo waits for the TTL to pass.
    pub waiting_until: Option<Instant>,
    pub wait: Duration,
}

/// An order this screen asked the cluster to place: its id, minted when the checkout was
/// confirmed (so placing the same lines again is the same order), its lines, and since when.
#[derive(Clone, Debug, PartialEq)]
pub struct Placing {
    pub id: OrderId,
    pub lines: Vec<OrderLine>,
    pub since: Instant,
}
