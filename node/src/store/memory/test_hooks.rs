//! What tests do behind the memory store's back: break the books' rules as an old database or
//! a rogue writer could, so the contract suite can show the store copes. Moving holds by hand
//! still goes through `Tables::move_hold`: here the rules are the store's code, not a trigger,
//! and no writer gets around them.

use ringshop_shared::{OrderId, Stage};

use super::MemoryStore;
use crate::store::{HoldState, StoreError};

impl MemoryStore {
    /// Fails `order` keeping its holds (the stray holds the reaper exists for).
    pub(crate) fn fail_keeping_holds(&self, order: OrderId) {
        if let Some(o) = self.tables().orders.get_mut(&order) {
            o.stage = Stage::Failed;
            o.version += 1;
        }
    }

    /// Removes the order's row, leaving its holds with no order.
    pub(crate) fn forget_order(&self, order: OrderId) {
        self.tables().orders.remove(&order);
    }

    /// Moves every hold in state `from` to `to`; the rule that refused it, if one did.
    pub(crate) fn move_holds(&self, from: HoldState, to: HoldState) -> Result<(), StoreError> {
        let mut t = self.tables();
        let holds: Vec<_> = t
            .holds
            .iter()
            .flat_map(|(order, holds)| holds.iter().map(move |(p, h)| (*order, p.clone(), h.state)))
            .filter(|(_, _, state)| *state == from)
            .collect();
        for (order, product, _) in holds {
            t.move_hold(order, &product, to, "moving holds by hand")?;
        }
        Ok(())
    }
}
