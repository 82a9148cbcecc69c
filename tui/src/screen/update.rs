//! `update`: the only code that changes `App`. Keys become commands through the key table (a
//! tab's commands in `commands.rs`, a dialog's in `dialog_keys.rs`); results of effects come
//! back as actions (the members, failures and node changes in `results.rs`, live stock in
//! `stock.rs`); each returns the effects to run next, and every effect returned is counted in
//! flight until the runner says it finished.

use std::time::Instant;

use crossterm::event::{KeyEvent, KeyEventKind};
use ringshop_shared::ProductId;
use ringshop_shared::shop::MAX_QTY_PER_LINE;

use super::action::Action;
use super::app::{App, CartLine, DemoPass, Mode, TOAST_FOR};
use super::effect::Effect;
use super::keep::KEEP;
use super::keys::{Command, Focus};
use crate::client::MemberState;

impl App {
    /// The one place state changes. The effects it returns are in flight until the runner
    /// sends `Action::Finished` for each.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let effects = self.apply(action);
        self.in_flight += effects.len();
        effects
    }

    fn apply(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Finished => {
                self.in_flight = self.in_flight.saturating_sub(1);
                Vec::new()
            }
            Action::Key(key) if key.kind == KeyEventKind::Press => self.on_key(key),
            Action::Key(_) | Action::Resize(..) => Vec::new(),
            Action::Tick(now) => self.on_tick(now),
            Action::Pointer(pointer) => self.on_pointer(pointer),
            Action::CartKept(Ok(())) => {
                self.failing.remove(KEEP);
                Vec::new()
            }
            Action::CartKept(Err(error)) => {
                self.on_failed(KEEP.into(), error, None);
                Vec::new()
            }
            Action::Members { epoch, members } => self.on_members(epoch, members),
            Action::Searching(addrs) => {
                self.searching = addrs;
                Vec::new()
            }
            Action::Products(rows) => {
                self.failing.remove("products");
                self.failing.remove("quotes");
                self.on_products(rows)
            }
            Action::Stock { quotes, at } => {
                self.on_stock(quotes, at);
                Vec::new()
            }
            Action::StockLost {
                node,
                products,
                error,
            } => {
                self.on_stock_lost(node, products, error);
                Vec::new()
            }
            Action::Orders(rows) => {
                self.on_orders(rows);
                Vec::new()
            }
            Action::Order(row) => self.on_order(row),
            Action::CheckoutFailed { order, error } => {
                self.on_checkout_failed(order, error);
                Vec::new()
            }
            Action::FollowGaveUp {
                order,
                error,
                after,
            } => {
                self.on_follow_gave_up(order, error, after);
                Vec::new()
            }
            Action::Called(line) => {
                self.logged(line);
                Vec::new()
            }
            Action::Failed { what, error, trace } => {
                self.on_failed(what, error, trace);
                Vec::new()
            }
            Action::DemoPass(pass) => {
                // A selection on the newest row (or none yet) follows the rows as they come.
                let rows = |app: &App| -> usize {
                    app.visible_demo().iter().map(|(_, rows)| rows.len()).sum()
                };
                let following = self.demo_list.selected + 1 >= rows(self);
                self.demo.waiting_until = None;
                self.demo.passes.push(DemoPass { pass, at: self.now });
                if following {
                    self.demo_list.selected = rows(self).saturating_sub(1);
                }
                Vec::new()
            }
            Action::OrderTrace(order, trace) => {
                self.order_traces.insert(order, trace);
                Vec::new()
            }
            Action::Trace(waterfall) => {
                if self.mode == Mode::Trace(waterfall.trace) {
                    self.trace_scroll = self
                        .trace_scroll
                        .min(waterfall.rows.len().saturating_sub(1));
                    self.trace = Some(waterfall);
                }
                Vec::new()
            }
            Action::FoundOrder(order) => {
                self.failing.remove("find");
                self.orders_list.filter.clear();
                self.mode = Mode::OrderDetail(order.id);
                self.looked_up = Some(order);
                Vec::new()
            }
            Action::FoundTrace(trace) => {
                self.failing.remove("find");
                self.open_trace(trace)
            }
            Action::DemoWaiting(wait) => {
                self.demo.waiting_until = Some(self.now + wait);
                self.demo.wait = wait;
                Vec::new()
            }
            Action::DemoDone => {
                self.demo.running = false;
                self.demo.waiting_until = None;
                self.toast("demo cycle finished", false);
                Vec::new()
            }
            Action::NodeStopped { name, graceful } => {
                let state = if graceful {
                    MemberState::Left
                } else {
                    MemberState::Dead
                };
                self.on_node_changed(name, state)
            }
            Action::NodeStarted(name) => self.on_node_changed(name, MemberState::Joining),
        }
    }

    fn on_tick(&mut self, now: Instant) -> Vec<Effect> {
        self.now = now;
        self.toasts
            .retain(|t| t.error || now.duration_since(t.born) < TOAST_FOR);
        if self
            .removed
            .as_ref()
            .is_some_and(|(_, _, at)| now.duration_since(*at) >= TOAST_FOR)
        {
            self.removed = None;
        }
        if self.frozen {
            return Vec::new();
        }
        let mut effects = self.catch_up_due();
        if now.duration_since(self.last_refresh) >= self.refresh_every {
            self.last_refresh = now;
            if !effects.contains(&Effect::LoadMembers) {
                effects.push(Effect::LoadMembers);
            }
        }
        effects
    }

    pub(crate) fn clamp(&mut self) {
        let len = self.list_len();
        let list = self.list_mut();
        list.selected = list.selected.min(len.saturating_sub(1));
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if !self.toasts.is_empty() {
            // Errors stay until the next key.
            self.toasts.retain(|t| !t.error);
        }
        match self.mode.dialog() {
            None => match self.keys.command_for(Focus::Tab(self.tab), &key) {
                Some(command) => self.on_command(command),
                None => Vec::new(),
            },
            Some(dialog) => match self.keys.command_for(Focus::Dialog(dialog), &key) {
                Some(Command::QuitNow) => {
                    self.quit = true;
                    Vec::new()
                }
                Some(command) => self.on_dialog_command(command),
                None => self.on_dialog_other_key(key),
            },
        }
    }

    pub(crate) fn add_to_cart(&mut self, product: &ProductId, input: &str) {
        // Nothing typed: the placeholder, 1.
        let qty: u32 = if input.is_empty() {
            1
        } else {
            input.parse().unwrap_or(0)
        };
        // What is left now: stock moves while the dialog is open.
        let most = self.addable(product);
        if qty == 0 || qty > most {
            let range = match most {
                0 => "none left to add".to_string(),
                1 => "only 1 can be added".to_string(),
                n => format!("add 1 to {n}"),
            };
            self.toast(format!("quantity {input:?}: {range}"), true);
            return;
        }
        let Some(p) = self.products.iter().find(|p| &p.id == product).cloned() else {
            return;
        };
        match self.cart.iter_mut().find(|l| l.product == p.id) {
            Some(line) => line.qty = (line.qty + qty).min(MAX_QTY_PER_LINE),
            None => self.cart.push(CartLine {
                product: p.id.clone(),
                name: p.name.clone(),
                price_cents: p.price_cents,
                qty,
            }),
        }
        self.toast(format!("added {qty} × {} to the cart", p.name), false);
    }

    pub(crate) fn move_selection(&mut self, to: impl Fn(usize, usize) -> usize) {
        let len = self.list_len();
        let list = self.list_mut();
        list.selected = if len == 0 {
            0
        } else {
            to(list.selected, len).min(len - 1)
        };
    }
}
