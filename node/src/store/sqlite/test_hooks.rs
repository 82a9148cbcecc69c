//! What tests do behind the SQLite store's back: break the books' rules as an old database or
//! a rogue writer could, so the contract suite can show the store copes.

use ringshop_shared::OrderId;

use super::SqliteStore;
use super::writer::write_error;
use crate::store::StoreError;

impl SqliteStore {
    /// Fails `order` as a database from before schema version 4 could have: its holds stay
    /// held (the stray holds the reaper exists for). The REPLACE fires no update trigger.
    pub(crate) async fn fail_keeping_holds(&self, order: OrderId) {
        let order = order.to_string();
        self.shop
            .write(move |c| {
                c.execute(
                    "INSERT OR REPLACE INTO orders
                     SELECT id, customer, total_cents, 'failed', reason, owner, created_ms,
                            updated_ms, version + 1, trace_parent
                     FROM orders WHERE id = ?1",
                    [order],
                )
                .map_err(write_error("failing an order by hand"))
            })
            .await
            .expect("the order fails, keeping its holds");
    }

    /// Removes the order's row, leaving its holds with no order (as the `reserve` of a made-up
    /// order id could before schema version 4).
    pub(crate) async fn forget_order(&self, order: OrderId) {
        let order = order.to_string();
        self.shop
            .write(move |c| {
                c.execute("DELETE FROM orders WHERE id = ?1", [order])
                    .map_err(write_error("removing an order by hand"))
            })
            .await
            .expect("the order row goes");
    }

    /// Runs `sql` as a writer that ignores this code's rules would; the database's refusal.
    pub(crate) async fn try_sql(&self, sql: &str) -> Result<(), StoreError> {
        let sql = sql.to_string();
        self.shop
            .write(move |c| {
                c.execute_batch(&sql)
                    .map_err(write_error("running a statement by hand"))
            })
            .await
    }
}
