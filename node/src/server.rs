//! `impl Shard`: thin. Each call is checked and handed to the registry (the id's actor); this
//! file holds no state of its own beyond who the node is and who is calling: every connection
//! gets its own `ShardServer` carrying the caller's role, and the peer-only RPCs
//! (`service::PEER_ONLY`) refuse a client certificate before doing anything.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ringshop_shared::hop;
use ringshop_shared::prefix::{Found, IdPrefix, MAX_CANDIDATES, MAX_TRACE_MATCHES};
use ringshop_shared::ring::MAX_VNODES;
use ringshop_shared::service::{MAX_ADOPT, MAX_PLACEMENT_IDS, MAX_PLACEMENT_POINTS, Rpc};
use ringshop_shared::service::{MAX_ORDERS, MAX_QUOTES};
use ringshop_shared::trace::{SpanRecord, TraceId};
use ringshop_shared::transport::Role;
use ringshop_shared::{
    Cached, Handed, Membership, NewOrder, NodeId, NodeInfo, NodeStats, Order, OrderId, Product,
    ProductId, Progress, Quote, Ring, Served, Shard, ShardError, ShardRequest, ShardResponse,
    StockNews, StockSeen,
};
use ringshop_telemetry as telemetry;
use tarpc::RequestName;
use tarpc::context::Context;

use crate::actors::product::Products;
use crate::actors::value::Registry;
use crate::admission::{self, Admission};
use crate::holding::{Hold, Holds, until_answered};
use crate::membership::Members;
use crate::membership::detector::Detector;
use crate::shop::checkout::Checkout;
use crate::store::patiently;

/// Most members a `placement` question may name.
pub const MAX_PLACEMENT_MEMBERS: usize = 64;
/// A long-poll returns this long before the caller's deadline, so the answer arrives in time.
const WATCH_MARGIN: Duration = Duration::from_millis(200);

#[derive(Clone)]
pub struct ShardServer {
    me: Arc<Me>,
    registry: Registry,
    members: Members,
    detector: Detector,
    products: Products,
    checkout: Checkout,
    /// The caller's role from its certificate; None on a plaintext connection.
    caller: Option<Role>,
}

struct Me {
    name: NodeId,
    /// The name as the `node` attribute of the spans this node serves.
    span_node: opentelemetry::Value,
    addr: SocketAddr,
    ttl: Duration,
    holds: Holds,
    /// Requests in flight on this node, shared by every connection.
    admission: Arc<Admission>,
}

impl ShardServer {
    pub fn new(
        addr: SocketAddr,
        ttl: Duration,
        registry: Registry,
        members: Members,
        detector: Detector,
        products: Products,
        checkout: Checkout,
    ) -> ShardServer {
        ShardServer {
            me: Arc::new(Me {
                name: members.me().clone(),
                span_node: opentelemetry::Value::from(members.me().to_string()),
                addr,
                ttl,
                holds: Holds::default(),
                admission: Admission::new(admission::Limits::default()),
            }),
            registry,
            members,
            detector,
            products,
            checkout,
            caller: None,
        }
    }

    /// This server for one connection whose certificate gives it `role` (None: plaintext).
    pub fn for_caller(&self, role: Option<Role>) -> ShardServer {
        ShardServer {
            caller: role,
            ..self.clone()
        }
    }

    fn peer_only(&self, rpc: &str) -> Result<(), ShardError> {
        peer_only(self.caller, &self.me.name, rpc)
    }

    /// Brings this node's view up to the caller's epoch if the caller has seen a newer one.
    async fn catch_up(&self, ctx: &Context, epoch: u64) -> Result<(), ShardError> {
        // Every request asks: the common case (nothing newer) reads the view and nothing else.
        if epoch <= self.members.with_view(|v| v.epoch()) {
            return Ok(());
        }
        patiently(patience(ctx), || self.members.catch_up(epoch))
            .await
            .map_err(|e| e.on(&self.me.name))
    }

    /// Catches up, then checks this node owns the order `id` under its view. Orders are not
    /// held while they move: every write of an order's job is a compare-and-set on its
    /// version, so a job that runs on two nodes for a moment stops on one of them.
    async fn own(&self, ctx: &Context, id: &OrderId, epoch: u64) -> Result<(), ShardError> {
        self.catch_up(ctx, epoch).await?;
        match self.members.check(id) {
            Err(ShardError::Unavailable { .. }) => Ok(()),
            checked => checked,
        }
    }

    /// A product call through the product's actor, held while the product is handed over.
    async fn on_product<T, F, Fut>(
        &self,
        ctx: &Context,
        epoch: u64,
        ask: F,
    ) -> Result<T, ShardError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, ShardError>>,
    {
        self.catch_up(ctx, epoch).await?;
        until_answered(
            &self.members,
            &self.me.holds,
            Hold::Deadline(ctx.deadline),
            ask,
        )
        .await
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
    ) -> Result<u32, ShardError> {
        self.peer_only("reserve")?;
        self.on_product(&ctx, epoch, || self.products.reserve(order, &product, qty))
            .await
    }

    async fn checkout(
        self,
        ctx: Context,
        order: NewOrder,
        epoch: u64,
    ) -> Result<Order, ShardError> {
        self.own(&ctx, &order.id, epoch).await?;
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
        let until = ctx
            .deadline
            .checked_sub(WATCH_MARGIN)
            .unwrap_or_else(Instant::now);
        self.checkout
            .watch(id, seen, tokio::time::Instant::from_std(until))
            .await
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
        self.detector
            .suspect(&name)
            .await
            .map_err(|e| e.on(&self.me.name))
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

/// How long a call may keep trying a stuttering store: until shortly before its deadline, so
/// the answer (an error, if it comes to that) still arrives in time.
/// One call quotes (or watches) at most `MAX_QUOTES` products.
fn at_most_quotes(products: &[ProductId]) -> Result<(), ShardError> {
    if products.len() > MAX_QUOTES {
        return Err(ShardError::TooMany {
            what: "products".into(),
            got: products.len(),
            max: MAX_QUOTES,
        });
    }
    Ok(())
}

fn patience(ctx: &Context) -> tokio::time::Instant {
    let until = ctx
        .deadline
        .checked_sub(WATCH_MARGIN)
        .unwrap_or_else(Instant::now);
    tokio::time::Instant::from_std(until)
}

/// A peer-only RPC refuses a client certificate; a node's certificate, or a plaintext
/// connection (loopback, `--insecure`: no roles there), may call it.
pub fn peer_only(caller: Option<Role>, node: &NodeId, rpc: &str) -> Result<(), ShardError> {
    match caller {
        Some(Role::Client) => Err(ShardError::NotAPeer {
            node: node.clone(),
            rpc: rpc.to_string(),
        }),
        Some(Role::Node) | None => Ok(()),
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
    let points = members.len().saturating_mul(vnodes as usize);
    if points > MAX_PLACEMENT_POINTS {
        return Err(ShardError::Invalid {
            what: format!(
                "{} members × {vnodes} vnodes = {points} ring points, at most {MAX_PLACEMENT_POINTS}; name fewer members or use fewer vnodes",
                members.len()
            ),
        });
    }
    let ring = Ring::with_members(vnodes, members);
    Ok(ids
        .iter()
        .filter_map(|id| ring.owner(id).cloned())
        .collect())
}

/// The node's request dispatch: `request` (the hot path) is served in the request's own task;
/// every other RPC in a box of its own. The future tarpc spawns per request is the size of the
/// largest RPC's future, and without the boxes that was the checkout's, kilobytes copied into
/// every hit's task.
#[derive(Clone)]
pub struct Dispatch {
    server: ShardServer,
}

impl ShardServer {
    /// This server (for one caller) as tarpc serves it.
    pub fn dispatch(self) -> Dispatch {
        Dispatch { server: self }
    }

    /// The node's admission, which every connection's requests pass before they are spawned
    /// (`lib.rs`): counted from the moment a request is read, so requests waiting for a turn
    /// on the runtime count too.
    pub fn admission(&self) -> Arc<Admission> {
        self.me.admission.clone()
    }

    /// This server answering a request of `rpc` that admission refused.
    pub fn refusing(self, rpc: Rpc) -> Refusing {
        Refusing { server: self, rpc }
    }
}

/// Answers a request admission refused with `Busy`, doing nothing else.
pub struct Refusing {
    server: ShardServer,
    rpc: Rpc,
}

impl tarpc::server::Serve for Refusing {
    type Req = ShardRequest;
    type Resp = ShardResponse;

    async fn serve(self, _: Context, _: ShardRequest) -> Result<ShardResponse, tarpc::ServerError> {
        let busy = ShardError::Busy {
            node: self.server.me.name.clone(),
            retry_after: admission::RETRY_AFTER,
        };
        // Admission refuses only RPCs with an error of their own.
        self.rpc
            .refusal(busy)
            .ok_or_else(|| tarpc::ServerError::new(std::io::ErrorKind::WouldBlock, "busy".into()))
    }
}

impl ShardServer {
    /// Takes work on under `limits` (`admission`); the default bounds otherwise.
    pub fn with_admission(mut self, limits: admission::Limits) -> ShardServer {
        if let Some(me) = Arc::get_mut(&mut self.me) {
            me.admission = Admission::new(limits);
        }
        self
    }
}

impl tarpc::server::Serve for Dispatch {
    type Req = ShardRequest;
    type Resp = ShardResponse;

    async fn serve(
        self,
        ctx: Context,
        req: ShardRequest,
    ) -> Result<ShardResponse, tarpc::ServerError> {
        // tarpc's span of this request (a child of the caller's): it ran here.
        telemetry::on_node(&self.server.me.span_node, req.name());
        match req {
            ShardRequest::Request { id, epoch } => Ok(ShardResponse::Request(
                self.server.request(ctx, id, epoch).await,
            )),
            other => Box::pin(self.server.serve().serve(ctx, other)).await,
        }
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
