//! `impl Shard`: each RPC checked and handed to the id's actor, the checkout, membership or
//! the detector; no state of its own.

use std::sync::atomic::Ordering;

use ringshop_shared::hop;
use ringshop_shared::prefix::{Found, IdPrefix, MAX_CANDIDATES, MAX_TRACE_MATCHES};
use ringshop_shared::service::MAX_ORDERS;
use ringshop_shared::service::{MAX_ADOPT, Rpc};
use ringshop_shared::trace::{SpanRecord, TraceId};
use ringshop_shared::{
    Cached, Handed, Membership, NewOrder, NodeId, NodeInfo, NodeStats, Order, OrderId, Product,
    ProductId, Progress, Quote, Reservation, Served, Shard, ShardError, ShardRequest,
    ShardResponse, StockNews, StockSeen,
};
use tarpc::context::Context;

use super::checks::{at_most_quotes, patience, placement};
use super::state::ShardServer;
use crate::holding::{Hold, until_answered};
use crate::store::patiently;
use ringshop_telemetry as telemetry;

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

    async fn request(self, ctx: Context, id: u64, epoch: u64) -> Result<Cached, ShardError> {
        self.catch_up(&ctx, epoch).await?;
        // The runtime checks ownership before it starts an actor and again in its turn.
        let hold = Hold::Deadline(ctx.deadline);
        until_answered(&self.members, &self.me.holds, hold, || {
            self.registry.value(id)
        })
        .await
    }

    async fn catalog(self, ctx: Context) -> Result<Vec<Product>, ShardError> {
        let store = self.members.store().clone();
        let products = patiently(patience(&ctx), || store.products())
            .await
            .map_err(|e| e.on(&self.me.name))?;
        Ok(products.into_iter().map(|(p, _)| p).collect())
    }

    async fn quote(
        self,
        ctx: Context,
        product: ProductId,
        epoch: u64,
    ) -> Result<Served<Quote>, ShardError> {
        self.on_product(&ctx, epoch, || self.products.quote(&product))
            .await
    }

    async fn quotes(
        self,
        ctx: Context,
        products: Vec<ProductId>,
        epoch: u64,
    ) -> Result<Vec<Result<Served<Quote>, ShardError>>, ShardError> {
        at_most_quotes(&products)?;
        self.catch_up(&ctx, epoch).await?;
        let hold = Hold::Deadline(ctx.deadline);
        let answers = products.iter().map(|p| {
            until_answered(&self.members, &self.me.holds, hold, || {
                self.products.quote(p)
            })
        });
        Ok(futures::future::join_all(answers).await)
    }

    async fn reserve(
        self,
        ctx: Context,
        order: OrderId,
        product: ProductId,
        qty: u32,
        epoch: u64,
    ) -> Result<Reservation, ShardError> {
        self.peer_only("reserve")?;
        self.on_product(&ctx, epoch, || self.products.hold(order, &product, qty))
            .await
    }

    async fn checkout(
        self,
        ctx: Context,
        order: NewOrder,
        epoch: u64,
    ) -> Result<Order, ShardError> {
        let owned = self.own(&ctx, &order.id, epoch).await;
        owned.map_err(|refused| self.as_write(refused))?;
        self.checkout.submit(order, patience(&ctx)).await
    }

    async fn order(self, ctx: Context, id: OrderId) -> Result<Order, ShardError> {
        self.checkout.order(id, patience(&ctx)).await
    }

    async fn watch_order(
        self,
        ctx: Context,
        id: OrderId,
        seen: Progress,
        epoch: u64,
    ) -> Result<Order, ShardError> {
        self.own(&ctx, &id, epoch).await?;
        self.checkout.watch(id, seen, patience(&ctx)).await
    }

    async fn watch_stock(
        self,
        ctx: Context,
        products: Vec<ProductId>,
        seen: StockSeen,
        epoch: u64,
    ) -> Result<StockNews, ShardError> {
        at_most_quotes(&products)?;
        self.catch_up(&ctx, epoch).await?;
        let hold = Hold::Deadline(ctx.deadline);
        let server = &self;
        let quote = move |p: ProductId| async move {
            until_answered(&server.members, &server.me.holds, hold, || {
                server.products.quote(&p)
            })
            .await
        };
        let feed = self.products.feed();
        Ok(feed
            .watch(&self.members, products, seen, patience(&ctx), quote)
            .await)
    }

    async fn spans(self, _: Context, trace: TraceId) -> Vec<SpanRecord> {
        telemetry::spans_of(trace)
    }

    async fn find_traces(self, _: Context, prefix: IdPrefix) -> Vec<TraceId> {
        telemetry::traces_starting(&prefix, MAX_TRACE_MATCHES)
    }

    async fn find_orders(self, ctx: Context, prefix: IdPrefix) -> Result<Found<Order>, ShardError> {
        let store = self.members.store().clone();
        patiently(patience(&ctx), || {
            store.orders_by_prefix(&prefix, MAX_CANDIDATES as u32)
        })
        .await
        .map_err(|e| e.on(&self.me.name))
    }

    async fn orders(
        self,
        ctx: Context,
        customer: Option<String>,
    ) -> Result<Vec<Order>, ShardError> {
        let store = self.members.store().clone();
        patiently(patience(&ctx), || {
            store.orders(customer.as_deref(), MAX_ORDERS)
        })
        .await
        .map_err(|e| e.on(&self.me.name))
    }

    async fn stats(self, _: Context) -> NodeStats {
        // Actors, hits and misses count every kind of actor: the demo's ids and the products.
        let demo = self.registry.stats();
        let (quote_hits, quote_misses) = self.products.counts();
        let holds = &self.me.holds;
        NodeStats {
            epoch: self.members.view().epoch(),
            redirected: holds.redirected.load(Ordering::Relaxed),
            held: holds.held.load(Ordering::Relaxed),
            hold_timeouts: holds.timed_out.load(Ordering::Relaxed),
            fenced: holds.fenced.load(Ordering::Relaxed),
            busy: self.me.admission.refused(),
            latency: self.me.admission.latency(),
            incarnation: self.members.incarnation(),
            live_actors: demo.live_actors + self.products.live() as u64,
            hits: demo.hits + quote_hits,
            misses: demo.misses + quote_misses,
            requests: demo.requests + quote_hits + quote_misses,
            activations: demo.activations + quote_misses,
            store: self.members.store_health(),
            timing: self.members.timing().cluster(),
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

    async fn members(self, ctx: Context) -> Result<Membership, ShardError> {
        let store = self.members.store().clone();
        patiently(patience(&ctx), || store.membership())
            .await
            .map_err(|e| e.on(&self.me.name))
    }

    async fn watch_members(self, ctx: Context, epoch: u64) -> Result<Membership, ShardError> {
        let mut changes = self.members.subscribe();
        let until = patience(&ctx);
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

    /// Answered by the caller's deadline (less a long-poll's margin) even while the probes of
    /// a silent member still wait (they go on, and count): then with this node's view as it
    /// is now, so a caller whose witnesses all probe a member that died in silence still
    /// learns in time that the cluster has declared it dead meanwhile.
    async fn suspect(self, ctx: Context, name: NodeId) -> Result<bool, ShardError> {
        if name == self.me.name {
            return Ok(false);
        }
        let detector = self.detector.clone();
        let asked = name.clone();
        let probing = tokio::spawn(async move { detector.suspect(&asked).await });
        match tokio::time::timeout_at(patience(&ctx), probing).await {
            Ok(Ok(out)) => out.map_err(|e| e.on(&self.me.name)),
            Ok(Err(_)) | Err(_) => Ok(!self.detector.in_ring(&name)),
        }
    }

    async fn probe(self, _: Context, name: NodeId) -> Result<bool, ShardError> {
        self.peer_only("probe")?;
        Ok(name == self.me.name || self.detector.probe(&name).await)
    }

    async fn forward(
        self,
        ctx: Context,
        to: NodeId,
        request: Box<ShardRequest>,
    ) -> Result<Box<ShardResponse>, ShardError> {
        let me = &self.me.name;
        let rpc = Rpc::of(&request);
        if rpc == Rpc::Forward || to == *me {
            return Err(ShardError::Invalid {
                what: format!(
                    "forward to {to}: a relay passes one call on to another member, once"
                ),
            });
        }
        // Relayed, a call keeps its caller's rights: this node calls `to` as a node.
        if rpc.peer_only() {
            self.peer_only(&format!("{rpc:?}").to_lowercase())?;
        }
        let unreachable = |reason: String| hop::unreachable_via(me, &to, reason);
        let mut addr = self.members.with_view(|v| v.addr_of(&to));
        if addr.is_none() {
            // The caller may know of a member this node has not read yet.
            let _ = self.members.refresh().await;
            addr = self.members.with_view(|v| v.addr_of(&to));
        }
        let addr = addr.ok_or_else(|| unreachable("it is not a member".into()))?;
        let peers = self.detector.peers();
        let channel = peers
            .channel(addr)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        // The caller's context: its deadline, and its trace (this hop's span is its child).
        match channel.call(ctx, *request).await {
            Ok(answer) => Ok(Box::new(answer)),
            Err(e) => {
                if !matches!(e, tarpc::client::RpcError::DeadlineExceeded) {
                    peers.forget(addr);
                }
                Err(unreachable(e.to_string()))
            }
        }
    }

    async fn adopt(
        self,
        ctx: Context,
        entries: Vec<Handed>,
        epoch: u64,
        from: NodeId,
        incarnation: u64,
    ) -> Result<u32, ShardError> {
        self.peer_only("adopt")?;
        if entries.len() > MAX_ADOPT {
            return Err(ShardError::TooMany {
                what: "entries".into(),
                got: entries.len(),
                max: MAX_ADOPT,
            });
        }
        self.catch_up(&ctx, epoch).await?;
        // A sender the membership no longer waits for (its lease ran out after it was declared
        // dead, it left, or it rejoined since) may arrive late, after the new owners answered
        // its ids: what it kept is void.
        if !self.members.awaits(&from, incarnation) {
            tracing::warn!(node = %self.me.name, %from, incarnation, entries = entries.len(), "refused a void handoff");
            return Err(ShardError::HandoffVoid {
                node: self.me.name.clone(),
                from,
                incarnation,
            });
        }
        let view = self.members.view();
        let mut adopted = 0;
        for entry in &entries {
            // Held ids are exactly the ones whose entries arrive here: adopt if this node owns
            // the id now; it answers from the entry once the epoch settles.
            if view.ring.owner(&entry.id) != Some(&self.me.name) {
                continue;
            }
            match self.registry.adopt_entry(entry) {
                Ok(true) => adopted += 1,
                Ok(false) => {}
                Err(why) => {
                    tracing::warn!(node = %self.me.name, id = entry.id, %why, "refused a handed-over entry")
                }
            }
        }
        Ok(adopted)
    }
}
