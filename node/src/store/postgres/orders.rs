//! The orders' SQL on PostgreSQL (holds, the sale and the audit of products are in
//! `postgres/books.rs`). Every write is one statement; an order moves on only from the version
//! it was read at (compare-and-set).

use async_trait::async_trait;
use ringshop_shared::prefix::{Found, IdPrefix};
use ringshop_shared::{NewOrder, NodeId, Order, OrderId, Stage};

use super::{PgStore, query_error};
use crate::store::rows::{
    FIND, MOVED_COLUMNS, ORDER_COLUMNS, found_from_rows, moved_from_row, order_audit_from_row,
    order_from_row,
};
use crate::store::{OrderAudit, Orders, StoreError, StoredOrder};

#[async_trait]
impl Orders for PgStore {
    async fn create_order(
        &self,
        order: &NewOrder,
        total_cents: u64,
        owner: &NodeId,
        trace_parent: Option<&str>,
    ) -> Result<StoredOrder, StoreError> {
        // One statement (one transaction): the order and its lines go in, unless the id is
        // stored already; then the new row (its lines as given), or the one stored.
        let (products, qtys): (Vec<&str>, Vec<i64>) = order
            .lines
            .iter()
            .map(|l| (l.product.as_str(), i64::from(l.qty)))
            .unzip();
        let row = sqlx::query(&format!(
            "WITH new AS (
                 INSERT INTO orders (id, customer, total_cents, stage, owner, created_ms,
                                     updated_ms, trace_parent)
                 VALUES ($1, $2, $3, 'accepted', $4,
                         COALESCE($5::bigint, ringshop_now_ms()),
                         COALESCE($5::bigint, ringshop_now_ms()), $6)
                 ON CONFLICT (id) DO NOTHING
                 RETURNING *),
             given AS (
                 SELECT product, qty, line
                 FROM unnest($7::text[], $8::bigint[]) WITH ORDINALITY AS l (product, qty, line)),
             lines AS (
                 INSERT INTO order_lines (order_id, line, product, qty)
                 SELECT new.id, given.line, given.product, given.qty FROM new, given)
             SELECT id, customer,
                    (SELECT string_agg(product || ':' || qty, ',' ORDER BY line) FROM given),
                    total_cents, stage, reason, owner, created_ms, updated_ms, version,
                    trace_parent
             FROM new
             UNION ALL
             SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM new)"
        ))
        .bind(order.id.to_string())
        .bind(&order.customer)
        .bind(i64::try_from(total_cents).unwrap_or(i64::MAX))
        .bind(owner.as_str())
        .bind(self.now())
        .bind(trace_parent)
        .bind(products)
        .bind(qtys)
        .fetch_optional(&self.shop)
        .await
        .map_err(query_error("storing an order"))?;
        if let Some(row) = row {
            return order_from_row(&row);
        }
        // Stored by a statement that committed after this one's snapshot: read it now.
        self.order(order.id).await?.ok_or(StoreError::Query {
            what: "storing an order",
            reason: "the order was not there after it was stored".into(),
        })
    }

    async fn order(&self, id: OrderId) -> Result<Option<StoredOrder>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.shop)
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
        let row = sqlx::query(&format!(
            "UPDATE orders SET stage = $3, owner = $4, reason = COALESCE($5, reason),
                 updated_ms = COALESCE($6::bigint, ringshop_now_ms()), version = version + 1
             WHERE id = $1 AND version = $2 AND stage NOT IN ('done', 'failed')
             RETURNING {MOVED_COLUMNS}"
        ))
        .bind(cur.order.id.to_string())
        .bind(i64::try_from(cur.version).unwrap_or(i64::MAX))
        .bind(to.as_str())
        .bind(owner.as_str())
        .bind(reason)
        .bind(self.now())
        .fetch_optional(&self.shop)
        .await
        .map_err(query_error("moving an order on"))?;
        row.map(|row| moved_from_row(cur, &row)).transpose()
    }

    async fn open_orders(&self) -> Result<Vec<StoredOrder>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE stage NOT IN ('done', 'failed')
             ORDER BY created_ms"
        ))
        .fetch_all(&self.shop)
        .await
        .map_err(query_error("listing open orders"))?;
        rows.iter().map(order_from_row).collect()
    }

    /// `LIKE 'prefix%'` on the id, which migration 3's `text_pattern_ops` index serves
    /// whatever the database's collation.
    async fn orders_by_prefix(
        &self,
        prefix: &IdPrefix,
        limit: u32,
    ) -> Result<Found<Order>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS}, COUNT(*) OVER () FROM orders WHERE id LIKE $1
             ORDER BY id LIMIT $2"
        ))
        .bind(format!("{}%", prefix.hyphenated()))
        .bind(i64::from(limit))
        .fetch_all(&self.shop)
        .await
        .map_err(query_error(FIND))?;
        found_from_rows(&rows)
    }

    async fn orders(&self, customer: Option<&str>, limit: u32) -> Result<Vec<Order>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE $1::text IS NULL OR customer = $1
             ORDER BY created_ms DESC, id LIMIT $2"
        ))
        .bind(customer)
        .bind(i64::from(limit))
        .fetch_all(&self.shop)
        .await
        .map_err(query_error("listing orders"))?;
        rows.iter()
            .map(|r| order_from_row(r).map(|s| s.order))
            .collect()
    }

    async fn audit_orders(&self) -> Result<OrderAudit, StoreError> {
        const WHAT: &str = "auditing orders";
        let row = sqlx::query(
            "SELECT COUNT(*) FILTER (WHERE stage NOT IN ('done', 'failed')),
                    COUNT(*) FILTER (WHERE stage = 'done'),
                    COUNT(*) FILTER (WHERE stage = 'failed')
             FROM orders",
        )
        .fetch_one(&self.shop)
        .await
        .map_err(query_error(WHAT))?;
        order_audit_from_row(&row)
    }
}
