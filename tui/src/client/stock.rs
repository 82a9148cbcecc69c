//! Following stock: `Cluster::follow_stock` keeps one `watch_stock` long-poll per owner of the
//! products it follows (not a poll per product), each with where it is in that owner's feed,
//! and yields every change of stock or price the owners publish. It places the products again
//! whenever the ring or a connection changes (an owner died, restarted, or the products
//! moved), and says once when an owner stops answering, so its products can be shown stale.
//! The screen, the `products --watch` verb, the tests and the benchmark use this one
//! implementation.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use ringshop_shared::hash::{Map, Set};
use ringshop_shared::{
    NodeId, ProductId, Quote, Served, ShardClient, ShardError, StockSeen, transport,
};
use tokio::sync::mpsc;

use super::cluster::Cluster;
use super::follow;

/// What following stock yields.
#[derive(Clone, Debug, PartialEq)]
pub enum StockEvent {
    /// Quotes `node` published: the products that changed (all of them, the first time this
    /// follower asks it, or after it restarted).
    Quotes {
        node: NodeId,
        quotes: Vec<Served<Quote>>,
    },
    /// `node` stopped answering for `products` (said once, until it answers again): their
    /// last quotes are stale meanwhile.
    Lost {
        node: NodeId,
        products: Vec<ProductId>,
        error: String,
    },
}

/// How often the follower looks whether the products must be placed again.
const LOOK_EVERY: Duration = Duration::from_millis(100);
/// The pause after a failed watch, or before placing again after an owner refused products.
const AFTER_A_FAILURE: Duration = Duration::from_millis(500);
/// Events not taken yet by the consumer, past which the owners' watches wait.
const QUEUE: usize = 64;

/// How the followed products are placed: the epoch, and each owner with its products and the
/// connection the watch goes over. A change of any of it places them again.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Placing {
    epoch: u64,
    owners: BTreeMap<NodeId, (Vec<ProductId>, Option<u64>)>,
}

/// Where the follower is with each owner, kept across placings: its place in the owner's
/// feed, and whether it has said the owner is lost (said once, until it answers again).
#[derive(Default)]
struct Progress {
    seen: Map<NodeId, StockSeen>,
    lost: Set<NodeId>,
}

/// Why one owner's watch ended.
enum Ended {
    /// It refused products: place them again (leaving out those that do not exist).
    Replace { unknown: Vec<ProductId> },
    /// Nobody takes the events any more.
    Closed,
}

impl Cluster {
    /// Follows the stock and price of `products` until the receiver is dropped: one long-poll
    /// per owner on a task of its own (it holds a clone of this client meanwhile).
    pub fn follow_stock(&self, products: Vec<ProductId>) -> mpsc::Receiver<StockEvent> {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(follow(self.clone(), products, tx));
        rx
    }

    fn placing(&self, products: &[ProductId]) -> Placing {
        let state = self.inner.read();
        let mut owners: BTreeMap<NodeId, (Vec<ProductId>, Option<u64>)> = BTreeMap::new();
        for p in products {
            if let Some(owner) = state.ring.owner(p) {
                let generation = state
                    .members
                    .get(owner)
                    .filter(|m| m.live().is_some())
                    .map(|m| m.generation);
                let entry = owners
                    .entry(owner.clone())
                    .or_insert((Vec::new(), generation));
                entry.0.push(p.clone());
            }
        }
        Placing {
            epoch: state.epoch,
            owners,
        }
    }

    /// The owner's client and connection generation, and this client's epoch.
    fn watch_target(&self, owner: &NodeId) -> Option<(ShardClient, u64, u64)> {
        let state = self.inner.read();
        let m = state.members.get(owner)?;
        Some((m.live()?.clone(), m.generation, state.epoch))
    }
}

async fn follow(cluster: Cluster, mut products: Vec<ProductId>, tx: mpsc::Sender<StockEvent>) {
    let progress = Mutex::new(Progress::default());
    loop {
        let placing = cluster.placing(&products);
        let ended = {
            let mut watches: FuturesUnordered<_> = placing
                .owners
                .iter()
                .map(|(owner, (ids, _))| watch_owner(&cluster, owner, ids, &progress, &tx))
                .collect();
            let mut look = tokio::time::interval(LOOK_EVERY);
            loop {
                tokio::select! {
                    _ = tx.closed() => return,
                    Some(ended) = watches.next() => break Some(ended),
                    _ = look.tick() => if cluster.placing(&products) != placing {
                        break None;
                    },
                }
            }
        };
        match ended {
            Some(Ended::Closed) => return,
            Some(Ended::Replace { unknown }) => {
                products.retain(|p| !unknown.contains(p));
                // The owner's view is newer than this client's (or the product is being
                // handed over): read the membership again, then place them.
                let _ = cluster.refresh().await;
                tokio::time::sleep(AFTER_A_FAILURE).await;
            }
            None => {}
        }
    }
}

fn locked(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(|p| p.into_inner())
}

/// Watches `owner`'s feed for `products` until it refuses some of them or nobody listens. It
/// notes where it is in the feed only once the events it got are taken, so a watch dropped
/// at any await (the products are placed again) loses nothing: the next one asks again.
async fn watch_owner(
    cluster: &Cluster,
    owner: &NodeId,
    products: &[ProductId],
    progress: &Mutex<Progress>,
    tx: &mpsc::Sender<StockEvent>,
) -> Ended {
    let deadline = cluster.inner.config.watch_for;
    loop {
        let at = locked(progress)
            .seen
            .get(owner)
            .copied()
            .unwrap_or_default();
        let failure = match cluster.watch_target(owner) {
            None => "not connected".to_string(),
            Some((client, generation, epoch)) => {
                let ctx = transport::context(deadline);
                match client.watch_stock(ctx, products.to_vec(), at, epoch).await {
                    Ok(Ok(news)) => {
                        if !news.quotes.is_empty() {
                            for q in &news.quotes {
                                cluster.remember(q);
                            }
                            let event = StockEvent::Quotes {
                                node: owner.clone(),
                                quotes: news.quotes,
                            };
                            if tx.send(event).await.is_err() {
                                return Ended::Closed;
                            }
                        }
                        {
                            let mut progress = locked(progress);
                            progress.seen.insert(owner.clone(), news.seen);
                            progress.lost.remove(owner);
                        }
                        if news.refused.is_empty() {
                            continue;
                        }
                        let unknown = news
                            .refused
                            .into_iter()
                            .filter(|(_, e)| matches!(e, ShardError::UnknownProduct { .. }))
                            .map(|(p, _)| p)
                            .collect();
                        return Ended::Replace { unknown };
                    }
                    Ok(Err(error)) => error.to_string(),
                    Err(e) => {
                        if follow::connection_lost(&e) {
                            follow::mark_down(&cluster.inner, owner, generation, &e.to_string());
                        }
                        e.to_string()
                    }
                }
            }
        };
        if locked(progress).lost.insert(owner.clone()) {
            tracing::warn!(node = %owner, error = %failure, "live stock: the owner does not answer; its products are stale until it does");
            let event = StockEvent::Lost {
                node: owner.clone(),
                products: products.to_vec(),
                error: failure,
            };
            if tx.send(event).await.is_err() {
                return Ended::Closed;
            }
        }
        tokio::time::sleep(AFTER_A_FAILURE).await;
    }
}
