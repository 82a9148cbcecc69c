//! What tests do behind the SQLite store's back: break the books' rules as an old database or
//! a rogue writer could, so the contract suite can show the store copes.

use ringshop_shared::OrderId;

use super::SqliteStore;
use crate::store::StoreError;
use crate::store::sql::query_error;

impl SqliteStore {
    /// Fails `order` as a database from before schema version 4 could have: its holds stay
    /// held (the stray holds the reaper exists for). The REPLACE fires no update trigger.
    pub(crate) async fn fail_keeping_holds(&self, order: OrderId) {
        sqlx::query(
            "INSERT OR REPLACE INTO orders
             SELECT id, customer, total_cents, 'failed', reason, owner, created_ms,
                    updated_ms, version + 1, trace_parent
             FROM orders WHERE id = ?1",
        )
        .bind(order.to_string())
        .execute(&mut *self.writer.get().await)
        .await
        .expect("the order fails, keeping its holds");
    }

    /// Removes the order's row, leaving its holds with no order (as the `reserve` of a made-up
    /// order id could before schema version 4).
    pub(crate) async fn forget_order(&self, order: OrderId) {
        sqlx::query("DELETE FROM orders WHERE id = ?1")
            .bind(order.to_string())
            .execute(&mut *self.writer.get().await)
            .await
            .expect("the order row goes");
    }

    /// Runs `sql` as a writer that ignores this code's rules would; the database's refusal.
    pub(crate) async fn try_sql(&self, sql: &str) -> Result<(), StoreError> {
        sqlx::raw_sql(sql)
            .execute(&mut *self.writer.get().await)
            .await
            .map(drop)
            .map_err(query_error("running a statement by hand"))
    }
}
