//! All of the screen's state. No I/O and no await; only `update` (in `update.rs`,
//! `commands.rs` and `dialog_keys.rs`) changes it. The rows it holds are in `app/rows.rs`, the
//! dialogs in `app/mode.rs`, the queries views ask of it in `app/queries.rs`, and what live
//! stock does to the products and the cart in `app/stock.rs`.

mod history;
pub mod mode;
mod queries;
pub mod rows;
mod stock;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ringshop_shared::trace::TraceId;
use ringshop_shared::{NodeId, Order, OrderId, ProductId};

pub use self::history::{NodeHistory, P99_WINDOW};
pub use self::mode::{Confirm, DemoPass, DemoView, Dialog, ListState, Mode, Placing};
pub use self::rows::{Cache, CartLine, LogLine, MOVED_FOR, ProductRow, SortColumn, Tab, Toast};
use super::effect::Effect;
use super::keys::Keymap;
use crate::client::trace::Waterfall;
use crate::client::{MemberRow, MemberState};

/// How long an info toast stays.
pub const TOAST_FOR: Duration = Duration::from_secs(3);
/// Most toasts shown at once.
pub const MAX_TOASTS: usize = 3;
/// Event log lines kept.
pub const LOG_LINES: usize = 200;
/// How long a state the screen set itself (a node it just killed, left or started) holds
/// against snapshots that do not show it yet.
pub const PENDING_FOR: Duration = Duration::from_secs(10);

pub struct App {
    /// The key table of this run (the config file's `[keys]` over the defaults).
    pub keys: Keymap,
    pub tab: Tab,
    pub mode: Mode,
    pub embedded: bool,
    pub read_only: bool,
    pub epoch: u64,
    pub members: Vec<MemberRow>,
    /// Where the client looks for the cluster while no member answers (the header says so).
    pub searching: Vec<SocketAddr>,
    pub cluster: ListState,
    /// Sort column of the members table and whether it is reversed.
    pub sort: SortColumn,
    pub sort_reversed: bool,
    /// Each node's requests per second and p99, from its successive snapshots.
    pub history: BTreeMap<NodeId, NodeHistory>,
    /// When the members snapshot shown arrived (heartbeat ages grow from it).
    pub members_at: Instant,
    /// States this screen caused (killed: DEAD, left: LEFT, started: JOINING) and since when;
    /// each overrides the members snapshots until one agrees, at most `PENDING_FOR`.
    pub pending: BTreeMap<NodeId, (MemberState, Instant)>,
    pub products: Vec<ProductRow>,
    /// The products whose stock is followed live (`Effect::FollowStock`).
    pub following: Vec<ProductId>,
    pub shop: ListState,
    pub category: Option<String>,
    pub cart: Vec<CartLine>,
    pub cart_list: ListState,
    pub removed: Option<(usize, CartLine, Instant)>,
    pub orders: Vec<Order>,
    pub orders_list: ListState,
    /// The order being checked out from this session, and when it started.
    pub checkout: Option<(Order, Instant)>,
    /// The order this session asked the cluster to place, until it is accepted (then it is
    /// `checkout`) or its call fails; one at a time.
    pub placing: Option<Placing>,
    /// An order whose checkout call failed (the cluster may have it anyway): confirming the
    /// same lines again places it under the same id, so it is placed once.
    pub unplaced: Option<Placing>,
    /// When each order's current stage was seen here (open orders' times run on from it).
    pub order_seen: HashMap<OrderId, Instant>,
    pub demo: DemoView,
    pub demo_list: ListState,
    pub log: VecDeque<LogLine>,
    /// The trace each order of this session was checked out in.
    pub order_traces: HashMap<OrderId, TraceId>,
    /// The order last found by a typed id (it may not be one of the listed orders).
    pub looked_up: Option<Order>,
    /// The trace the Trace view shows, once gathered; its first row shown.
    pub trace: Option<Waterfall>,
    pub trace_scroll: usize,
    pub toasts: Vec<Toast>,
    /// What is failing now (by what failed: "members", "products", ...) and its error; a
    /// repeat of the same error only counts, it is not logged or toasted again.
    pub failing: BTreeMap<String, String>,
    /// The first line of the `?` overlay shown (it scrolls when it does not fit).
    pub help_scroll: usize,
    /// The filter prompt was reopened on its old text, which shows selected: the first
    /// character typed replaces it, backspace edits it.
    pub input_selected: bool,
    /// Error messages shown, each once per change, for the log file (the event loop writes
    /// and empties it; `update` does no I/O).
    pub outbox: Vec<String>,
    /// Effects started and not finished yet (the runner reports each one's end).
    pub in_flight: usize,
    pub frozen: bool,
    pub quit: bool,
    pub now: Instant,
    pub refresh_every: Duration,
    pub(crate) last_refresh: Instant,
    /// Extra refreshes of members and products after a node was stopped or started (the
    /// cluster takes a moment to agree), bounded.
    pub(crate) catch_up: Vec<Instant>,
    pub log_path: String,
}

impl App {
    pub fn new(embedded: bool, read_only: bool, refresh_every: Duration, log_path: String) -> App {
        let now = Instant::now();
        App {
            keys: Keymap::default(),
            tab: Tab::Shop,
            mode: Mode::Normal,
            embedded,
            read_only,
            epoch: 0,
            members: Vec::new(),
            searching: Vec::new(),
            cluster: ListState::default(),
            sort: SortColumn::Name,
            sort_reversed: false,
            history: BTreeMap::new(),
            members_at: now,
            pending: BTreeMap::new(),
            products: Vec::new(),
            following: Vec::new(),
            shop: ListState::default(),
            category: None,
            cart: Vec::new(),
            cart_list: ListState::default(),
            removed: None,
            orders: Vec::new(),
            orders_list: ListState::default(),
            checkout: None,
            placing: None,
            unplaced: None,
            order_seen: HashMap::new(),
            demo: DemoView::default(),
            demo_list: ListState::default(),
            log: VecDeque::new(),
            order_traces: HashMap::new(),
            looked_up: None,
            trace: None,
            trace_scroll: 0,
            toasts: Vec::new(),
            failing: BTreeMap::new(),
            help_scroll: 0,
            input_selected: false,
            outbox: Vec::new(),
            in_flight: 0,
            frozen: false,
            quit: false,
            now,
            refresh_every,
            last_refresh: now,
            catch_up: Vec::new(),
            log_path,
        }
    }

    /// The effects to start with (counted in flight, as every effect `update` returns).
    pub fn start(&mut self) -> Vec<Effect> {
        let effects = vec![
            Effect::LoadMembers,
            Effect::LoadProducts,
            Effect::LoadOrders,
        ];
        self.in_flight += effects.len();
        effects
    }

    /// Nodes can be killed, left and started from here: an embedded cluster, not read-only.
    pub fn node_controls(&self) -> bool {
        self.embedded && !self.read_only
    }

    /// Shows `text` as a toast and puts it in the log pane; an error also goes to the log
    /// file. The same error again, with nothing logged in between, is one message: its log
    /// line and its toast count (×N), and the log file has it once.
    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        let text = text.into();
        if error {
            let again = self
                .log
                .back_mut()
                .filter(|l| l.what.is_empty() && l.error.as_deref() == Some(text.as_str()));
            if let Some(line) = again {
                line.count += 1;
                let count = line.count;
                match self.toasts.iter_mut().find(|t| t.error && t.text == text) {
                    Some(toast) => toast.count = count,
                    None => {
                        self.show_toast(text, true);
                        if let Some(toast) = self.toasts.last_mut() {
                            toast.count = count;
                        }
                    }
                }
                return;
            }
            self.outbox.push(text.clone());
            self.logged(LogLine {
                error: Some(text.clone()),
                ..LogLine::call("", None, Duration::ZERO)
            });
        } else {
            self.logged(LogLine::call(text.clone(), None, Duration::ZERO));
        }
        self.show_toast(text, error);
    }

    /// Shows a toast (at most `MAX_TOASTS`, the oldest gives way), logging nothing.
    pub(crate) fn show_toast(&mut self, text: String, error: bool) {
        self.toasts.push(Toast {
            text,
            error,
            born: self.now,
            count: 1,
        });
        if self.toasts.len() > MAX_TOASTS {
            self.toasts.remove(0);
        }
    }

    pub(crate) fn logged(&mut self, line: LogLine) {
        self.log.push_back(line);
        if self.log.len() > LOG_LINES {
            self.log.pop_front();
        }
    }
}
