//! Product actors: one per product id on its owner, the serial choke point for that product.
//! An actor keeps the product's quote for the TTL (a hit), loading it from the store on the
//! first ask (a miss); reservations and releases go through it and are written through to
//! the store at once, and the kept stock follows what the store answered. Every turn first
//! checks that this node may answer for the product now. After its TTL the actor retires (or
//! it is stopped when the product moves to another node); asks left in its mailbox are
//! dropped and their askers ask again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use ringshop_shared::{NodeId, OrderId, ProductId, Quote, Served, ShardError};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actors::Claims;
use crate::mailboxes::{Mailboxes, NewMailbox};
use crate::store::{Reservation, Store, now_ms};

pub(crate) enum Ask {
    Quote(oneshot::Sender<Result<Served<Quote>, ShardError>>),
    Reserve {
        order: OrderId,
        qty: u32,
        reply: oneshot::Sender<Result<Reservation, ShardError>>,
    },
    Release {
        order: OrderId,
        reply: oneshot::Sender<Result<(), ShardError>>,
    },
    /// Stop: the product is not this node's to answer for any more.
    Stop,
}

struct Shared {
    node: NodeId,
    ttl: Duration,
    store: Arc<dyn Store>,
    claims: Arc<dyn Claims>,
    mailboxes: Mailboxes<ProductId, Ask>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Cheap to clone; every clone is the same set of actors.
#[derive(Clone)]
pub struct Products {
    shared: Arc<Shared>,
}

impl Products {
    pub fn new(
        node: NodeId,
        ttl: Duration,
        store: Arc<dyn Store>,
        claims: Arc<dyn Claims>,
        tracker: TaskTracker,
        shutdown: CancellationToken,
    ) -> Products {
        Products {
            shared: Arc::new(Shared {
                node,
                ttl,
                store,
                claims,
                mailboxes: Mailboxes::default(),
                tracker,
                shutdown,
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
            }),
        }
    }

    /// One ask of the product's actor; Ok(None) when the actor went away before answering
    /// (ask again), Err when this node may not answer for it now or the ask failed.
    pub async fn quote(&self, id: &ProductId) -> Result<Option<Served<Quote>>, ShardError> {
        self.ask(id, Ask::Quote).await
    }

    /// Holds `qty` of the product for `order`; what became of it (Err only when the store or
    /// the actor could not answer).
    pub async fn hold(
        &self,
        order: OrderId,
        id: &ProductId,
        qty: u32,
    ) -> Result<Option<Reservation>, ShardError> {
        self.ask(id, |reply| Ask::Reserve { order, qty, reply })
            .await
    }

    /// `hold` as the `reserve` RPC answers it: the stock left once this order holds (or has
    /// bought) the line, else a typed refusal.
    pub async fn reserve(
        &self,
        order: OrderId,
        id: &ProductId,
        qty: u32,
    ) -> Result<Option<u32>, ShardError> {
        match self.hold(order, id, qty).await? {
            Some(held) => wire_answer(order, id, qty, held).map(Some),
            None => Ok(None),
        }
    }

    pub async fn release(&self, order: OrderId, id: &ProductId) -> Result<Option<()>, ShardError> {
        self.ask(id, |reply| Ask::Release { order, reply }).await
    }

    /// Stops the actors of the products `keep` refuses (after its turn in hand, each actor
    /// stops; asks queued behind are dropped and asked again elsewhere).
    pub fn let_go(&self, keep: impl Fn(&ProductId) -> bool) {
        for id in self.shared.mailboxes.keys() {
            if !keep(&id) {
                self.shared.mailboxes.take(&id, Ask::Stop);
            }
        }
    }

    /// Quote hits and misses on this node.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.shared.hits.load(Ordering::Relaxed),
            self.shared.misses.load(Ordering::Relaxed),
        )
    }

    /// Product actors alive now.
    pub fn live(&self) -> usize {
        self.shared.mailboxes.len()
    }

    async fn ask<T>(
        &self,
        id: &ProductId,
        make: impl FnOnce(oneshot::Sender<Result<T, ShardError>>) -> Ask,
    ) -> Result<Option<T>, ShardError> {
        if self.shared.shutdown.is_cancelled() {
            return Err(ShardError::ShuttingDown {
                node: self.shared.node.clone(),
            });
        }
        self.shared.claims.check(id)?;
        let (reply, answer) = oneshot::channel();
        if let Some(new) = self.shared.mailboxes.post(id, make(reply)) {
            self.spawn(id.clone(), new);
        }
        answer.await.ok().transpose()
    }

    fn spawn(&self, id: ProductId, new: NewMailbox<Ask>) {
        self.shared
            .tracker
            .spawn(run(id, new.generation, new.inbox, self.shared.clone()));
    }
}

/// The quote an actor keeps.
struct Kept {
    quote: Quote,
    born: Instant,
    created_at: SystemTime,
    expires: Instant,
}

impl Kept {
    fn served(&self, shared: &Shared, hit: bool) -> Served<Quote> {
        let now = Instant::now();
        let age = now.saturating_duration_since(self.born);
        Served {
            value: self.quote.clone(),
            node: shared.node.clone(),
            hit,
            created_at: self.created_at,
            expires_at: self.created_at + shared.ttl,
            age,
            ttl_left: self.expires.saturating_duration_since(now),
        }
    }
}

async fn run(
    id: ProductId,
    generation: u64,
    mut inbox: mpsc::UnboundedReceiver<Ask>,
    shared: Arc<Shared>,
) {
    let mut kept: Option<Kept> = None;
    let born = Instant::now();
    let retire_at = born + shared.ttl;
    loop {
        tokio::select! {
            biased;
            _ = shared.shutdown.cancelled() => break,
            ask = inbox.recv() => match ask {
                Some(ask) => {
                    if handle(&id, &shared, &mut kept, ask).await.is_break() {
                        break;
                    }
                }
                None => break,
            },
            _ = tokio::time::sleep_until(retire_at) => break,
        }
    }
    shared.mailboxes.leave(&id, generation);
    inbox.close();
    while inbox.try_recv().is_ok() {}
}

/// Loads the product from the store into `kept`; Err(UnknownProduct) if it is not sold here.
async fn load(id: &ProductId, shared: &Shared, kept: &mut Option<Kept>) -> Result<(), ShardError> {
    let now = Instant::now();
    let (product, stock_left) = shared
        .store
        .product(id)
        .await
        .map_err(|e| e.on(&shared.node))?
        .ok_or_else(|| ShardError::UnknownProduct { id: id.clone() })?;
    shared.misses.fetch_add(1, Ordering::Relaxed);
    *kept = Some(Kept {
        quote: Quote {
            product,
            stock_left,
        },
        born: now,
        created_at: SystemTime::now(),
        expires: now + shared.ttl,
    });
    Ok(())
}

/// Serves one ask; Break when the actor should stop (its product does not exist).
async fn handle(
    id: &ProductId,
    shared: &Shared,
    kept: &mut Option<Kept>,
    ask: Ask,
) -> std::ops::ControlFlow<()> {
    use std::ops::ControlFlow::{Break, Continue};
    // The ownership check inside the turn: a view change between the caller's check and
    // this turn cannot make two nodes answer for the product.
    if let Err(refused) = shared.claims.check(id) {
        match ask {
            Ask::Quote(reply) => drop(reply.send(Err(refused))),
            Ask::Reserve { reply, .. } => drop(reply.send(Err(refused))),
            Ask::Release { reply, .. } => drop(reply.send(Err(refused))),
            Ask::Stop => {}
        }
        return Break(());
    }
    match ask {
        Ask::Stop => Break(()),
        Ask::Quote(reply) => {
            let hit = kept.as_ref().is_some_and(|k| Instant::now() < k.expires);
            if hit {
                shared.hits.fetch_add(1, Ordering::Relaxed);
            } else if let Err(e) = load(id, shared, kept).await {
                let unknown = matches!(e, ShardError::UnknownProduct { .. });
                let _ = reply.send(Err(e));
                return if unknown { Break(()) } else { Continue(()) };
            }
            if let Some(k) = kept.as_ref() {
                let _ = reply.send(Ok(k.served(shared, hit)));
            }
            Continue(())
        }
        Ask::Reserve { order, qty, reply } => {
            let answer = shared.store.reserve(order, id, qty, now_ms()).await;
            if let Ok(
                Reservation::Held { left }
                | Reservation::AlreadyHeld { left }
                | Reservation::Sold { left }
                | Reservation::OutOfStock { left },
            ) = answer
            {
                set_stock(kept, left);
            }
            let _ = reply.send(answer.map_err(|e| e.on(&shared.node)));
            Continue(())
        }
        Ask::Release { order, reply } => {
            let answer = match shared.store.release(order, id).await {
                Ok(_) => {
                    // The kept stock is now behind the store: read it again on the next quote.
                    if let Some(k) = kept.as_mut() {
                        k.expires = Instant::now();
                    }
                    Ok(())
                }
                Err(e) => Err(e.on(&shared.node)),
            };
            let _ = reply.send(answer);
            Continue(())
        }
    }
}

/// The wire has no variants for a released hold or a closed order (they belong in `shared`'s
/// `ShardError`); until it has, they travel as `Invalid`, naming the order and the fix.
fn wire_answer(
    order: OrderId,
    product: &ProductId,
    qty: u32,
    held: Reservation,
) -> Result<u32, ShardError> {
    match held {
        Reservation::Held { left } | Reservation::AlreadyHeld { left } => Ok(left),
        Reservation::Sold { left } => Ok(left),
        Reservation::OutOfStock { left } => Err(ShardError::OutOfStock {
            product: product.clone(),
            wanted: qty,
            left,
        }),
        Reservation::UnknownProduct => Err(ShardError::UnknownProduct {
            id: product.clone(),
        }),
        Reservation::Released => Err(ShardError::Invalid {
            what: format!(
                "order {order}: its hold on {product} was released (the order failed or its \
                 hold was given back) and is never held again; place a new order"
            ),
        }),
        Reservation::NoOpenOrder => Err(ShardError::Invalid {
            what: format!(
                "order {order} has no open line {product}:{qty}: stock is held only for a \
                 stored order that is not done or failed, for one of its own lines; check the \
                 order id with `ringshop order {order}`"
            ),
        }),
    }
}

fn set_stock(kept: &mut Option<Kept>, left: u32) {
    if let Some(k) = kept.as_mut() {
        k.quote.stock_left = left;
    }
}
