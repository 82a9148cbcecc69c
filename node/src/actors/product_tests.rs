//! A product's quote and its TTL on paused time, over the memory store: a miss loads it, asks
//! within the TTL are hits that age, and the first ask after it reloads from the store.

use ringshop_shared::{NodeId, Placed};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::*;
use crate::actors::Claims;
use crate::store::{Entry, MemoryStore};

const TTL: Duration = Duration::from_secs(5);

/// This node may answer for every id (one node, no ring).
struct Everything;

impl Claims for Everything {
    fn check(&self, _: &dyn Placed) -> Result<(), ShardError> {
        Ok(())
    }
}

async fn products() -> Products {
    let node = NodeId::new("t1").expect("valid");
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mug = Entry {
        product: ringshop_shared::Product {
            id: ProductId::new("mug").expect("valid"),
            name: "Mug".into(),
            category: "tea".into(),
            price_cents: 1200,
        },
        stock: 10,
    };
    store.seed(&[mug]).await.expect("seeds");
    let shelf = Shelf {
        store,
        feed: StockFeed::new(node.clone()),
    };
    let claims = Arc::new(Everything);
    Products::new(
        node,
        TTL,
        shelf,
        claims,
        CancellationToken::new(),
        TaskTracker::new(),
    )
}

/// Asks until answered (an actor that retired under the ask is asked again).
async fn quote(products: &Products) -> Served<Quote> {
    let mug = ProductId::new("mug").expect("valid");
    loop {
        if let Some(answer) = products.quote(&mug).await.expect("quoted") {
            return answer;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_quote_is_a_hit_within_the_ttl_and_reloaded_after_it() {
    let products = products().await;
    let first = quote(&products).await;
    assert!(!first.hit, "the first ask loads it");
    assert_eq!((first.value.stock_left, first.node.as_str()), (10, "t1"));
    tokio::time::sleep(TTL - Duration::from_millis(1)).await;
    let kept = quote(&products).await;
    assert!(kept.hit, "a millisecond before the TTL ends");
    assert_eq!(kept.age, TTL - Duration::from_millis(1));
    assert_eq!(kept.ttl_left, Duration::from_millis(1));
    tokio::time::sleep(Duration::from_millis(1)).await;
    let reloaded = quote(&products).await;
    assert!(!reloaded.hit, "reloaded once the TTL is over");
    assert_eq!(reloaded.age, Duration::ZERO);
    assert_eq!(products.counts(), (1, 2), "one hit, two misses");
}
