//! The catalog in memory: seeding keeps a product's stock accounts (only its name, category
//! and price change), and a price must be positive, as the SQL tables' checks say.

use async_trait::async_trait;
use ringshop_shared::{Product, ProductId};

use super::{MemoryStore, ProductRow, units};
use crate::store::{Catalog, Entry, StoreError};

#[async_trait]
impl Catalog for MemoryStore {
    async fn seed(&self, entries: &[Entry]) -> Result<(), StoreError> {
        if entries.iter().any(|e| e.product.price_cents == 0) {
            // SQL's CHECK constraint on the column (not a rule of the books).
            return Err(StoreError::Query {
                what: "seeding the catalog",
                reason: "a price must be above 0".into(),
            });
        }
        let mut t = self.tables();
        for e in entries {
            let stock = u64::from(e.stock);
            t.products
                .entry(e.product.id.clone())
                .and_modify(|row| row.product = e.product.clone())
                .or_insert_with(|| ProductRow {
                    product: e.product.clone(),
                    initial: stock,
                    left: stock,
                    sold: 0,
                });
        }
        Ok(())
    }

    async fn products(&self) -> Result<Vec<(Product, u32)>, StoreError> {
        let t = self.tables();
        let mut all: Vec<(Product, u32)> = t
            .products
            .values()
            .map(|row| (row.product.clone(), units(row.left)))
            .collect();
        all.sort_by(|(a, _), (b, _)| (&a.category, &a.id).cmp(&(&b.category, &b.id)));
        Ok(all)
    }

    async fn product(&self, id: &ProductId) -> Result<Option<(Product, u32)>, StoreError> {
        let t = self.tables();
        Ok(t.products
            .get(id)
            .map(|row| (row.product.clone(), units(row.left))))
    }
}
