//! `update`: the only code that changes `App`. Keys become commands through the key table;
//! results of effects come back as actions; each returns the effects to run next, and every
//! effect returned is counted in flight until the runner says it finished.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ringshop_shared::shop::MAX_QTY_PER_LINE;
use ringshop_shared::{ProductId, Stage};

use ringshop_shared::Order;
use ringshop_shared::shop::items;

use super::action::Action;
use super::app::{App, CartLine, Confirm, ListState, LogLine, Mode, TOAST_FOR};
use super::effect::Effect;
use super::keys::command_for;

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
            Action::Members { epoch, members } => {
                if !self.frozen {
                    let selected = self.selected_member();
                    self.epoch = epoch;
                    self.members = members;
                    self.follow_member(selected);
                }
                Vec::new()
            }
            Action::Products(rows) => {
                self.products = rows;
                self.clamp();
                Vec::new()
            }
            Action::Orders(rows) => {
                for row in rows {
                    if !self.orders.iter().any(|o| o.id == row.id) {
                        self.orders.push(row);
                    }
                }
                Vec::new()
            }
            Action::Order(row) => self.on_order(row),
            Action::Called(line) => {
                self.logged(line);
                Vec::new()
            }
            Action::Failed(text) => {
                self.logged(LogLine {
                    what: text.clone(),
                    node: None,
                    hit: None,
                    latency: Duration::ZERO,
                    failover: false,
                    error: Some(text.clone()),
                });
                self.toast(text, true);
                Vec::new()
            }
            Action::DemoPass(pass) => {
                self.demo.waiting_until = None;
                self.demo.passes.push(pass);
                Vec::new()
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
                let text = if graceful {
                    format!("{name} left; it handed its ids to their next owners")
                } else {
                    format!("killed {name}; its ids fail over to their next owners")
                };
                self.toast(text, false);
                vec![Effect::LoadMembers]
            }
            Action::NodeStarted(name) => {
                self.toast(
                    format!("started {name} again; it owns its ids again"),
                    false,
                );
                vec![Effect::LoadMembers]
            }
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
        if !self.frozen && now.duration_since(self.last_refresh) >= self.refresh_every {
            self.last_refresh = now;
            return vec![Effect::LoadMembers];
        }
        Vec::new()
    }

    fn on_order(&mut self, row: Order) -> Vec<Effect> {
        match self.orders.iter_mut().find(|o| o.id == row.id) {
            Some(existing) => *existing = row.clone(),
            None => self.orders.insert(0, row.clone()),
        }
        let mine = self.checkout.as_ref().is_none_or(|(c, _)| c.id == row.id);
        if !mine {
            return Vec::new();
        }
        let started = self.checkout.as_ref().map_or(self.now, |(_, s)| *s);
        if row.stage == Stage::Accepted && self.checkout.is_none() {
            self.cart.clear();
            self.cart_list = ListState::default();
        }
        if row.stage.is_final() {
            self.checkout = None;
            if row.stage == Stage::Done {
                let secs = self.now.duration_since(started).as_secs_f64();
                self.toast(
                    format!(
                        "Bought {} on {} in {secs:.1} s",
                        items(row.items()),
                        row.node
                    ),
                    false,
                );
            } else {
                let reason = row.reason.clone().unwrap_or_default();
                self.toast(format!("Order failed: {reason}"), true);
            }
            return vec![Effect::LoadProducts];
        }
        self.checkout = Some((row, started));
        Vec::new()
    }

    pub(crate) fn clamp(&mut self) {
        let len = self.list_len();
        if let Some(list) = self.list_mut() {
            list.selected = list.selected.min(len.saturating_sub(1));
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.code == KeyCode::Char('c')
            && key
                .modifiers
                .contains(crossterm::event::KeyModifiers::CONTROL)
        {
            self.quit = true;
            return Vec::new();
        }
        if !self.toasts.is_empty() {
            // Errors stay until the next key.
            self.toasts.retain(|t| !t.error);
        }
        match self.mode.clone() {
            Mode::Normal => match command_for(self.tab, &key) {
                Some(command) => self.on_command(command),
                None => Vec::new(),
            },
            Mode::Help => {
                if matches!(
                    key.code,
                    KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q')
                ) {
                    self.mode = Mode::Normal;
                }
                Vec::new()
            }
            Mode::OrderDetail(_) => {
                if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                    self.mode = Mode::Normal;
                }
                Vec::new()
            }
            Mode::Filter(mut text) => {
                match key.code {
                    KeyCode::Enter => self.mode = Mode::Normal,
                    KeyCode::Esc => {
                        text.clear();
                        self.mode = Mode::Normal;
                    }
                    KeyCode::Backspace => {
                        text.pop();
                        self.mode = Mode::Filter(text.clone());
                    }
                    KeyCode::Char(c) if !c.is_control() => {
                        text.push(c);
                        self.mode = Mode::Filter(text.clone());
                    }
                    _ => {}
                }
                if let Some(list) = self.list_mut() {
                    list.filter = text;
                    list.selected = 0;
                }
                Vec::new()
            }
            Mode::Quantity { product, mut input } => {
                match key.code {
                    KeyCode::Esc => self.mode = Mode::Normal,
                    KeyCode::Backspace => {
                        input.pop();
                        self.mode = Mode::Quantity { product, input };
                    }
                    KeyCode::Char(c) if c.is_ascii_digit() && input.len() < 3 => {
                        input.push(c);
                        self.mode = Mode::Quantity { product, input };
                    }
                    KeyCode::Enter => {
                        self.mode = Mode::Normal;
                        self.add_to_cart(&product, &input);
                    }
                    _ => {}
                }
                Vec::new()
            }
            Mode::Confirm(confirm) => {
                if key.code == KeyCode::Char('y') {
                    self.mode = Mode::Normal;
                    return match confirm {
                        Confirm::KillNode { name, .. } => vec![Effect::KillNode(name)],
                        Confirm::LeaveNode { name, .. } => vec![Effect::LeaveNode(name)],
                        Confirm::Checkout { lines, .. } => {
                            self.checkout = None;
                            vec![Effect::Checkout(lines)]
                        }
                    };
                }
                // Enter alone never confirms; any other key is no.
                self.mode = Mode::Normal;
                Vec::new()
            }
        }
    }

    pub(crate) fn add_to_cart(&mut self, product: &ProductId, input: &str) {
        let qty: u32 = input.parse().unwrap_or(0);
        if qty == 0 || qty > MAX_QTY_PER_LINE {
            self.toast(
                format!("quantity {input:?}: order 1 to {MAX_QTY_PER_LINE}"),
                true,
            );
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
        if let Some(list) = self.list_mut() {
            list.selected = if len == 0 {
                0
            } else {
                to(list.selected, len).min(len - 1)
            };
        }
    }
}
