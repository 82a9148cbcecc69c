//! The products the shop sells as the store keeps them: what the catalog seeds, and each
//! product with its stock left. Reading the catalog file is the shop's (`shop::catalog`); the
//! row it becomes is the store's ([`Entry`]), so the store never imports the shop.

use async_trait::async_trait;
use ringshop_shared::{Product, ProductId};

use super::StoreError;

/// One product and the stock it starts with: a catalog line, as the store seeds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub product: Product,
    pub stock: u32,
}

/// The products' part of the store.
#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Adds the catalog's products (their initial stock only the first time; names, categories
    /// and prices are updated).
    async fn seed(&self, entries: &[Entry]) -> Result<(), StoreError>;

    /// Every product with its stock left, by category then id.
    async fn products(&self) -> Result<Vec<(Product, u32)>, StoreError>;

    /// One product with its stock left.
    async fn product(&self, id: &ProductId) -> Result<Option<(Product, u32)>, StoreError>;
}
