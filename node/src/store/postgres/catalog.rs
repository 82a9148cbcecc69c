//! The catalog's SQL on PostgreSQL: seeding the products and reading them with their stock
//! left. The stock itself moves only inside the reservation triggers (`postgres/books.rs`).

use async_trait::async_trait;
use ringshop_shared::{Product, ProductId};

use super::{PgStore, query_error};
use crate::store::rows::product_from_row;
use crate::store::{Catalog, Entry, StoreError};

#[async_trait]
impl Catalog for PgStore {
    async fn seed(&self, entries: &[Entry]) -> Result<(), StoreError> {
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

    async fn products(&self) -> Result<Vec<(Product, u32)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, category, price_cents, stock_left FROM products
             ORDER BY category, id",
        )
        .fetch_all(&self.shop)
        .await
        .map_err(query_error("listing products"))?;
        rows.iter().map(product_from_row).collect()
    }

    async fn product(&self, id: &ProductId) -> Result<Option<(Product, u32)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, category, price_cents, stock_left FROM products WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.shop)
        .await
        .map_err(query_error("reading a product"))?;
        row.as_ref().map(product_from_row).transpose()
    }
}
