//! How a checkout job reaches a product's owner: this node's own actor when it owns the
//! product, else the one routing loop (`ringshop_shared::route`) over this node's view. It
//! never calls this node over the network: a product that moves to this node while the loop
//! runs (`Routing::Local`) goes to the local actor again.

use std::time::Duration;

use ringshop_shared::clock;
use ringshop_shared::route::{self, Policy, Routing};
use ringshop_shared::{OrderId, ProductId, ShardError};

use super::{CALL_DEADLINE, Checkout, HEDGE_AFTER, REACH_FOR, SHOW_WAITING_AFTER};
use crate::actors::product::Products;
use crate::holding;
use crate::route::PeerRoute;

impl Checkout {
    /// Runs a product call on the product's owner: here through the local actor, elsewhere
    /// through the one routing loop (`ringshop_shared::route`) over this node's view, which
    /// follows `Moved`, waits out ids in transfer and owners the cluster still counts alive,
    /// for at most `REACH_FOR` in all. A call is never sent to this node over the network:
    /// when the loop finds the owner is this node (`Routing::Local`), the call goes to the
    /// local actor again. While a remote call has gone unanswered for `SHOW_WAITING_AFTER` or
    /// longer, those following `order` see the owner it waits on (`Order::waiting`).
    pub(super) async fn on_owner<T, R, RF, L, LF>(
        &self,
        order: OrderId,
        product: &ProductId,
        remote: R,
        local: L,
    ) -> Result<T, ShardError>
    where
        R: Fn(ringshop_shared::ShardClient, tarpc::context::Context, u64, ProductId) -> RF,
        RF: std::future::Future<Output = Result<Result<T, ShardError>, tarpc::client::RpcError>>,
        L: Fn(Products, ProductId) -> LF,
        LF: std::future::Future<Output = Result<Option<T>, ShardError>>,
    {
        let s = &self.shared;
        let until = clock::now() + REACH_FOR;
        loop {
            if s.members.view().ring.owner(product) == Some(&s.me) {
                let hold = holding::Hold::At(until.min(clock::now() + CALL_DEADLINE));
                let here = holding::until_answered(&s.members, &s.holds, hold, || {
                    local(s.products.clone(), product.clone())
                })
                .await;
                match here {
                    Err(
                        e @ (ShardError::Moved { .. }
                        | ShardError::ShuttingDown { .. }
                        | ShardError::Unavailable { .. }),
                    ) => {
                        // It moved under the call, or is not settled here yet: look again
                        // shortly, with a fresh view, within the patience.
                        if clock::now() >= until {
                            return Err(e);
                        }
                        tokio::time::sleep(Duration::from_millis(10 + fastrand::u64(0..20))).await;
                        let _ = s.members.refresh().await;
                        if s.members.view().ring.owner(product) == Some(&s.me) {
                            continue;
                        }
                    }
                    answer => return answer,
                }
            }
            let patience = until.saturating_duration_since(clock::now());
            match self.remote(order, product, patience, &remote).await {
                // The view made this node the owner meanwhile: the local actor answers.
                Err(Routing::Local { .. }) if clock::now() < until => continue,
                answer => {
                    return answer.map_err(|e| match e {
                        Routing::Shard { error, .. } => error,
                        other => ShardError::PeerUnreachable {
                            node: s.me.clone(),
                            target: format!("the owner of {product}"),
                            reason: other.to_string(),
                        },
                    });
                }
            }
        }
    }

    /// One product call through the routing loop to a product's owner other than this node,
    /// for at most `patience`.
    async fn remote<T, R, RF>(
        &self,
        order: OrderId,
        product: &ProductId,
        patience: Duration,
        remote: &R,
    ) -> Result<T, Routing>
    where
        R: Fn(ringshop_shared::ShardClient, tarpc::context::Context, u64, ProductId) -> RF,
        RF: std::future::Future<Output = Result<Result<T, ShardError>, tarpc::client::RpcError>>,
    {
        let s = &self.shared;
        let route = PeerRoute {
            members: &s.members,
            peers: &s.peers,
            detector: &s.detector,
        };
        let policy = Policy {
            deadline: CALL_DEADLINE,
            patience,
            retry_alive_after: Duration::from_millis(100),
            // A reserve is safe to run twice at once (one hold per order and product, in the
            // product's actor): one that has not answered in this long also goes through a
            // relay, so a link cut under an open connection costs this, not the deadline.
            hedge_after: Some(HEDGE_AFTER),
        };
        let call = route::call_owner(&route, product, &policy, |client, ctx, epoch| {
            remote(client, ctx, epoch, product.clone())
        });
        tokio::pin!(call);
        // The member the call waits on: the owner when it started (an attempt in flight stays
        // with it until its deadline, even after the view has moved the product on).
        let waiting_on = s
            .members
            .with_view(|v| v.ring.owner(product).cloned())
            .filter(|owner| owner != &s.me);
        let mut shown = false;
        let answer = loop {
            tokio::select! {
                answer = &mut call => break answer,
                _ = tokio::time::sleep(SHOW_WAITING_AFTER), if !shown => {
                    shown = waiting_on.is_some();
                    self.show_waiting(order, waiting_on.clone());
                }
            }
        };
        if shown {
            self.show_waiting(order, None);
        }
        answer.map(|routed| routed.value)
    }
}

#[cfg(test)]
mod tests;
