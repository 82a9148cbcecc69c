//! All of the screen's state, and the queries views and `update` ask of it (what a list shows
//! after its filter and sort, which node is selected). No I/O and no await; only `update`
//! (in `update.rs` and `commands.rs`) changes it.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ringshop_shared::{NodeId, Order, OrderId, OrderLine, ProductId};

use super::effect::Effect;
use crate::client::MemberRow;
use crate::client::demo::Pass;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tab {
    Shop,
    Cart,
    Orders,
    Cluster,
    Demo,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Shop, Tab::Cart, Tab::Orders, Tab::Cluster, Tab::Demo];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Shop => "Shop",
            Tab::Cart => "Cart",
            Tab::Orders => "Orders",
            Tab::Cluster => "Cluster",
            Tab::Demo => "Demo",
        }
    }

    pub(crate) fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// Where a quote came from: its owner's cache, a fresh computation, or the last one seen
/// (its owner did not answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cache {
    Hit,
    Miss,
    Stale,
}

impl Cache {
    pub fn word(self) -> &'static str {
        match self {
            Cache::Hit => "hit",
            Cache::Miss => "miss",
            Cache::Stale => "STALE",
        }
    }
}

/// The members table's sort column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortColumn {
    #[default]
    Name,
    State,
    Share,
    Actors,
    Hits,
}

impl SortColumn {
    pub const ALL: [SortColumn; 5] = [
        SortColumn::Name,
        SortColumn::State,
        SortColumn::Share,
        SortColumn::Actors,
        SortColumn::Hits,
    ];

    pub fn next(self) -> SortColumn {
        let i = SortColumn::ALL.iter().position(|c| *c == self).unwrap_or(0);
        SortColumn::ALL[(i + 1) % SortColumn::ALL.len()]
    }

    /// The heading of the column it sorts.
    pub fn heading(self) -> &'static str {
        match self {
            SortColumn::Name => "name",
            SortColumn::State => "status",
            SortColumn::Share => "share",
            SortColumn::Actors => "actors",
            SortColumn::Hits => "hits",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProductRow {
    pub id: ProductId,
    pub name: String,
    pub category: String,
    pub price_cents: u64,
    pub stock: u32,
    pub node: NodeId,
    pub cache: Cache,
    pub age: Duration,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CartLine {
    pub product: ProductId,
    pub name: String,
    pub price_cents: u64,
    pub qty: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub what: String,
    pub node: Option<NodeId>,
    pub hit: Option<bool>,
    pub latency: Duration,
    pub failover: bool,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub born: Instant,
}

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
}

#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Normal,
    Help,
    Filter(String),
    Quantity { product: ProductId, input: String },
    Confirm(Confirm),
    OrderDetail(OrderId),
}

/// A list's selection and filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListState {
    pub selected: usize,
    pub filter: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoView {
    pub running: bool,
    pub passes: Vec<Pass>,
    /// Until when the demo waits for the TTL to pass.
    pub waiting_until: Option<Instant>,
    pub wait: Duration,
}

/// How long an info toast stays.
pub const TOAST_FOR: Duration = Duration::from_secs(3);
/// Most toasts shown at once.
pub const MAX_TOASTS: usize = 3;
/// Event log lines kept.
pub const LOG_LINES: usize = 200;

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
    pub products: Vec<ProductRow>,
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
    pub log: VecDeque<LogLine>,
    pub toasts: Vec<Toast>,
    /// Effects started and not finished yet (the runner reports each one's end).
    pub in_flight: usize,
    pub frozen: bool,
    pub quit: bool,
    pub now: Instant,
    pub refresh_every: Duration,
    pub(crate) last_refresh: Instant,
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
            products: Vec::new(),
            shop: ListState::default(),
            category: None,
            cart: Vec::new(),
            cart_list: ListState::default(),
            removed: None,
            orders: Vec::new(),
            orders_list: ListState::default(),
            checkout: None,
            demo: DemoView::default(),
            log: VecDeque::new(),
            toasts: Vec::new(),
            in_flight: 0,
            frozen: false,
            quit: false,
            now,
            refresh_every,
            last_refresh: now,
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

    pub fn visible_products(&self) -> Vec<&ProductRow> {
        let f = self.shop.filter.to_lowercase();
        self.products
            .iter()
            .filter(|p| self.category.as_ref().is_none_or(|c| &p.category == c))
            .filter(|p| {
                f.is_empty() || p.name.to_lowercase().contains(&f) || p.id.as_str().contains(&f)
            })
            .collect()
    }

    pub fn visible_cart(&self) -> Vec<&CartLine> {
        let f = self.cart_list.filter.to_lowercase();
        self.cart
            .iter()
            .filter(|l| {
                f.is_empty()
                    || l.name.to_lowercase().contains(&f)
                    || l.product.as_str().contains(&f)
            })
            .collect()
    }

    pub fn visible_orders(&self) -> Vec<&Order> {
        let f = self.orders_list.filter.to_lowercase();
        self.orders
            .iter()
            .filter(|o| {
                f.is_empty()
                    || o.id.to_string().contains(&f)
                    || o.stage.as_str().contains(&f)
                    || o.node.as_str().contains(&f)
            })
            .collect()
    }

    /// Members in the table's order (sorted), filtered.
    pub fn visible_members(&self) -> Vec<&MemberRow> {
        let f = self.cluster.filter.to_lowercase();
        let mut rows: Vec<&MemberRow> = self
            .members
            .iter()
            .filter(|m| {
                f.is_empty()
                    || m.name.as_str().contains(&f)
                    || m.state.word().to_lowercase().contains(&f)
            })
            .collect();
        rows.sort_by(|a, b| {
            let order = match self.sort {
                SortColumn::State => a.state.cmp(&b.state),
                SortColumn::Share => a.share.total_cmp(&b.share),
                SortColumn::Actors => {
                    (a.stats.map(|s| s.live_actors)).cmp(&b.stats.map(|s| s.live_actors))
                }
                SortColumn::Hits => (a.stats.map(|s| s.hits)).cmp(&b.stats.map(|s| s.hits)),
                SortColumn::Name => a.name.cmp(&b.name),
            };
            order.then_with(|| a.name.cmp(&b.name))
        });
        if self.sort_reversed {
            rows.reverse();
        }
        rows
    }

    /// The node under the cluster selection.
    pub(crate) fn selected_member(&self) -> Option<NodeId> {
        self.visible_members()
            .get(self.cluster.selected)
            .map(|m| m.name.clone())
    }

    /// Keeps the selection on the same node (not the same row) after a refresh or re-sort.
    pub(crate) fn follow_member(&mut self, name: Option<NodeId>) {
        let index = name.and_then(|n| self.visible_members().iter().position(|m| m.name == n));
        match index {
            Some(i) => self.cluster.selected = i,
            None => self.clamp(),
        }
    }

    /// Units in the cart, over all its lines.
    pub fn cart_items(&self) -> u32 {
        self.cart.iter().map(|l| l.qty).sum()
    }

    pub fn cart_total(&self) -> u64 {
        self.cart
            .iter()
            .map(|l| l.price_cents * u64::from(l.qty))
            .sum()
    }

    pub(crate) fn list_len(&self) -> usize {
        match self.tab {
            Tab::Shop => self.visible_products().len(),
            Tab::Cart => self.visible_cart().len(),
            Tab::Orders => self.visible_orders().len(),
            Tab::Cluster => self.visible_members().len(),
            Tab::Demo => 0,
        }
    }

    pub(crate) fn list_mut(&mut self) -> Option<&mut ListState> {
        match self.tab {
            Tab::Shop => Some(&mut self.shop),
            Tab::Cart => Some(&mut self.cart_list),
            Tab::Orders => Some(&mut self.orders_list),
            Tab::Cluster => Some(&mut self.cluster),
            Tab::Demo => None,
        }
    }

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.toasts.push(Toast {
            text: text.into(),
            error,
            born: self.now,
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
