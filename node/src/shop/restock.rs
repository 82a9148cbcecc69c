//! Stock that changes in the store without passing through a product's actor: holds given
//! back by the statement that fails an order, or by the reaper, and a catalog's new price when
//! a node starts. While someone watches this node's stock feed, every `EVERY` it reads the
//! products from the store (one statement) and has the actor of each product it owns whose
//! stock or price differs from the feed's reload it, in its turn, which publishes it. A
//! reservation is never undone by this: the actor reads the store after its own writes.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::actors::product::Products;
use crate::membership::Members;

/// How often the products are read while someone watches.
pub const EVERY: Duration = Duration::from_millis(250);
/// How long after the last watch ended the store is still read (a watcher asks again at once
/// after each answer).
const WATCHED_WITHIN: Duration = Duration::from_secs(2);

/// One pass: reloads the owned products whose stock or price moved in the store; how many.
pub async fn restock_once(products: &Products, members: &Members) -> usize {
    let store = products.cx().env.store.clone();
    let all = match store.products().await {
        Ok(all) => all,
        Err(e) => {
            tracing::debug!(error = %e, "reading the products for the stock feed failed; next round");
            return 0;
        }
    };
    let me = members.me();
    let mut reloaded = 0;
    for (product, left) in all {
        let moved = products
            .feed()
            .known(&product.id)
            .is_some_and(|known| known.stock_left != left || known.product != product);
        let mine = members.with_view(|v| v.ring.owner(&product.id) == Some(me));
        if moved && mine && matches!(products.reload(&product.id).await, Ok(Some(()))) {
            reloaded += 1;
        }
    }
    reloaded
}

/// Restocks every `every` while the feed is watched, until `shutdown`.
pub async fn run(
    products: Products,
    members: Members,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut ticks = crate::ticks::Ticks::new(every, shutdown.clone());
    while ticks.next().await {
        if !products.feed().watched_lately(WATCHED_WITHIN) {
            continue;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = restock_once(&products, &members) => {}
        }
    }
}
