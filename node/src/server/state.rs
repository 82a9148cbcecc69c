//! The server one connection talks to: who the node is (its name, address, TTL, the holds
//! of ids being handed over, its admission), the parts it hands calls to (the registry of
//! values, products, membership, detector, checkout), and who is calling; with what every RPC
//! does first (catch up to the caller's epoch, check ownership, wait out a handover).
//!
//! One ownership rule for every RPC about an id (a demo value, a product, an order): it is
//! answered only where `Members::check` says this node may answer for the id now. `Moved` and
//! `ShuttingDown` go back at once; `Unavailable` (the id is being handed over to this node, or
//! its lease ran out, or it is rejoining) is held until the view settles, at most
//! `holding::MAX_HOLD` and within the caller's deadline, then goes back with nothing done, and
//! the caller's routing loop asks again. Never let through: a fenced node answers for no id
//! (the cluster may be giving its ids away), and while an id is handed over its previous owner
//! may still answer for it, so two nodes would answer for one order. The RPCs that read the
//! store and name no owner (`order`, `orders`, `find_orders`, `catalog`, `members`) are
//! answered by any member. A write refused this way names its cause when it is one the caller
//! can act on (`as_write`: a node fenced because its heartbeats found the disk full answers
//! `StoreFull`, as the write itself would have).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ringshop_shared::transport::Role;
use ringshop_shared::{NodeId, OrderId, ShardError, StoreHealth, Unavailable};
use tarpc::context::Context;

use super::checks::{patience, peer_only};
use crate::actors::product::Products;
use crate::actors::value::Registry;
use crate::admission::{self, Admission};
use crate::holding::{Hold, Holds, until_answered};
use crate::membership::Members;
use crate::membership::detector::Detector;
use crate::shop::checkout::Checkout;
use crate::store::patiently;

/// Cloned for every request tarpc serves, so it is one `Arc` of the node's parts and the
/// caller's role: one reference count per request, where a clone of each part took a dozen
/// (the profile showed their drops on every hit).
#[derive(Clone)]
pub struct ShardServer {
    parts: Arc<Parts>,
    /// The caller's role from its certificate; None on a plaintext connection.
    pub(super) caller: Option<Role>,
}

/// Everything a `ShardServer` hands calls to, shared by every connection and request.
pub struct Parts {
    pub(super) me: Me,
    pub(super) registry: Registry,
    pub(super) members: Members,
    pub(super) detector: Detector,
    pub(super) products: Products,
    pub(super) checkout: Checkout,
}

impl std::ops::Deref for ShardServer {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.parts
    }
}

pub(super) struct Me {
    pub(super) name: NodeId,
    /// The name as the `node` attribute of the spans this node serves.
    pub(super) span_node: opentelemetry::Value,
    pub(super) addr: SocketAddr,
    pub(super) ttl: Duration,
    pub(super) holds: Holds,
    /// Requests in flight on this node, shared by every connection.
    pub(super) admission: Arc<Admission>,
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
            parts: Arc::new(Parts {
                me: Me {
                    name: members.me().clone(),
                    span_node: opentelemetry::Value::from(members.me().to_string()),
                    addr,
                    ttl,
                    holds: Holds::default(),
                    admission: Admission::new(admission::Limits::default()),
                },
                registry,
                members,
                detector,
                products,
                checkout,
            }),
            caller: None,
        }
    }

    /// The parts, while no connection or request shares them yet (at start-up).
    pub(super) fn parts_mut(&mut self) -> Option<&mut Parts> {
        Arc::get_mut(&mut self.parts)
    }

    /// This server for one connection whose certificate gives it `role` (None: plaintext).
    pub fn for_caller(&self, role: Option<Role>) -> ShardServer {
        ShardServer {
            parts: self.parts.clone(),
            caller: role,
        }
    }

    pub(super) fn peer_only(&self, rpc: &str) -> Result<(), ShardError> {
        peer_only(self.caller, &self.me.name, rpc)
    }

    /// Brings this node's view up to the caller's epoch if the caller has seen a newer one.
    pub(super) async fn catch_up(&self, ctx: &Context, epoch: u64) -> Result<(), ShardError> {
        // Every request asks: the common case (nothing newer) reads the view and nothing else.
        if epoch <= self.members.with_view(|v| v.epoch()) {
            return Ok(());
        }
        patiently(patience(ctx), || self.members.catch_up(epoch))
            .await
            .map_err(|e| e.on(&self.me.name))
    }

    /// Catches up, then holds the call until this node may answer for the order `id` (the
    /// module's one rule), as `on_product` does for a product.
    pub(super) async fn own(
        &self,
        ctx: &Context,
        id: &OrderId,
        epoch: u64,
    ) -> Result<(), ShardError> {
        self.catch_up(ctx, epoch).await?;
        until_answered(
            &self.members,
            &self.me.holds,
            Hold::Deadline(ctx.deadline),
            || std::future::ready(self.members.check(id).map(Some)),
        )
        .await
    }

    /// `refused` as a write that was not made answers it: `StoreFull` when this node is fenced
    /// because its heartbeats found the store's disk full (waiting a moment will not cure it,
    /// and a buyer is told so with its own exit code), else `refused` itself.
    pub(super) fn as_write(&self, refused: ShardError) -> ShardError {
        match refused {
            ShardError::Unavailable {
                reason: Unavailable::Fenced,
                ..
            } if self.members.store_health() == StoreHealth::Full => ShardError::StoreFull {
                node: self.me.name.clone(),
            },
            other => other,
        }
    }

    /// A product call through the product's actor, held while the product is handed over.
    pub(super) async fn on_product<T, F, Fut>(
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
