//! The stock feed: every change of stock or price of the products this node's actors keep, as
//! versions a watcher long-polls (`watch_stock`). The product actors publish what they learn
//! (a load, a reservation, a reload), so the feed is never ahead of them and, per product, in
//! the order of their turns; `shop/restock.rs` makes them reload what changed in the store
//! without them. It never reads the store and holds no lock across an await.
//!
//! Versions count changes on this node only; `StockSeen::feed`, drawn at random when the node
//! starts, tells a watcher's versions of this run from those of another run or node.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::hash::Map;
use ringshop_shared::{NodeId, ProductId, Quote, Served, ShardError, StockNews, StockSeen};
use tokio::sync::watch;

use crate::membership::Members;

/// One node's stock feed. Cheap to clone; every clone is the same feed.
#[derive(Clone)]
pub struct StockFeed {
    inner: Arc<Inner>,
}

struct Inner {
    node: NodeId,
    id: u64,
    kept: Mutex<Kept>,
    /// The version after the last change; watchers wait on it.
    version: watch::Sender<u64>,
    /// Watches in flight, and when the last one ended (the restock reads the store only while
    /// someone watches).
    watching: AtomicUsize,
    last_watch: Mutex<Option<Instant>>,
}

#[derive(Default)]
struct Kept {
    version: u64,
    /// Every product published here (a catalog's worth at most: only products the store
    /// knows are published).
    products: Map<ProductId, Entry>,
}

struct Entry {
    quote: Quote,
    version: u64,
    born: Instant,
    at: SystemTime,
}

impl StockFeed {
    pub fn new(node: NodeId) -> StockFeed {
        StockFeed {
            inner: Arc::new(Inner {
                node,
                // Never 0: `StockSeen::default()` is of no feed.
                id: fastrand::u64(1..),
                kept: Mutex::default(),
                version: watch::channel(0).0,
                watching: AtomicUsize::new(0),
                last_watch: Mutex::new(None),
            }),
        }
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.inner.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records `quote` as its product's now: a new version if it differs from what the feed
    /// had (true then).
    pub fn publish(&self, quote: &Quote) -> bool {
        let mut kept = self.kept();
        if kept
            .products
            .get(&quote.product.id)
            .is_some_and(|e| e.quote == *quote)
        {
            return false;
        }
        kept.version += 1;
        let entry = Entry {
            quote: quote.clone(),
            version: kept.version,
            born: clock::now(),
            at: clock::wall(),
        };
        kept.products.insert(quote.product.id.clone(), entry);
        self.inner.version.send_replace(kept.version);
        true
    }

    /// Records the stock left of a product the feed has (a reservation's answer); one it
    /// does not have yet is published whole once its actor loads it.
    pub fn publish_stock(&self, id: &ProductId, left: u32) -> bool {
        let quote = {
            let kept = self.kept();
            match kept.products.get(id) {
                Some(e) if e.quote.stock_left != left => Quote {
                    stock_left: left,
                    ..e.quote.clone()
                },
                _ => return false,
            }
        };
        self.publish(&quote)
    }

    /// The quote the feed has of `id`.
    pub fn known(&self, id: &ProductId) -> Option<Quote> {
        self.kept().products.get(id).map(|e| e.quote.clone())
    }

    /// The version after the last change.
    pub fn version(&self) -> u64 {
        self.kept().version
    }

    /// Whether a watcher at `seen` follows this feed (else it gets every product it asks).
    pub fn follows(&self, seen: StockSeen) -> bool {
        seen.feed == self.inner.id && seen.version <= self.version()
    }

    /// Where a watcher is once it has the feed up to `version`.
    pub fn seen(&self, version: u64) -> StockSeen {
        StockSeen {
            feed: self.inner.id,
            version,
        }
    }

    /// The quotes of `products` that changed after version `after` (or that `all` names), as
    /// of now, and the version they are the feed at.
    pub fn since(
        &self,
        products: &[ProductId],
        after: u64,
        all: &[ProductId],
    ) -> (u64, Vec<Served<Quote>>) {
        let now = clock::now();
        let kept = self.kept();
        let quotes = products
            .iter()
            .filter_map(|id| kept.products.get(id).map(|e| (id, e)))
            .filter(|(id, e)| e.version > after || all.contains(id))
            .map(|(_, e)| Served {
                value: e.quote.clone(),
                node: self.inner.node.clone(),
                // From the owner's memory, not a store read.
                hit: true,
                created_at: e.at,
                expires_at: e.at,
                age: now.saturating_duration_since(e.born),
                ttl_left: Duration::ZERO,
            })
            .collect();
        (kept.version, quotes)
    }

    /// Counts a watch in flight until the guard is dropped.
    pub fn watching(&self) -> Watching {
        self.inner.watching.fetch_add(1, Ordering::Relaxed);
        Watching {
            feed: self.inner.clone(),
        }
    }

    /// Whether someone watches now or watched within `within`.
    pub fn watched_lately(&self, within: Duration) -> bool {
        if self.inner.watching.load(Ordering::Relaxed) > 0 {
            return true;
        }
        let last = *self
            .inner
            .last_watch
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        last.is_some_and(|at| at.elapsed() < within)
    }

    /// The answer to `watch_stock` (the RPC's doc says what it is): products this node does
    /// not answer for are refused at once; those the feed has not got, or all of them for a
    /// watcher new to it, are quoted through `quote` (their actors, which publish them), and
    /// answered at once; otherwise it waits for a change after `seen`, a new epoch, or `until`.
    pub async fn watch<Q, QF>(
        &self,
        members: &Members,
        products: Vec<ProductId>,
        seen: StockSeen,
        until: Instant,
        quote: Q,
    ) -> StockNews
    where
        Q: Fn(ProductId) -> QF,
        QF: Future<Output = Result<Served<Quote>, ShardError>>,
    {
        let _watching = self.watching();
        let (mut owned, mut refused) = split_owned(members, products);
        let after = if self.follows(seen) { seen.version } else { 0 };
        let unknown: Vec<ProductId> = {
            let kept = self.kept();
            owned
                .iter()
                .filter(|p| after == 0 || !kept.products.contains_key(*p))
                .cloned()
                .collect()
        };
        if !unknown.is_empty() {
            let answers = futures::future::join_all(unknown.iter().cloned().map(&quote)).await;
            for (id, answer) in unknown.iter().zip(answers) {
                if let Err(error) = answer {
                    owned.retain(|p| p != id);
                    refused.push((id.clone(), error));
                }
            }
        }
        let mut versions = self.inner.version.subscribe();
        let mut epochs = members.subscribe();
        loop {
            versions.borrow_and_update();
            let (version, quotes) = self.since(&owned, after, &unknown);
            if !quotes.is_empty() || !refused.is_empty() {
                return StockNews {
                    seen: self.seen(version),
                    quotes,
                    refused,
                };
            }
            let nothing = StockNews {
                seen: self.seen(version),
                quotes: Vec::new(),
                refused: Vec::new(),
            };
            tokio::select! {
                changed = versions.changed() => if changed.is_err() { return nothing },
                changed = epochs.changed() => {
                    if changed.is_err() {
                        return nothing;
                    }
                    (owned, refused) = split_owned(members, owned);
                }
                _ = tokio::time::sleep_until(until) => return nothing,
            }
        }
    }
}

/// `products` this node answers for (or will, once it may again), and the others
/// with the refusal a request for them would meet.
fn split_owned(
    members: &Members,
    products: Vec<ProductId>,
) -> (Vec<ProductId>, Vec<(ProductId, ShardError)>) {
    let mut mine = Vec::new();
    let mut refused = Vec::new();
    for p in products {
        match members.check(&p) {
            // Not answerable for a moment (handed over, a lease being renewed): still its.
            Ok(()) | Err(ShardError::Unavailable { .. }) => mine.push(p),
            Err(e) => refused.push((p, e)),
        }
    }
    (mine, refused)
}

/// A watch in flight (`StockFeed::watching`).
pub struct Watching {
    feed: Arc<Inner>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        *self
            .feed
            .last_watch
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(clock::now());
        self.feed.watching.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
#[path = "stock_tests.rs"]
mod tests;
