//! `impl Shard`: thin. Each call is checked and handed to the registry (the id's actor); this
//! file holds no state of its own beyond who the node is.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringshop_shared::ring::MAX_VNODES;
use ringshop_shared::service::{MAX_ADOPT, MAX_PLACEMENT_IDS};
use ringshop_shared::service::{MAX_ORDERS, MAX_QUOTES};
use ringshop_shared::{
    Cached, Handed, Membership, NewOrder, NodeId, NodeInfo, NodeStats, Order, OrderId, Placed,
    Product, ProductId, Quote, Ring, Served, Shard, ShardError, Stage, transport,
};
use tarpc::context::Context;

use crate::actors::Registry;
use crate::membership::{Members, View};
use crate::shop::checkout::Checkout;
use crate::shop::products::Products;
use crate::store::{StoreError, now_ms};

/// Most members a `placement` question may name.
pub const MAX_PLACEMENT_MEMBERS: usize = 64;
/// How long a suspect gets to answer this node's probe.
const SUSPECT_PROBE: Duration = Duration::from_millis(500);
/// How many times one request re-checks ownership when its actor goes away under it.
const MAX_ATTEMPTS: usize = 32;
/// A long-poll returns this long before the caller's deadline, so the answer arrives in time.
const WATCH_MARGIN: Duration = Duration::from_millis(200);

#[derive(Clone)]
pub struct ShardServer {
    me: Arc<Me>,
    registry: Registry,
    members: Members,
    products: Products,
    checkout: Checkout,
}

struct Me {
    name: NodeId,
    addr: SocketAddr,
    ttl: Duration,
    redirected: AtomicU64,
    stale_served: AtomicU64,
}

impl ShardServer {
    pub fn new(
        addr: SocketAddr,
        ttl: Duration,
        registry: Registry,
        members: Members,
        products: Products,
        checkout: Checkout,
    ) -> ShardServer {
        ShardServer {
            me: Arc::new(Me {
                name: members.me().clone(),
                addr,
                ttl,
                redirected: AtomicU64::new(0),
                stale_served: AtomicU64::new(0),
            }),
            registry,
            members,
            products,
            checkout,
        }
    }

    fn store_error(&self, e: StoreError) -> ShardError {
        ShardError::Store {
            node: self.me.name.clone(),
            reason: e.to_string(),
        }
    }

    /// This node's view, refreshed first if the caller has seen a newer epoch.
    async fn view_for(&self, epoch: u64) -> Result<Arc<View>, ShardError> {
        let view = self.members.view();
        if epoch <= view.epoch() {
            return Ok(view);
        }
        self.members
            .refresh()
            .await
            .map_err(|e| self.store_error(e))
    }

    /// Refreshes if the caller has a newer epoch, then checks this node owns `id`.
    async fn own<K: Placed + ?Sized>(&self, id: &K, epoch: u64) -> Result<(), ShardError> {
        let view = self.view_for(epoch).await?;
        self.check_owner(&view, id)
    }

    /// Ok if this node owns `id` under `view`, else where it went.
    fn check_owner<K: Placed + ?Sized>(&self, view: &View, id: &K) -> Result<(), ShardError> {
        match view.ring.owner(id) {
            Some(owner) if *owner == self.me.name => Ok(()),
            Some(owner) => {
                self.me.redirected.fetch_add(1, Ordering::Relaxed);
                Err(ShardError::Moved {
                    owner: owner.clone(),
                    addr: view.addr_of(owner).unwrap_or(self.me.addr),
                    epoch: view.epoch(),
                })
            }
            None => Err(ShardError::ShuttingDown {
                node: self.me.name.clone(),
            }),
        }
    }
}

impl Shard for ShardServer {
    async fn ping(self, _: Context) -> NodeInfo {
        NodeInfo {
            name: self.me.name.clone(),
            addr: self.me.addr,
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime: self.registry.stats().uptime,
            ttl: self.me.ttl,
        }
    }

    async fn request(self, _: Context, id: u64, epoch: u64) -> Result<Cached, ShardError> {
        for _ in 0..MAX_ATTEMPTS {
            // The common case, the caller's epoch is not newer: decide on the view in place.
            let owned = self
                .members
                .with_view(|view| (epoch <= view.epoch()).then(|| self.check_owner(view, &id)));
            match owned {
                Some(owned) => owned?,
                None => {
                    let view = self.view_for(epoch).await?;
                    self.check_owner(&view, &id)?;
                    if epoch > view.epoch() {
                        self.me.stale_served.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            if let Some(value) = self.registry.ask(id).await {
                return Ok(value);
            }
        }
        Err(ShardError::ShuttingDown {
            node: self.me.name.clone(),
        })
    }

    async fn catalog(self, _: Context) -> Result<Vec<Product>, ShardError> {
        let store = self.members.store().clone();
        let products = store.products().await.map_err(|e| self.store_error(e))?;
        Ok(products.into_iter().map(|(p, _)| p).collect())
    }

    async fn quote(
        self,
        _: Context,
        product: ProductId,
        epoch: u64,
    ) -> Result<Served<Quote>, ShardError> {
        self.own(&product, epoch).await?;
        self.products.quote(&product).await
    }

    async fn quotes(
        self,
        _: Context,
        products: Vec<ProductId>,
        epoch: u64,
    ) -> Result<Vec<Result<Served<Quote>, ShardError>>, ShardError> {
        if products.len() > MAX_QUOTES {
            return Err(ShardError::TooMany {
                what: "products".into(),
                got: products.len(),
                max: MAX_QUOTES,
            });
        }
        let view = self.view_for(epoch).await?;
        let answers = products.iter().map(|p| {
            let owned = self.check_owner(&view, p);
            let actors = self.products.clone();
            async move {
                owned?;
                actors.quote(p).await
            }
        });
        Ok(futures::future::join_all(answers).await)
    }

    async fn reserve(
        self,
        _: Context,
        order: OrderId,
        product: ProductId,
        qty: u32,
        epoch: u64,
    ) -> Result<u32, ShardError> {
        self.own(&product, epoch).await?;
        self.products.reserve(order, &product, qty).await
    }

    async fn release(
        self,
        _: Context,
        order: OrderId,
        product: ProductId,
        epoch: u64,
    ) -> Result<(), ShardError> {
        self.own(&product, epoch).await?;
        self.products.release(order, &product).await
    }

    async fn checkout(self, _: Context, order: NewOrder, epoch: u64) -> Result<Order, ShardError> {
        self.own(&order.id, epoch).await?;
        self.checkout.submit(order).await
    }

    async fn order(self, _: Context, id: OrderId) -> Result<Order, ShardError> {
        self.checkout.order(id).await
    }

    async fn watch_order(
        self,
        ctx: Context,
        id: OrderId,
        seen: Stage,
        epoch: u64,
    ) -> Result<Order, ShardError> {
        self.own(&id, epoch).await?;
        let until = ctx
            .deadline
            .checked_sub(WATCH_MARGIN)
            .unwrap_or_else(Instant::now);
        self.checkout
            .watch(id, seen, tokio::time::Instant::from_std(until))
            .await
    }

    async fn orders(self, _: Context, customer: Option<String>) -> Result<Vec<Order>, ShardError> {
        let store = self.members.store().clone();
        store
            .orders(customer.as_deref(), MAX_ORDERS)
            .await
            .map_err(|e| self.store_error(e))
    }

    async fn stats(self, _: Context) -> NodeStats {
        // Actors, hits and misses count every kind of actor: the demo's ids and the products.
        let demo = self.registry.stats();
        let (quote_hits, quote_misses) = self.products.counts();
        NodeStats {
            epoch: self.members.view().epoch(),
            redirected: self.me.redirected.load(Ordering::Relaxed),
            stale_served: self.me.stale_served.load(Ordering::Relaxed),
            live_actors: demo.live_actors + self.products.live() as u64,
            hits: demo.hits + quote_hits,
            misses: demo.misses + quote_misses,
            requests: demo.requests + quote_hits + quote_misses,
            ..demo
        }
    }

    async fn placement(
        self,
        _: Context,
        members: Vec<NodeId>,
        vnodes: u32,
        ids: Vec<u64>,
    ) -> Result<Vec<NodeId>, ShardError> {
        placement(members, vnodes, ids)
    }

    async fn members(self, _: Context) -> Result<Membership, ShardError> {
        let store = self.members.store().clone();
        store
            .membership(now_ms())
            .await
            .map_err(|e| self.store_error(e))
    }

    async fn watch_members(self, ctx: Context, epoch: u64) -> Result<Membership, ShardError> {
        let mut changes = self.members.subscribe();
        let until = ctx
            .deadline
            .checked_sub(WATCH_MARGIN)
            .unwrap_or_else(Instant::now);
        let until = tokio::time::Instant::from_std(until);
        loop {
            let view = changes.borrow_and_update().clone();
            if view.epoch() != epoch {
                return Ok(view.membership.clone());
            }
            tokio::select! {
                changed = changes.changed() => if changed.is_err() {
                    return Ok(view.membership.clone());
                },
                _ = tokio::time::sleep_until(until) => return Ok(view.membership.clone()),
            }
        }
    }

    async fn suspect(self, _: Context, name: NodeId) -> Result<bool, ShardError> {
        if name == self.me.name {
            return Ok(false);
        }
        let mut view = self.members.view();
        if view.member(&name).is_none() {
            // It may have joined since this node last polled the epoch.
            view = self
                .members
                .refresh()
                .await
                .map_err(|e| self.store_error(e))?;
        }
        let Some(addr) = view.addr_of(&name) else {
            return Ok(false);
        };
        let answered = match transport::connect_shard(addr, SUSPECT_PROBE).await {
            Ok(client) => client
                .ping(transport::context(SUSPECT_PROBE))
                .await
                .is_ok_and(|info| info.name == name),
            Err(_) => false,
        };
        if answered {
            return Ok(false);
        }
        tracing::warn!(node = %self.me.name, suspect = %name, %addr, "suspect does not answer; voting it dead");
        self.members
            .vote_dead(&name)
            .await
            .map_err(|e| self.store_error(e))
    }

    async fn adopt(self, _: Context, entries: Vec<Handed>, epoch: u64) -> Result<u32, ShardError> {
        if entries.len() > MAX_ADOPT {
            return Err(ShardError::TooMany {
                what: "entries".into(),
                got: entries.len(),
                max: MAX_ADOPT,
            });
        }
        let view = self.view_for(epoch).await?;
        let mut adopted = 0;
        for entry in &entries {
            if view.ring.owner(&entry.id) == Some(&self.me.name) && self.registry.adopt(entry) {
                adopted += 1;
            }
        }
        Ok(adopted)
    }
}

fn placement(members: Vec<NodeId>, vnodes: u32, ids: Vec<u64>) -> Result<Vec<NodeId>, ShardError> {
    if members.is_empty() {
        return Err(ShardError::Invalid {
            what: "members: name at least one member".into(),
        });
    }
    if members.len() > MAX_PLACEMENT_MEMBERS {
        return Err(ShardError::TooMany {
            what: "members".into(),
            got: members.len(),
            max: MAX_PLACEMENT_MEMBERS,
        });
    }
    if ids.len() > MAX_PLACEMENT_IDS {
        return Err(ShardError::TooMany {
            what: "ids".into(),
            got: ids.len(),
            max: MAX_PLACEMENT_IDS,
        });
    }
    if !(1..=MAX_VNODES).contains(&vnodes) {
        return Err(ShardError::Invalid {
            what: format!("vnodes {vnodes}: must be 1..={MAX_VNODES}"),
        });
    }
    let ring = Ring::with_members(vnodes, members);
    Ok(ids
        .iter()
        .filter_map(|id| ring.owner(id).cloned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<NodeId> {
        list.iter()
            .map(|n| NodeId::new(*n).expect("valid"))
            .collect()
    }

    #[test]
    fn placement_answers_like_a_local_ring() {
        let members = names(&["a", "b", "c"]);
        let ring = Ring::with_members(64, members.clone());
        let ids: Vec<u64> = (0..500).collect();
        let answered = placement(members, 64, ids.clone()).expect("valid question");
        let local: Vec<NodeId> = ids
            .iter()
            .filter_map(|id| ring.owner(id).cloned())
            .collect();
        assert_eq!(answered, local);
    }

    #[test]
    fn placement_refuses_empty_oversized_and_out_of_range_questions() {
        assert!(matches!(
            placement(vec![], 8, vec![1]),
            Err(ShardError::Invalid { .. })
        ));
        let many: Vec<NodeId> = (0..=MAX_PLACEMENT_MEMBERS)
            .map(|i| NodeId::new(format!("n{i}")).expect("valid"))
            .collect();
        assert!(matches!(
            placement(many, 8, vec![1]),
            Err(ShardError::TooMany { .. })
        ));
        let ids = vec![0; MAX_PLACEMENT_IDS + 1];
        assert!(matches!(
            placement(names(&["a"]), 8, ids),
            Err(ShardError::TooMany { .. })
        ));
        for vnodes in [0, MAX_VNODES + 1] {
            assert!(matches!(
                placement(names(&["a"]), vnodes, vec![1]),
                Err(ShardError::Invalid { .. })
            ));
        }
    }
}
