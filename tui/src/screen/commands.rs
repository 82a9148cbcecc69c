//! Commands (what a key means where it is pressed) applied to `App`: moving between tabs and
//! rows, the cart, checkout, the demo, and stopping or starting embedded nodes. Called by
//! `update` once a key has become a command; returns the effects to run next.

use ringshop_shared::OrderId;
use ringshop_shared::shop::MAX_QTY_PER_LINE;
use ringshop_shared::trace::TraceId;

use super::app::{App, Confirm, DemoView, Mode, Tab};
use super::effect::Effect;
use super::keys::Command;

impl App {
    pub(super) fn on_command(&mut self, command: Command) -> Vec<Effect> {
        match command {
            Command::QuitNow => self.quit = true,
            Command::Quit if self.cart.is_empty() => self.quit = true,
            Command::Quit => {
                self.mode = Mode::Confirm(Confirm::Quit {
                    items: self.cart_items(),
                })
            }
            Command::Help => {
                self.help_scroll = 0;
                self.mode = Mode::Help;
            }
            Command::NextTab => self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()],
            Command::PrevTab => {
                self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
            }
            Command::GoTab(tab) => self.tab = tab,
            Command::Down => self.move_selection(|s, _| s + 1),
            Command::Up => self.move_selection(|s, _| s.saturating_sub(1)),
            Command::Top => self.move_selection(|_, _| 0),
            Command::Bottom => self.move_selection(|_, len| len.saturating_sub(1)),
            Command::PageDown => self.move_selection(|s, _| s + 10),
            Command::PageUp => self.move_selection(|s, _| s.saturating_sub(10)),
            Command::Filter => {
                let text = self.list().filter.clone();
                // Reopened on its old text: shown selected, so typing replaces it.
                self.input_selected = !text.is_empty();
                self.mode = Mode::Filter(text);
            }
            Command::Palette => self.mode = Mode::Palette(String::new()),
            Command::Back => self.list_mut().filter.clear(),
            Command::Refresh => {
                return vec![
                    Effect::LoadMembers,
                    Effect::LoadProducts,
                    Effect::LoadOrders,
                ];
            }
            Command::Freeze => {
                self.frozen = !self.frozen;
                if !self.frozen {
                    // Stock changes were not shown while frozen.
                    return vec![Effect::LoadProducts];
                }
            }
            Command::Category => {
                let mut cats: Vec<String> =
                    self.products.iter().map(|p| p.category.clone()).collect();
                cats.sort();
                cats.dedup();
                self.category = match &self.category {
                    None => cats.first().cloned(),
                    Some(c) => cats.iter().skip_while(|x| *x != c).nth(1).cloned(),
                };
                self.shop.selected = 0;
            }
            Command::Add => {
                let selected = self
                    .visible_products()
                    .get(self.shop.selected)
                    .map(|p| p.id.clone());
                if let Some(product) = selected {
                    match self.addable(&product) {
                        0 => {
                            let why = self.why_no_more(&product);
                            self.toast(why, true);
                        }
                        _ => {
                            self.mode = Mode::Quantity {
                                product,
                                input: String::new(),
                            }
                        }
                    }
                }
            }
            Command::More | Command::Less => {
                let delta: i64 = if command == Command::More { 1 } else { -1 };
                let id = self
                    .visible_cart()
                    .get(self.cart_list.selected)
                    .map(|l| l.product.clone());
                if let Some(id) = id {
                    if delta > 0 && self.addable(&id) == 0 {
                        let why = self.why_no_more(&id);
                        self.toast(why, true);
                    } else if let Some(line) = self.cart.iter_mut().find(|l| l.product == id) {
                        line.qty = (i64::from(line.qty) + delta)
                            .clamp(1, i64::from(MAX_QTY_PER_LINE))
                            as u32;
                    }
                }
            }
            Command::Remove => {
                let id = self
                    .visible_cart()
                    .get(self.cart_list.selected)
                    .map(|l| l.product.clone());
                if let Some(index) = self
                    .cart
                    .iter()
                    .position(|l| Some(&l.product) == id.as_ref())
                {
                    let line = self.cart.remove(index);
                    self.toast(format!("removed {}; u undoes", line.name), false);
                    self.removed = Some((index, line, self.now));
                    self.clamp();
                }
            }
            Command::Undo => {
                if let Some((index, line, _)) = self.removed.take() {
                    let index = index.min(self.cart.len());
                    self.toast(format!("{} is back", line.name), false);
                    self.cart.insert(index, line);
                }
            }
            Command::Checkout => self.ask_checkout(),
            Command::Open => match self.tab {
                Tab::Cluster => {
                    if let Some(name) = self.selected_member() {
                        self.mode = Mode::MemberDetail(name);
                    }
                }
                _ => {
                    if let Some(o) = self.visible_orders().get(self.orders_list.selected) {
                        self.mode = Mode::OrderDetail(o.id);
                    }
                }
            },
            Command::Trace => {
                if let Some(id) = self
                    .visible_orders()
                    .get(self.orders_list.selected)
                    .map(|o| o.id)
                {
                    return self.order_trace(id);
                }
            }
            Command::PickLog => match self.log.len() {
                0 => self.toast("The log is empty: nothing to pick yet", false),
                n => self.mode = Mode::LogPick(n - 1),
            },
            Command::KillNode | Command::LeaveNode | Command::StartNode => {
                return self.node_command(command);
            }
            Command::SortNext | Command::SortReverse => {
                let selected = self.selected_member();
                if command == Command::SortNext {
                    self.sort = self.sort.next();
                } else {
                    self.sort_reversed = !self.sort_reversed;
                }
                self.follow_member(selected);
            }
            Command::RunDemo => {
                if self.demo.running {
                    self.toast("the demo is already running", true);
                } else {
                    self.demo = DemoView {
                        running: true,
                        ..DemoView::default()
                    };
                    self.demo_list.selected = 0;
                    return vec![Effect::RunDemo];
                }
            }
            // A dialog's own; `dialog_keys.rs` handles them.
            Command::Close
            | Command::Accept
            | Command::Cancel
            | Command::Erase
            | Command::Complete
            | Command::Yes
            | Command::No => {}
        }
        Vec::new()
    }

    /// Why the cart cannot take one more of `id`.
    fn why_no_more(&self, id: &ringshop_shared::ProductId) -> String {
        let held = self.in_cart(id);
        match self.stock_of(id) {
            Some(0) => format!("{id}: none left"),
            Some(left) if left <= held => {
                format!("{id}: the cart holds all {left} left")
            }
            _ => format!("{id}: the cart holds {held}, the most one order line takes"),
        }
    }

    /// Opens the Trace view of `trace` and gathers its spans.
    pub(super) fn open_trace(&mut self, trace: TraceId) -> Vec<Effect> {
        if self.trace.as_ref().is_none_or(|w| w.trace != trace) {
            self.trace = None;
        }
        self.trace_scroll = 0;
        self.mode = Mode::Trace(trace);
        vec![Effect::LoadTrace(trace)]
    }

    /// The Trace view of the checkout of order `id` (the trace it was placed in).
    pub(super) fn order_trace(&mut self, id: OrderId) -> Vec<Effect> {
        match self.trace_of_order(id) {
            Some(trace) => self.open_trace(trace),
            None => {
                self.toast(
                    "That order has no trace: it was placed by a call that was not traced",
                    true,
                );
                Vec::new()
            }
        }
    }

    fn node_command(&mut self, command: Command) -> Vec<Effect> {
        if !self.embedded || self.read_only {
            let why = if self.read_only {
                "--read-only"
            } else {
                "a joined cluster"
            };
            self.toast(
                format!(
                    "nodes can be killed, left and started only in embedded mode, not with {why}"
                ),
                true,
            );
            return Vec::new();
        }
        let Some(m) = self
            .visible_members()
            .get(self.cluster.selected)
            .map(|m| (*m).clone())
        else {
            return Vec::new();
        };
        match command {
            Command::KillNode if m.state.running() => {
                self.mode = Mode::Confirm(Confirm::KillNode {
                    name: m.name,
                    addr: m.addr,
                });
                Vec::new()
            }
            Command::LeaveNode if m.state.running() => {
                self.mode = Mode::Confirm(Confirm::LeaveNode {
                    name: m.name,
                    addr: m.addr,
                });
                Vec::new()
            }
            Command::StartNode if !m.state.running() => {
                self.failing.remove(&format!("start {}", m.name));
                vec![Effect::StartNode(m.name)]
            }
            _ => {
                self.toast(format!("{} is {}", m.name, m.state), true);
                Vec::new()
            }
        }
    }
}
