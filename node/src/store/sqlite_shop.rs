//! The shop's SQL on SQLite: products and orders (holds and the audit are in
//! `sqlite_books.rs`). Every write is one statement; the stock moves inside the reservation
//! triggers (migration 2), so no interleaving of nodes can sell what is not there.

use ringshop_shared::{NewOrder, NodeId, Order, OrderId, Product, ProductId, Stage};

use super::columns::{ORDER_COLUMNS, encode_lines, order_from_row, product_from_row};
use super::sqlite::{SqliteStore, query_error};
use super::{StoreError, StoredOrder};
use crate::shop::catalog::Entry;

impl SqliteStore {
    pub(super) async fn seed_impl(&self, entries: &[Entry]) -> Result<(), StoreError> {
        for e in entries {
            sqlx::query(
                "INSERT INTO products (id, name, category, price_cents, initial, stock_left)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                     category = excluded.category, price_cents = excluded.price_cents",
            )
            .bind(e.product.id.as_str())
            .bind(&e.product.name)
            .bind(&e.product.category)
            .bind(e.product.price_cents as i64)
            .bind(i64::from(e.stock))
            .execute(&self.writer)
            .await
            .map_err(query_error("seeding the catalog"))?;
        }
        Ok(())
    }

    pub(super) async fn products_impl(&self) -> Result<Vec<(Product, u32)>, StoreError> {
        let rows = sqlx::query("SELECT id, name, category, price_cents, stock_left FROM products ORDER BY category, id")
            .fetch_all(&self.reader)
            .await
            .map_err(query_error("listing products"))?;
        rows.iter().map(product_from_row).collect()
    }

    pub(super) async fn product_impl(
        &self,
        id: &ProductId,
    ) -> Result<Option<(Product, u32)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, category, price_cents, stock_left FROM products WHERE id = ?1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await
        .map_err(query_error("reading a product"))?;
        row.as_ref().map(product_from_row).transpose()
    }

    pub(super) async fn create_order_impl(
        &self,
        order: &NewOrder,
        total_cents: u64,
        owner: &NodeId,
    ) -> Result<StoredOrder, StoreError> {
        sqlx::query(
            "INSERT INTO orders (id, customer, lines, total_cents, stage, owner, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, 'accepted', ?5, ?6, ?6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(order.id.to_string())
        .bind(&order.customer)
        .bind(encode_lines(&order.lines))
        .bind(total_cents as i64)
        .bind(owner.as_str())
        .bind(self.now())
        .execute(&self.writer)
        .await
        .map_err(query_error("storing an order"))?;
        self.order_on(order.id, true)
            .await?
            .ok_or(StoreError::Query {
                what: "storing an order",
                reason: "the order was not there after it was stored".into(),
            })
    }

    async fn order_on(&self, id: OrderId, writer: bool) -> Result<Option<StoredOrder>, StoreError> {
        let pool = if writer { &self.writer } else { &self.reader };
        let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"))
            .bind(id.to_string())
            .fetch_optional(pool)
            .await
            .map_err(query_error("reading an order"))?;
        row.as_ref().map(order_from_row).transpose()
    }

    pub(super) async fn order_impl(&self, id: OrderId) -> Result<Option<StoredOrder>, StoreError> {
        self.order_on(id, false).await
    }

    pub(super) async fn advance_impl(
        &self,
        id: OrderId,
        version: u64,
        to: Stage,
        owner: &NodeId,
        reason: Option<&str>,
    ) -> Result<Option<StoredOrder>, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE orders SET stage = ?3, owner = ?4, reason = COALESCE(?5, reason),
                 updated_ms = ?6, version = version + 1
             WHERE id = ?1 AND version = ?2 AND stage NOT IN ('done', 'failed')
             RETURNING {ORDER_COLUMNS}"
        ))
        .bind(id.to_string())
        .bind(version as i64)
        .bind(to.as_str())
        .bind(owner.as_str())
        .bind(reason)
        .bind(self.now())
        .fetch_optional(&self.writer)
        .await
        .map_err(query_error("moving an order on"))?;
        row.as_ref().map(order_from_row).transpose()
    }

    pub(super) async fn open_orders_impl(&self) -> Result<Vec<StoredOrder>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE stage NOT IN ('done', 'failed') ORDER BY created_ms"
        ))
        .fetch_all(&self.reader)
        .await
        .map_err(query_error("listing open orders"))?;
        rows.iter().map(order_from_row).collect()
    }

    pub(super) async fn orders_impl(
        &self,
        customer: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Order>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE ?1 IS NULL OR customer = ?1
             ORDER BY created_ms DESC, id LIMIT ?2"
        ))
        .bind(customer)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(query_error("listing orders"))?;
        rows.iter()
            .map(|r| order_from_row(r).map(|s| s.order))
            .collect()
    }
}
