//! The shop's product actors: one per product id on its owner, the serial choke point for that
//! product. An actor keeps the product's quote for the TTL (a hit), loading it from the store
//! on the first ask (a miss); reservations and releases go through it and are written through
//! to the store at once, and the kept stock follows what the store answered. Whatever it learns
//! of its product's stock or price it publishes on the node's stock feed (`crate::stock`), in
//! its turn, so watchers see each change in order. It retires one TTL after it started; its
//! state is in the store, so nothing is handed over when the product moves. The life cycle is
//! the runtime's.

use std::sync::Arc;
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::{OrderId, ProductId, Quote, Served, ShardError};
use tokio::sync::oneshot;

use super::{Actor, Actors, Counters, Cx, Flow, Stamp};
use crate::stock::StockFeed;
use crate::store::{Reservation, Store, StoreError};

/// The shop's product actors on one node.
pub type Products = Actors<Product>;

/// What every product actor on a node shares: the store, and the stock feed it publishes on.
pub struct Shelf {
    pub store: Arc<dyn Store>,
    pub feed: StockFeed,
}

/// Asks of a product actor.
pub enum Ask {
    Quote(oneshot::Sender<Result<Served<Quote>, ShardError>>),
    Reserve {
        order: OrderId,
        qty: u32,
        reply: oneshot::Sender<Result<Reservation, ShardError>>,
    },
    /// Read the product from the store again (it changed there without this actor: holds
    /// given back, a new price) and publish it.
    Reload(oneshot::Sender<Result<(), ShardError>>),
}

/// One product's actor: when it started, and the quote it keeps.
pub struct Product {
    started: Instant,
    kept: Option<(Quote, Stamp)>,
}

impl Default for Product {
    fn default() -> Self {
        Product {
            started: clock::now(),
            kept: None,
        }
    }
}

impl Product {
    /// The product and its stock as the store has them now, published on the feed; kept,
    /// with a fresh stamp. Err(UnknownProduct) if it is not sold here.
    async fn fetch(&mut self, id: &ProductId, cx: &Cx<Self>) -> Result<(), ShardError> {
        let (product, stock_left) = cx
            .env
            .store
            .product(id)
            .await
            .map_err(|e| e.on(&cx.node))?
            .ok_or_else(|| ShardError::UnknownProduct { id: id.clone() })?;
        let quote = Quote {
            product,
            stock_left,
        };
        cx.env.feed.publish(&quote);
        self.kept = Some((quote, Stamp::fresh(cx.ttl)));
        Ok(())
    }

    /// `fetch` for a quote that was not kept: a miss.
    async fn load(&mut self, id: &ProductId, cx: &Cx<Self>) -> Result<(), ShardError> {
        self.fetch(id, cx).await?;
        Counters::bump(&cx.counters.misses);
        Counters::bump(&cx.counters.activations);
        Ok(())
    }

    /// The stock left as a write to the store answered it, kept and published.
    fn set_stock(&mut self, id: &ProductId, left: u32, cx: &Cx<Self>) {
        if let Some((quote, _)) = self.kept.as_mut() {
            quote.stock_left = left;
        }
        cx.env.feed.publish_stock(id, left);
    }
}

impl Actor for Product {
    type Key = ProductId;
    type Msg = Ask;
    type Env = Shelf;
    type Handoff = ();

    async fn handle(&mut self, id: &ProductId, ask: Ask, cx: &Cx<Self>) -> Flow {
        match ask {
            Ask::Quote(reply) => {
                let hit = self
                    .kept
                    .as_ref()
                    .is_some_and(|(_, stamp)| clock::now() < stamp.expires);
                if hit {
                    Counters::bump(&cx.counters.hits);
                } else if let Err(e) = self.load(id, cx).await {
                    let unknown = matches!(e, ShardError::UnknownProduct { .. });
                    let _ = reply.send(Err(e));
                    return if unknown { Flow::Stop } else { Flow::Continue };
                }
                if let Some((quote, stamp)) = self.kept.as_ref() {
                    let _ = reply.send(Ok(cx.served(quote.clone(), stamp, hit)));
                }
            }
            Ask::Reserve { order, qty, reply } => {
                let answer = cx.env.store.reserve(order, id, qty).await;
                if let Some(left) = stock_left(&answer) {
                    self.set_stock(id, left, cx);
                }
                let _ = reply.send(answer.map_err(|e| e.on(&cx.node)));
            }
            Ask::Reload(reply) => {
                let fetched = self.fetch(id, cx).await;
                let unknown = matches!(fetched, Err(ShardError::UnknownProduct { .. }));
                let _ = reply.send(fetched);
                if unknown {
                    return Flow::Stop;
                }
            }
        }
        Flow::Continue
    }

    /// Reservations queued together go to the store in one call (one write connection taken
    /// once, one read of the stock left); the other asks follow one by one.
    const MAX_TURN: usize = 64;

    async fn handle_many(&mut self, id: &ProductId, asks: Vec<Ask>, cx: &Cx<Self>) -> Flow {
        let mut replies = Vec::new();
        let mut holds = Vec::new();
        let mut others = Vec::new();
        for ask in asks {
            match ask {
                Ask::Reserve { order, qty, reply } => {
                    holds.push((order, qty));
                    replies.push(reply);
                }
                other => others.push(other),
            }
        }
        if !holds.is_empty() {
            let answers = cx.env.store.reserve_many(id, &holds).await;
            // Stock only goes down while they are tried: the least left is the latest.
            let least = answers.iter().filter_map(stock_left).min();
            if let Some(left) = least {
                self.set_stock(id, left, cx);
            }
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(answer.map_err(|e| e.on(&cx.node)));
            }
        }
        for ask in others {
            if let Flow::Stop = self.handle(id, ask, cx).await {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    fn refuse(ask: Ask, refused: ShardError) {
        match ask {
            Ask::Quote(reply) => drop(reply.send(Err(refused))),
            Ask::Reserve { reply, .. } => drop(reply.send(Err(refused))),
            Ask::Reload(reply) => drop(reply.send(Err(refused))),
        }
    }

    fn retires_at(&self, ttl: Duration) -> Option<Instant> {
        // One TTL after it started, whatever it keeps (an actor that only reserved keeps no
        // quote, and must not stay forever).
        Some(self.started + ttl)
    }

    fn is_empty(&self) -> bool {
        self.kept.is_none()
    }

    fn hand_over(&self, _: &ProductId) -> Option<()> {
        None
    }
}

impl Actors<Product> {
    /// One ask of the product's actor (see `ask_with`).
    pub async fn quote(&self, id: &ProductId) -> Result<Option<Served<Quote>>, ShardError> {
        self.ask_with(id, Ask::Quote).await
    }

    /// Holds `qty` of the product for `order`: the `Reservation` the `reserve` RPC answers
    /// too, or its typed refusal (out of stock, no open order, a released hold...).
    pub async fn hold(
        &self,
        order: OrderId,
        id: &ProductId,
        qty: u32,
    ) -> Result<Option<Reservation>, ShardError> {
        self.ask_with(id, |reply| Ask::Reserve { order, qty, reply })
            .await
    }

    /// Reads the product from the store again in its actor's turn, publishing what changed.
    pub async fn reload(&self, id: &ProductId) -> Result<Option<()>, ShardError> {
        self.ask_with(id, Ask::Reload).await
    }

    /// The stock feed these actors publish on.
    pub fn feed(&self) -> &StockFeed {
        &self.cx().env.feed
    }

    /// Quote hits and misses on this node.
    pub fn counts(&self) -> (u64, u64) {
        let c = &self.cx().counters;
        (Counters::get(&c.hits), Counters::get(&c.misses))
    }
}

/// The stock left as a hold's answer tells it (a hold taken, had, or refused for want of it).
fn stock_left(answer: &Result<Reservation, StoreError>) -> Option<u32> {
    match answer {
        Ok(held) => Some(held.left()),
        Err(StoreError::OutOfStock { left, .. }) => Some(*left),
        Err(_) => None,
    }
}

#[cfg(test)]
#[path = "product_tests.rs"]
mod tests;
