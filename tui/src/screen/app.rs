//! All of the screen's state. No I/O and no await; only `update` (in `update.rs`,
//! `commands.rs` and `dialog_keys.rs`) changes it. The rows it holds are in `app/rows.rs`, the
//! dialogs in `app/mode.rs`, the queries views ask of it in `app/queries.rs`, and what live
//! stock does to the products and the cart in `app/stock.rs`.

mod mode;
mod queries;
mod rows;
mod stock;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use ringshop_shared::trace::TraceId;
use ringshop_shared::{NodeId, Order, OrderId, ProductId};

pub use self::mode::{Confirm, DemoPass, DemoView, Dialog, ListState, Mode};
pub use self::rows::{Cache, CartLine, LogLine, MOVED_FOR, ProductRow, SortColumn, Tab, Toast};
use super::effect::Effect;
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
    pub tab: Tab,
    pub mode: Mode,
    pub embedded: bool,
    pub read_only: bool,
    pub epoch: u64,
    pub members: Vec<MemberRow>,
    pub cluster: ListState,
    /// Sort column of the members table and whether it is reversed.
    pub sort: SortColumn,
    pub sort_reversed: bool,
    /// Recent request latencies per node (µs), for the sparklines.
    pub latencies: BTreeMap<NodeId, VecDeque<u64>>,
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
    pub demo: DemoView,
    pub demo_list: ListState,
    pub log: VecDeque<LogLine>,
    /// The trace each order of this session was checked out in.
    pub order_traces: HashMap<OrderId, TraceId>,
    /// The trace the Trace view shows, once gathered; its first row shown.
    pub trace: Option<Waterfall>,
    pub trace_scroll: usize,
    pub toasts: Vec<Toast>,
    /// What is failing now (by what failed: "members", "products", ...) and its error; a
    /// repeat of the same error only counts, it is not logged or toasted again.
    pub failing: BTreeMap<String, String>,
    /// The first line of the `?` overlay shown (it scrolls when it does not fit).
    pub help_scroll: usize,
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
            tab: Tab::Shop,
            mode: Mode::Normal,
            embedded,
            read_only,
            epoch: 0,
            members: Vec::new(),
            cluster: ListState::default(),
            sort: SortColumn::Name,
            sort_reversed: false,
            latencies: BTreeMap::new(),
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
            demo: DemoView::default(),
            demo_list: ListState::default(),
            log: VecDeque::new(),
            order_traces: HashMap::new(),
            trace: None,
            trace_scroll: 0,
            toasts: Vec::new(),
            failing: BTreeMap::new(),
            help_scroll: 0,
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

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.toasts.push(Toast {
            text: text.into(),
            error,
            born: self.now,
            count: 1,
        });
        if self.toasts.len() > MAX_TOASTS {
            self.toasts.remove(0);
        }
    }

    pub(crate) fn logged(&mut self, line: LogLine) {
        if let (Some(node), None) = (&line.node, &line.error) {
            let series = self.latencies.entry(node.clone()).or_default();
            series.push_back(line.latency.as_micros() as u64);
            if series.len() > 60 {
                series.pop_front();
            }
        }
        self.log.push_back(line);
        if self.log.len() > LOG_LINES {
            self.log.pop_front();
        }
    }
}
