//! The shop's SQL on PostgreSQL: products and orders (holds and the audit are in
//! `postgres_books.rs`). Every write is one statement; an order moves on only from the version
//! it was read at (compare-and-set), and the stock moves inside the reservation triggers.

use std::time::Duration;

use ringshop_shared::{NewOrder, NodeId, Order, OrderId, Product, ProductId, Stage};
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::columns::{ORDER_COLUMNS, at, decode_lines, encode_lines};
use super::postgres::{PgStore, query_error};
use super::{StoreError, StoredOrder};
use crate::shop::catalog::Entry;

fn order_from_row(row: &PgRow) -> Result<StoredOrder, StoreError> {
    let bad = |what: &str| StoreError::Query {
        what: "reading an order",
        reason: format!("malformed {what} in the orders table"),
    };
    let get_text = |i: usize| {
        row.try_get::<String, _>(i)
            .map_err(query_error("reading an order"))
    };
    let get_int = |i: usize| {
        row.try_get::<i64, _>(i)
            .map_err(query_error("reading an order"))
    };
    let id: OrderId = get_text(0)?.parse().map_err(|_| bad("id"))?;
    let lines = decode_lines(&get_text(2)?).ok_or_else(|| bad("lines"))?;
    let stage = Stage::parse(&get_text(4)?).ok_or_else(|| bad("stage"))?;
    let reason: Option<String> = row.try_get(5).map_err(query_error("reading an order"))?;
    let node = NodeId::new(get_text(6)?).map_err(|_| bad("owner"))?;
    let (created, updated) = (get_int(7)?, get_int(8)?);
    Ok(StoredOrder {
        order: Order {
            id,
            customer: get_text(1)?,
            lines,
            total_cents: get_int(3)?.max(0) as u64,
            stage,
            reason,
            node,
            created_at: at(created),
            updated_at: at(updated),
            elapsed: Duration::from_millis(updated.saturating_sub(created).max(0) as u64),
        },
        version: get_int(9)?.max(0) as u64,
    })
}

fn product_from_row(row: &PgRow) -> Result<(Product, u32), StoreError> {
    let e = query_error("reading a product");
    let id: String = row.try_get(0).map_err(&e)?;
    let product = Product {
        id: ProductId::new(id).map_err(|err| StoreError::Query {
            what: "reading a product",
            reason: err.to_string(),
        })?,
        name: row.try_get(1).map_err(&e)?,
        category: row.try_get(2).map_err(&e)?,
        price_cents: row.try_get::<i64, _>(3).map_err(&e)?.max(0) as u64,
    };
    let left: i64 = row.try_get(4).map_err(&e)?;
    Ok((product, left.clamp(0, i64::from(u32::MAX)) as u32))
}

impl PgStore {
    pub(super) async fn seed_impl(&self, entries: &[Entry]) -> Result<(), StoreError> {
        for e in entries {
            sqlx::query(
                "INSERT INTO products (id, name, category, price_cents, initial, stock_left)
                 VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                     category = excluded.category, price_cents = excluded.price_cents
                 WHERE (products.name, products.category, products.price_cents)
                       IS DISTINCT FROM (excluded.name, excluded.category, excluded.price_cents)",
            )
            .bind(e.product.id.as_str())
            .bind(&e.product.name)
            .bind(&e.product.category)
            .bind(i64::try_from(e.product.price_cents).unwrap_or(i64::MAX))
            .bind(i64::from(e.stock))
            .execute(&self.shop)
            .await
            .map_err(query_error("seeding the catalog"))?;
        }
        Ok(())
    }

    pub(super) async fn products_impl(&self) -> Result<Vec<(Product, u32)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, category, price_cents, stock_left FROM products
             ORDER BY category, id",
        )
        .fetch_all(&self.shop)
        .await
        .map_err(query_error("listing products"))?;
        rows.iter().map(product_from_row).collect()
    }

    pub(super) async fn product_impl(
        &self,
        id: &ProductId,
    ) -> Result<Option<(Product, u32)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, category, price_cents, stock_left FROM products WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.shop)
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
        // The new row, or the one already stored under this id, in one round trip.
        let row = sqlx::query(&format!(
            "WITH new AS (
                 INSERT INTO orders (id, customer, lines, total_cents, stage, owner, created_ms,
                                     updated_ms)
                 VALUES ($1, $2, $3, $4, 'accepted', $5,
                         COALESCE($6::bigint, ringshop_now_ms()),
                         COALESCE($6::bigint, ringshop_now_ms()))
                 ON CONFLICT (id) DO NOTHING
                 RETURNING {ORDER_COLUMNS})
             SELECT {ORDER_COLUMNS} FROM new
             UNION ALL
             SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM new)"
        ))
        .bind(order.id.to_string())
        .bind(&order.customer)
        .bind(encode_lines(&order.lines))
        .bind(i64::try_from(total_cents).unwrap_or(i64::MAX))
        .bind(owner.as_str())
        .bind(self.now())
        .fetch_optional(&self.shop)
        .await
        .map_err(query_error("storing an order"))?;
        if let Some(row) = row {
            return order_from_row(&row);
        }
        // Stored by a statement that committed after this one's snapshot: read it now.
        self.order_impl(order.id).await?.ok_or(StoreError::Query {
            what: "storing an order",
            reason: "the order was not there after it was stored".into(),
        })
    }

    pub(super) async fn order_impl(&self, id: OrderId) -> Result<Option<StoredOrder>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.shop)
            .await
            .map_err(query_error("reading an order"))?;
        row.as_ref().map(order_from_row).transpose()
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
            "UPDATE orders SET stage = $3, owner = $4, reason = COALESCE($5, reason),
                 updated_ms = COALESCE($6::bigint, ringshop_now_ms()), version = version + 1
             WHERE id = $1 AND version = $2 AND stage NOT IN ('done', 'failed')
             RETURNING {ORDER_COLUMNS}"
        ))
        .bind(id.to_string())
        .bind(i64::try_from(version).unwrap_or(i64::MAX))
        .bind(to.as_str())
        .bind(owner.as_str())
        .bind(reason)
        .bind(self.now())
        .fetch_optional(&self.shop)
        .await
        .map_err(query_error("moving an order on"))?;
        row.as_ref().map(order_from_row).transpose()
    }

    pub(super) async fn open_orders_impl(&self) -> Result<Vec<StoredOrder>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE stage NOT IN ('done', 'failed')
             ORDER BY created_ms"
        ))
        .fetch_all(&self.shop)
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
}
