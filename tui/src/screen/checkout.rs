//! This session's checkout and its orders, as `update` sees them: one order at a time, placed
//! once per confirmed cart (its id is minted here, when `y` confirms, so a second `c y` while
//! it is being placed is refused, and placing the same lines again after a failed call is the
//! same order); its stages as they come, until it ends or following it gives up; the orders
//! list kept current by every read (`r`); and how long an open order has been running.

use std::time::Duration;

use ringshop_shared::shop::{items, money};
use ringshop_shared::{Order, OrderId, OrderLine, Stage};

use super::app::{App, Confirm, ListState, Mode, Placing, Tab};
use super::effect::Effect;
use super::keys::Command;

/// An order id as the screen names it: its first 8 hex digits.
pub fn short_id(id: &OrderId) -> String {
    id.to_string().chars().take(8).collect()
}

impl App {
    /// `c`: asks to buy the cart, unless an order is on its way (its cart is in it: say
    /// that first) or the cart is empty.
    pub(super) fn ask_checkout(&mut self) {
        if let Some(busy) = self.checkout_busy() {
            self.toast(busy, true);
        } else if self.cart.is_empty() {
            let shop = self.keys.key_name(Tab::Cart, Command::GoTab(Tab::Shop));
            self.toast(
                format!("the cart is empty: add products on the Shop tab ({shop})"),
                true,
            );
        } else {
            let mut summary = format!(
                "Buy {} for {}?",
                items(self.cart_items()),
                money(self.cart_total())
            );
            // Stock moves while the cart waits: say what no longer fits before.
            let short: Vec<String> = self
                .short_lines()
                .iter()
                .map(|(l, left)| format!("{} {} (only {left} left)", l.qty, l.product))
                .collect();
            if !short.is_empty() {
                summary.push_str(&format!(" Not enough left now: {}.", short.join(", ")));
            }
            let lines = self
                .cart
                .iter()
                .map(|l| OrderLine {
                    product: l.product.clone(),
                    qty: l.qty,
                })
                .collect();
            self.mode = Mode::Confirm(Confirm::Checkout { lines, summary });
        }
    }

    /// Why a checkout cannot start now: one is being placed or followed.
    fn checkout_busy(&self) -> Option<String> {
        if let Some(p) = &self.placing {
            return Some(format!(
                "order {} is being placed; one checkout at a time",
                short_id(&p.id)
            ));
        }
        self.checkout.as_ref().map(|(o, _)| {
            format!(
                "order {} is still {}; one checkout at a time (Orders tab, 3)",
                short_id(&o.id),
                o.stage
            )
        })
    }

    /// `y` on the checkout question: place `lines` as one order, under a new id (or under the
    /// id of the same lines whose call failed: the cluster may have that order already).
    pub(super) fn confirmed_checkout(&mut self, lines: Vec<OrderLine>) -> Vec<Effect> {
        if let Some(busy) = self.checkout_busy() {
            self.toast(busy, true);
            return Vec::new();
        }
        self.failing.remove("checkout");
        let id = match self.unplaced.take() {
            Some(p) if p.lines == lines => p.id,
            _ => OrderId::random(),
        };
        self.placing = Some(Placing {
            id,
            lines: lines.clone(),
            since: self.now,
        });
        vec![Effect::Checkout { id, lines }]
    }

    /// An order of this session moved on: the first word of it empties the cart; its end
    /// frees the checkout and says how it went.
    pub(super) fn on_order(&mut self, row: Order) -> Vec<Effect> {
        // Following it works again: a failure to follow it later is news.
        self.failing
            .remove(&format!("following order {}", short_id(&row.id)));
        self.saw_order(&row);
        match self.orders.iter_mut().find(|o| o.id == row.id) {
            Some(existing) => *existing = row.clone(),
            None => self.orders.insert(0, row.clone()),
        }
        let started = match self.placing.take() {
            Some(p) if p.id == row.id => {
                // Accepted: the cart is in the order now.
                self.cart.clear();
                self.cart_list = ListState::default();
                p.since
            }
            other => {
                self.placing = other;
                match &self.checkout {
                    Some((o, since)) if o.id == row.id => *since,
                    _ => return Vec::new(), // not this session's order
                }
            }
        };
        if !row.stage.is_final() {
            self.checkout = Some((row, started));
            return Vec::new();
        }
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
            self.toast(
                format!("Order {} failed: {reason}", short_id(&row.id)),
                true,
            );
        }
        vec![Effect::LoadProducts]
    }

    /// The customer's orders as read from the cluster: new ones are added, known ones take
    /// the stage read (a stage only moves forward; the order being followed live is newer
    /// than any read).
    pub(super) fn on_orders(&mut self, rows: Vec<Order>) {
        self.failing.remove("orders");
        let followed = self.checkout.as_ref().map(|(o, _)| o.id);
        for row in rows {
            match self.orders.iter().position(|o| o.id == row.id) {
                None => {
                    self.saw_order(&row);
                    self.orders.push(row);
                }
                Some(_) if Some(row.id) == followed => {}
                Some(i) if row.stage >= self.orders[i].stage => {
                    self.saw_order(&row);
                    self.orders[i] = row;
                }
                Some(_) => {}
            }
        }
    }

    /// Notes when `row`'s stage was first seen here (an open order's time runs on from it).
    fn saw_order(&mut self, row: &Order) {
        let known = self.orders.iter().find(|o| o.id == row.id);
        if known.is_none_or(|o| o.stage != row.stage) || !self.order_seen.contains_key(&row.id) {
            self.order_seen.insert(row.id, self.now);
        }
    }

    /// The checkout call of `order` failed: the slot is free, the cart kept; placing the same
    /// lines again reuses the id.
    pub(super) fn on_checkout_failed(&mut self, order: OrderId, error: String) {
        if self.placing.as_ref().is_some_and(|p| p.id == order) {
            self.unplaced = self.placing.take();
        }
        self.on_failed(
            "checkout".into(),
            format!(
                "{error}; the cart is kept, {} y tries again (as the same order)",
                self.keys.key_name(Tab::Cart, Command::Checkout)
            ),
            None,
        );
    }

    /// Following `order` gave up: the slot is free; the order may still end, and `r` reads it.
    pub(super) fn on_follow_gave_up(&mut self, order: OrderId, error: String, after: Duration) {
        if self.checkout.as_ref().is_some_and(|(o, _)| o.id == order) {
            self.checkout = None;
        }
        let refresh = self.keys.key_name(Tab::Orders, Command::Refresh);
        let orders = self.keys.key_name(Tab::Cart, Command::GoTab(Tab::Orders));
        self.toast(
            format!(
                "stopped following order {} after {:.0} s without an answer ({error}); it may \
                 still finish: {refresh} on the Orders tab ({orders}) reads its stage",
                short_id(&order),
                after.as_secs_f64()
            ),
            true,
        );
    }

    /// How long `o` has taken: for an open order, running on since its stage was seen here;
    /// for an ended one, creation to its end. And whether it is still open.
    pub fn order_elapsed(&self, o: &Order) -> (Duration, bool) {
        if o.stage.is_final() {
            return (o.elapsed, false);
        }
        let since = self
            .order_seen
            .get(&o.id)
            .map_or(Duration::ZERO, |at| self.now.saturating_duration_since(*at));
        (o.elapsed.saturating_add(since), true)
    }
}
