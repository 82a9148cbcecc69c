//! The catalog's SQL on SQLite: seeding the products and reading them with their stock left.
//! The stock itself moves only inside the reservation triggers (`sqlite/books.rs`).

use async_trait::async_trait;
use ringshop_shared::{Product, ProductId};

use super::writer::write_error;
use super::{SqliteStore, query_error};
use crate::store::rows::product_from_row;
use crate::store::{Catalog, Entry, StoreError};

#[async_trait]
impl Catalog for SqliteStore {
    /// Every entry in one write (one transaction): the catalog is seeded whole or not at all.
    async fn seed(&self, entries: &[Entry]) -> Result<(), StoreError> {
        let entries = entries.to_vec();
        self.shop
            .write(move |c| {
                let mut insert = c
                    .prepare_cached(
                        "INSERT INTO products (id, name, category, price_cents, initial, stock_left)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                         ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                             category = excluded.category, price_cents = excluded.price_cents",
                    )
                    .map_err(write_error("seeding the catalog"))?;
                for e in &entries {
                    insert
                        .execute(rusqlite::params![
                            e.product.id.as_str(),
                            e.product.name,
                            e.product.category,
                            e.product.price_cents as i64,
                            i64::from(e.stock)
                        ])
                        .map_err(write_error("seeding the catalog"))?;
                }
                Ok(())
            })
            .await
    }

    async fn products(&self) -> Result<Vec<(Product, u32)>, StoreError> {
        let rows = sqlx::query("SELECT id, name, category, price_cents, stock_left FROM products ORDER BY category, id")
            .fetch_all(&mut *self.reader.get().await)
            .await
            .map_err(query_error("listing products"))?;
        rows.iter().map(product_from_row).collect()
    }

    async fn product(&self, id: &ProductId) -> Result<Option<(Product, u32)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, category, price_cents, stock_left FROM products WHERE id = ?1",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *self.reader.get().await)
        .await
        .map_err(query_error("reading a product"))?;
        row.as_ref().map(product_from_row).transpose()
    }
}
