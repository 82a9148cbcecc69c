//! Setup shared by the store's tests: a fresh file with two products.

use ringshop_shared::ProductId;

use super::Store;
use super::sqlite::SqliteStore;
use crate::shop::catalog::parse;

/// A fresh store in `dir` selling 10 mugs and 2 teapots.
pub async fn seeded(dir: &tempfile::TempDir) -> SqliteStore {
    let store = SqliteStore::open(&dir.path().join("s.db"))
        .await
        .expect("opens");
    let entries = parse("t", "mug,Mug,tea,1200,10\nteapot,Teapot,tea,3900,2\n").expect("valid");
    store.seed(&entries).await.expect("seeds");
    store
}

pub fn p(id: &str) -> ProductId {
    ProductId::new(id).expect("valid")
}
