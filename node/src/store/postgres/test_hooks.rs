//! What tests do behind the PostgreSQL store's back: break the books' rules as an old
//! database or a rogue writer could, so the contract suite can show the store copes.

use ringshop_shared::OrderId;

use super::PgStore;
use crate::store::StoreError;
use crate::store::sql::query_error;

impl PgStore {
    /// Fails `order` as a database from before the books' rules could have: its holds stay
    /// held (the stray holds the reaper exists for). Triggers are off for this one statement.
    pub(crate) async fn fail_keeping_holds(&self, order: OrderId) {
        let mut tx = self.shop.begin().await.expect("a transaction");
        sqlx::query("SET LOCAL session_replication_role = replica")
            .execute(&mut *tx)
            .await
            .expect("triggers off (the test server's user is a superuser)");
        sqlx::query("UPDATE orders SET stage = 'failed', version = version + 1 WHERE id = $1")
            .bind(order.to_string())
            .execute(&mut *tx)
            .await
            .expect("the order fails, keeping its holds");
        tx.commit().await.expect("commits");
    }

    /// Removes the order's row, leaving its holds with no order.
    pub(crate) async fn forget_order(&self, order: OrderId) {
        sqlx::query("DELETE FROM orders WHERE id = $1")
            .bind(order.to_string())
            .execute(&self.shop)
            .await
            .expect("the order row goes");
    }

    /// Runs `sql` as a writer that ignores this code's rules would; the database's refusal.
    pub(crate) async fn try_sql(&self, sql: &str) -> Result<(), StoreError> {
        sqlx::raw_sql(sql)
            .execute(&self.shop)
            .await
            .map(drop)
            .map_err(query_error("running a statement by hand"))
    }
}
