//! The orders' SQL on SQLite (holds, the sale and the audit of products are in
//! `sqlite/books.rs`). Every write goes to the writer thread (`sqlite/writer.rs`) and is
//! answered once its group committed; an order moves on only from the version it was read at
//! (compare-and-set).

use super::writer::{execute, rows_of, write_error};
use super::{SqliteStore, query_error};
use crate::store::rows::{
    FIND, MOVED_COLUMNS, ORDER_COLUMNS, found_from_rows, moved_from_row, order_audit_from_row,
    order_from_row,
};
use crate::store::{OrderAudit, Orders, StoreError, StoredOrder};
use async_trait::async_trait;
use ringshop_shared::prefix::{Found, IdPrefix};
use ringshop_shared::{NewOrder, NodeId, Order, OrderId, Stage};

const ADVANCE: &str = "moving an order on";

/// The order's compare-and-set (`?1` id, `?2` version, `?3` stage, `?4` owner, `?5` reason,
/// `?6` now): `MOVED_COLUMNS` of its new row, or no row if it was not at that version and open.
/// A move to done is also the sale (migration 8's trigger).
fn advance_sql() -> String {
    format!(
        "UPDATE orders SET stage = ?3, owner = ?4, reason = COALESCE(?5, reason),
             updated_ms = ?6, version = version + 1
         WHERE id = ?1 AND version = ?2 AND stage NOT IN ('done', 'failed')
         RETURNING {MOVED_COLUMNS}"
    )
}

#[async_trait]
impl Orders for SqliteStore {
    async fn create_order(
        &self,
        order: &NewOrder,
        total_cents: u64,
        owner: &NodeId,
        trace_parent: Option<&str>,
    ) -> Result<StoredOrder, StoreError> {
        const WHAT: &str = "storing an order";
        let (id, now) = (order.id.to_string(), self.now());
        let lines: Vec<(&str, u32)> = order
            .lines
            .iter()
            .map(|l| (l.product.as_str(), l.qty))
            .collect();
        let lines = serde_json::to_string(&lines).map_err(|e| StoreError::Query {
            what: WHAT,
            reason: e.to_string(),
        })?;
        let customer = order.customer.clone();
        let (owner, trace_parent) = (owner.to_string(), trace_parent.map(str::to_string));
        let total = total_cents as i64;
        // The insert (the order and its lines, in one statement, through migration 6's view;
        // nothing if the id is stored already), then the order stored under the id.
        let row = self
            .shop
            .write(move |c| {
                let err = write_error(WHAT);
                execute(
                    c,
                    "INSERT INTO new_orders (id, customer, lines, total_cents, owner, created_ms,
                                             trace_parent)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    rusqlite::params![id, customer, lines, total, owner, now, trace_parent],
                )
                .map_err(&err)?;
                let rows = rows_of(
                    c,
                    &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"),
                    [&id],
                )
                .map_err(&err)?;
                Ok(rows.into_iter().next())
            })
            .await?;
        let row = row.ok_or(StoreError::Query {
            what: WHAT,
            reason: "the order was not there after it was stored".into(),
        })?;
        order_from_row(&row)
    }

    async fn order(&self, id: OrderId) -> Result<Option<StoredOrder>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"))
            .bind(id.to_string())
            .fetch_optional(&mut *self.reader.get().await)
            .await
            .map_err(query_error("reading an order"))?;
        row.as_ref().map(order_from_row).transpose()
    }

    async fn advance(
        &self,
        cur: &StoredOrder,
        to: Stage,
        owner: &NodeId,
        reason: Option<&str>,
    ) -> Result<Option<StoredOrder>, StoreError> {
        let now = self.now();
        let (id, version) = (cur.order.id.to_string(), cur.version as i64);
        let (owner, reason) = (owner.to_string(), reason.map(str::to_string));
        let row = self
            .shop
            .write(move |c| {
                let rows = rows_of(
                    c,
                    &advance_sql(),
                    rusqlite::params![id, version, to.as_str(), owner, reason, now],
                )
                .map_err(write_error(ADVANCE))?;
                Ok(rows.into_iter().next())
            })
            .await?;
        row.map(|row| moved_from_row(cur, &row)).transpose()
    }

    async fn open_orders(&self) -> Result<Vec<StoredOrder>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE stage NOT IN ('done', 'failed') ORDER BY created_ms"
        ))
        .fetch_all(&mut *self.reader.get().await)
        .await
        .map_err(query_error("listing open orders"))?;
        rows.iter().map(order_from_row).collect()
    }

    /// A range on the primary key's index: ids are stored hyphenated and lowercase, and `~`
    /// sorts after every character of one.
    async fn orders_by_prefix(
        &self,
        prefix: &IdPrefix,
        limit: u32,
    ) -> Result<Found<Order>, StoreError> {
        let from = prefix.hyphenated();
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS}, COUNT(*) OVER () FROM orders WHERE id >= ?1 AND id < ?2
             ORDER BY id LIMIT ?3"
        ))
        .bind(from.as_str())
        .bind(format!("{from}~"))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.reader.get().await)
        .await
        .map_err(query_error(FIND))?;
        found_from_rows(&rows)
    }

    async fn orders(&self, customer: Option<&str>, limit: u32) -> Result<Vec<Order>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE ?1 IS NULL OR customer = ?1
             ORDER BY created_ms DESC, id LIMIT ?2"
        ))
        .bind(customer)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.reader.get().await)
        .await
        .map_err(query_error("listing orders"))?;
        rows.iter()
            .map(|r| order_from_row(r).map(|s| s.order))
            .collect()
    }

    async fn audit_orders(&self) -> Result<OrderAudit, StoreError> {
        const WHAT: &str = "auditing orders";
        let row = sqlx::query(
            "SELECT COALESCE(SUM(stage NOT IN ('done', 'failed')), 0),
                    COALESCE(SUM(stage = 'done'), 0), COALESCE(SUM(stage = 'failed'), 0)
             FROM orders",
        )
        .fetch_one(&mut *self.reader.get().await)
        .await
        .map_err(query_error(WHAT))?;
        order_audit_from_row(&row)
    }
}
