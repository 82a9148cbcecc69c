//! The products the shop sells as the store keeps them: what the catalog seeds, and each
//! product with its stock left.

use async_trait::async_trait;
use ringshop_shared::{Product, ProductId};

use super::StoreError;
use crate::shop::catalog::Entry;

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
