//! The shop's SQL on SQLite: products and orders (holds and the audit are in
//! `sqlite/books.rs`). Every write is one statement; the stock moves inside the reservation
//! triggers (migration 2), so no interleaving of nodes can sell what is not there.

use ringshop_shared::prefix::{Found, IdPrefix};
use ringshop_shared::{NewOrder, NodeId, Order, OrderId, Product, ProductId, Stage};

use sqlx::sqlite::{SqliteConnection, SqliteRow};

use super::books::{SELL, holds, raised};
use super::conns::locked;
use super::{SqliteStore, committed_row, query_error};
use crate::store::columns::{
    FIND, ORDER_COLUMNS, encode_lines, found_from_rows, order_from_row, product_from_row,
};
use crate::store::{Finish, StoreError, StoredOrder};

const ADVANCE: &str = "moving an order on";

/// The order's compare-and-set: moves it to `to` (and to `owner`, at `now`) if it is still at
/// `version` and open; its new row, or None if it was not.
async fn advance(
    c: &mut SqliteConnection,
    id: OrderId,
    version: u64,
    to: Stage,
    owner: &NodeId,
    reason: Option<&str>,
    now: i64,
) -> Result<Option<SqliteRow>, sqlx::Error> {
    let sql = advance_sql();
    locked!(
        sqlx::query(&sql)
            .bind(id.to_string())
            .bind(version as i64)
            .bind(to.as_str())
            .bind(owner.as_str())
            .bind(reason)
            .bind(now)
            .fetch_all(&mut *c)
    )
    .map(committed_row)
}

/// The order's compare-and-set (`?1` id, `?2` version, `?3` stage, `?4` owner, `?5` reason,
/// `?6` now), returning the new row.
fn advance_sql() -> String {
    format!(
        "UPDATE orders SET stage = ?3, owner = ?4, reason = COALESCE(?5, reason),
             updated_ms = ?6, version = version + 1
         WHERE id = ?1 AND version = ?2 AND stage NOT IN ('done', 'failed')
         RETURNING {ORDER_COLUMNS}"
    )
}

/// Migration 4's refusal of `done` while a line is not sold.
const NOT_SOLD: &str = "an order is done only when every line is sold";
use crate::shop::catalog::Entry;

impl SqliteStore {
    pub(super) async fn seed_impl(&self, entries: &[Entry]) -> Result<(), StoreError> {
        let mut writer = self.writer.get().await;
        for e in entries {
            locked!(
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
                .execute(&mut *writer)
            )
            .map_err(query_error("seeding the catalog"))?;
        }
        Ok(())
    }

    pub(super) async fn products_impl(&self) -> Result<Vec<(Product, u32)>, StoreError> {
        let rows = sqlx::query("SELECT id, name, category, price_cents, stock_left FROM products ORDER BY category, id")
            .fetch_all(&mut *self.reader.get().await)
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
        .fetch_optional(&mut *self.reader.get().await)
        .await
        .map_err(query_error("reading a product"))?;
        row.as_ref().map(product_from_row).transpose()
    }

    pub(super) async fn create_order_impl(
        &self,
        order: &NewOrder,
        total_cents: u64,
        owner: &NodeId,
        trace_parent: Option<&str>,
    ) -> Result<StoredOrder, StoreError> {
        const WHAT: &str = "storing an order";
        let (id, lines, now) = (order.id.to_string(), encode_lines(&order.lines), self.now());
        let mut writer = self.writer.get().await;
        // The new row, or nothing when the id is stored already: then the stored one.
        let created = locked!(
            sqlx::query(&format!(
                "INSERT INTO orders (id, customer, lines, total_cents, stage, owner, created_ms, updated_ms,
                                     trace_parent)
                 VALUES (?1, ?2, ?3, ?4, 'accepted', ?5, ?6, ?6, ?7) ON CONFLICT (id) DO NOTHING
                 RETURNING {ORDER_COLUMNS}"
            ))
            .bind(id.as_str())
            .bind(order.customer.as_str())
            .bind(lines.as_str())
            .bind(total_cents as i64)
            .bind(owner.as_str())
            .bind(now)
            .bind(trace_parent)
            .fetch_all(&mut *writer)
        )
        .map(committed_row)
        .map_err(query_error(WHAT))?;
        let row = match created {
            Some(row) => row,
            None => sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"))
                .bind(id.as_str())
                .fetch_one(&mut *writer)
                .await
                .map_err(query_error(WHAT))?,
        };
        order_from_row(&row)
    }

    pub(super) async fn order_impl(&self, id: OrderId) -> Result<Option<StoredOrder>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"))
            .bind(id.to_string())
            .fetch_optional(&mut *self.reader.get().await)
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
        let now = self.now();
        let row = advance(
            &mut *self.writer.get().await,
            id,
            version,
            to,
            owner,
            reason,
            now,
        )
        .await
        .map_err(query_error(ADVANCE))?;
        row.as_ref().map(order_from_row).transpose()
    }

    /// `Store::finish` in one hold of a write connection: sell, then the compare-and-set to
    /// done, which migration 4's trigger refuses unless every line is sold (then the holds say
    /// which is not).
    pub(super) async fn finish_impl(
        &self,
        cur: &StoredOrder,
        owner: &NodeId,
    ) -> Result<Finish, StoreError> {
        let (id, now) = (cur.order.id.to_string(), self.now());
        let mut writer = self.writer.get().await;
        let c = &mut *writer;
        // Two statements, each its own commit, sent in one round trip to the connection's
        // thread; sent again whole if the lock was busy (the sale is then a no-op).
        let sql = format!("{SELL};\n{}", advance_sql());
        let moved = locked!(
            sqlx::query(&sql)
                .bind(id.as_str())
                .bind(cur.version as i64)
                .bind(Stage::Done.as_str())
                .bind(owner.as_str())
                .bind(None::<&str>)
                .bind(now)
                .fetch_all(&mut *c)
        )
        .map(committed_row);
        match moved {
            Ok(Some(row)) => Ok(Finish::Done(Box::new(order_from_row(&row)?))),
            Ok(None) => Ok(Finish::Moved),
            // Refused by migration 4's trigger (any other refusal, of the sale too, is an error
            // the job retries): a line is not sold, and the holds say which.
            Err(e) if raised(&e) == Some(NOT_SOLD) => {
                Ok(Finish::Unsold(holds(c, cur.order.id).await?))
            }
            Err(e) => Err(query_error(ADVANCE)(e)),
        }
    }

    pub(super) async fn open_orders_impl(&self) -> Result<Vec<StoredOrder>, StoreError> {
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
    pub(super) async fn orders_by_prefix_impl(
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
        .fetch_all(&mut *self.reader.get().await)
        .await
        .map_err(query_error("listing orders"))?;
        rows.iter()
            .map(|r| order_from_row(r).map(|s| s.order))
            .collect()
    }
}
