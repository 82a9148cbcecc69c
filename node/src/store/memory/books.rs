//! The books in memory: holds, sales, stray holds and the audit. A hold is taken only for a
//! line of an open order and only if the stock covers it, and every change of its state goes
//! through `Tables::move_hold`, which keeps SQL's trigger rules (released or sold is final,
//! sold only while the order is paying) and moves the stock with it: `initial == left + sold +
//! held` after every call.

use std::time::Duration;

use async_trait::async_trait;
use ringshop_shared::{OrderId, ProductId, Stage};

use super::{HoldRow, MemoryStore, Tables, before, refused, units};
use crate::store::{Audit, Books, HoldState, Reservation, Rule, StoreError, StrayHold};

impl Tables {
    /// `order`'s holds, by product.
    pub(super) fn holds_of(&self, order: OrderId) -> impl Iterator<Item = (&ProductId, &HoldRow)> {
        self.holds.get(&order).into_iter().flatten()
    }

    /// Whether `order` is stored, open, and has exactly the line `qty` × `product`.
    fn open_line(&self, order: OrderId, product: &ProductId, qty: u32) -> bool {
        self.orders.get(&order).is_some_and(|o| {
            !matches!(o.stage, Stage::Done | Stage::Failed)
                && o.lines
                    .iter()
                    .any(|l| &l.product == product && l.qty == qty)
        })
    }

    /// Whether `order` is over (done or failed) or not stored.
    fn over_or_missing(&self, order: OrderId) -> bool {
        self.orders
            .get(&order)
            .is_none_or(|o| matches!(o.stage, Stage::Done | Stage::Failed))
    }

    /// Moves one hold to `to`, the one way a hold's state changes: false if it is there
    /// already or there is no such hold; the rule it breaks, if it breaks one.
    pub(super) fn move_hold(
        &mut self,
        order: OrderId,
        product: &ProductId,
        to: HoldState,
        what: &'static str,
    ) -> Result<bool, StoreError> {
        let paying = self.orders.get(&order).map(|o| o.stage) == Some(Stage::Paying);
        let Some(hold) = self.holds.get_mut(&order).and_then(|h| h.get_mut(product)) else {
            return Ok(false);
        };
        match (hold.state, to) {
            (from, to) if from == to => return Ok(false),
            (HoldState::Released | HoldState::Sold, _) | (_, HoldState::Held) => {
                return Err(refused(what, Rule::HoldIsFinal));
            }
            (HoldState::Held, HoldState::Sold) if !paying => {
                return Err(refused(what, Rule::SoldOnlyWhilePaying));
            }
            _ => {}
        }
        hold.state = to;
        let qty = u64::from(hold.qty);
        if let Some(stock) = self.products.get_mut(product) {
            match to {
                HoldState::Released => stock.left += qty,
                HoldState::Sold => stock.sold += qty,
                HoldState::Held => {}
            }
        }
        Ok(true)
    }

    fn reserve(
        &mut self,
        order: OrderId,
        product: &ProductId,
        qty: u32,
        now: i64,
    ) -> Result<Reservation, StoreError> {
        if !self.open_line(order, product, qty) {
            return Err(StoreError::NoOpenOrder {
                order,
                product: product.clone(),
                qty,
            });
        }
        let Some(stock) = self.products.get_mut(product) else {
            return Err(StoreError::UnknownProduct {
                product: product.clone(),
            });
        };
        let left = units(stock.left);
        if let Some(hold) = self.holds.get(&order).and_then(|h| h.get(product)) {
            return match hold.state {
                HoldState::Held => Ok(Reservation::AlreadyHeld { left }),
                HoldState::Released => Err(StoreError::HoldReleased {
                    order,
                    product: product.clone(),
                }),
                HoldState::Sold => Ok(Reservation::Sold { left }),
            };
        }
        if stock.left < u64::from(qty) {
            return Err(StoreError::OutOfStock {
                product: product.clone(),
                wanted: qty,
                left,
            });
        }
        stock.left -= u64::from(qty);
        let hold = HoldRow {
            qty,
            state: HoldState::Held,
            held_ms: now,
        };
        self.holds
            .entry(order)
            .or_default()
            .insert(product.clone(), hold);
        Ok(Reservation::Held {
            left: units(stock.left),
        })
    }
}

#[async_trait]
impl Books for MemoryStore {
    async fn reserve(
        &self,
        order: OrderId,
        product: &ProductId,
        qty: u32,
    ) -> Result<Reservation, StoreError> {
        let now = self.now();
        self.tables().reserve(order, product, qty, now)
    }

    async fn release(&self, order: OrderId, product: &ProductId) -> Result<bool, StoreError> {
        let mut t = self.tables();
        let held = t
            .holds_of(order)
            .any(|(p, h)| p == product && h.state == HoldState::Held);
        if !held {
            return Ok(false);
        }
        t.move_hold(order, product, HoldState::Released, "releasing stock")
    }

    async fn sell(&self, order: OrderId) -> Result<u64, StoreError> {
        const WHAT: &str = "recording a sale";
        let mut t = self.tables();
        let Some(lines) = t
            .orders
            .get(&order)
            .filter(|o| o.stage == Stage::Paying)
            .map(|o| o.lines.len())
        else {
            return Ok(0);
        };
        let held: Vec<ProductId> = t
            .holds_of(order)
            .filter(|(_, h)| h.state == HoldState::Held)
            .map(|(p, _)| p.clone())
            .collect();
        let covered = t
            .holds_of(order)
            .filter(|(_, h)| h.state != HoldState::Released);
        if covered.count() != lines {
            return Ok(0);
        }
        for product in &held {
            t.move_hold(order, product, HoldState::Sold, WHAT)?;
        }
        Ok(held.len() as u64)
    }

    async fn holds(&self, order: OrderId) -> Result<Vec<(ProductId, HoldState)>, StoreError> {
        let t = self.tables();
        Ok(t.holds_of(order)
            .map(|(p, h)| (p.clone(), h.state))
            .collect())
    }

    async fn stray_holds(
        &self,
        older_than: Duration,
        limit: u32,
    ) -> Result<Vec<StrayHold>, StoreError> {
        let held_before = before(self.now(), older_than);
        let t = self.tables();
        let mut strays: Vec<StrayHold> = t
            .holds
            .iter()
            .filter(|(order, _)| t.over_or_missing(**order))
            .flat_map(|(order, holds)| holds.iter().map(move |(p, h)| (*order, p, h)))
            .filter(|(_, _, h)| h.state == HoldState::Held && h.held_ms < held_before)
            .map(|(order, product, h)| StrayHold {
                order,
                product: product.clone(),
                qty: h.qty,
                stage: t.orders.get(&order).map(|o| o.stage),
                held_ms: h.held_ms,
            })
            .collect();
        strays.sort_by_key(|s| s.held_ms);
        strays.truncate(limit as usize);
        Ok(strays)
    }

    async fn release_stray(
        &self,
        order: OrderId,
        product: &ProductId,
        older_than: Duration,
    ) -> Result<bool, StoreError> {
        let held_before = before(self.now(), older_than);
        let mut t = self.tables();
        let stray = t.over_or_missing(order)
            && t.holds_of(order).any(|(p, h)| {
                p == product && h.state == HoldState::Held && h.held_ms < held_before
            });
        if !stray {
            return Ok(false);
        }
        t.move_hold(
            order,
            product,
            HoldState::Released,
            "giving back a stray hold",
        )
    }

    async fn audit(&self) -> Result<Vec<Audit>, StoreError> {
        let t = self.tables();
        let audit = t.products.iter().map(|(id, stock)| {
            let held = t.holds.values().filter_map(|holds| holds.get(id));
            let held = held.filter(|h| h.state == HoldState::Held);
            let done = t.orders.values().filter(|o| o.stage == Stage::Done);
            let done_lines = done.flat_map(|o| o.lines.iter().filter(|l| &l.product == id));
            Audit {
                product: id.clone(),
                initial: stock.initial,
                left: stock.left,
                sold: stock.sold,
                held: held.map(|h| u64::from(h.qty)).sum(),
                done_units: done_lines.map(|l| u64::from(l.qty)).sum(),
            }
        });
        Ok(audit.collect())
    }
}
