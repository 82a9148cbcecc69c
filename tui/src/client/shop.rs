//! The shop through the cluster: each call goes to the owner of its product or order id.
//! Quotes are scatter-gathered (grouped by owner, one call per owner, in parallel), and the
//! last quote of each product is remembered so that, when its owner is down, the client can
//! still show it, marked stale with its age, instead of an error.

use std::collections::BTreeMap;
use std::time::Duration;

use ringshop_shared::clock;

use ringshop_shared::shop::MAX_QTY_PER_LINE;
use ringshop_shared::{
    NewOrder, NodeId, Order, OrderId, OrderLine, Product, ProductId, Progress, Quote, Served,
    ShardClient, ShardError, transport,
};

use super::cluster::Cluster;
use super::follow;
use super::types::{Answer, ClusterError};

/// A product as the client can show it: fresh from its owner, or the last one seen (stale).
#[derive(Clone, Debug, PartialEq)]
pub struct QuoteRow {
    pub quote: Served<Quote>,
    /// The answer did not come now: this is the last one seen, `seen_ago` ago.
    pub stale: bool,
    pub seen_ago: Duration,
}

/// One call of a quotes scatter: the node asked (or, for products asked one at a time, the
/// node that answered), for how many products, how many were cache hits, how long it took.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnerCall {
    pub node: NodeId,
    pub products: usize,
    pub hits: usize,
    pub latency: Duration,
    /// One call for all of them (the scatter), not one call per product.
    pub batch: bool,
    /// One product at a time (its owner did not answer the batch, or it moved), and some of
    /// these calls failed over to the next owner.
    pub failover: bool,
    pub error: Option<String>,
}

/// Products and their quotes (or why not), and the calls that got them.
pub type Quotes = (
    Vec<(ProductId, Result<QuoteRow, ClusterError>)>,
    Vec<OwnerCall>,
);

/// `tea-kettle` or `tea-kettle:2` → an order line (quantity 1 by default).
pub fn parse_line(text: &str) -> Result<OrderLine, String> {
    let (id, qty) = match text.split_once(':') {
        Some((id, qty)) => (id, qty),
        None => (text, "1"),
    };
    let product = ProductId::new(id).map_err(|e| e.to_string())?;
    let digits = !qty.is_empty() && qty.bytes().all(|b| b.is_ascii_digit());
    let qty: u32 = match qty.parse() {
        Ok(qty) => qty,
        // All digits, yet no u32: a number, only far too large.
        Err(_) if digits => {
            return Err(format!(
                "{text:?}: quantity {qty} is too large; order 1 to {MAX_QTY_PER_LINE}"
            ));
        }
        Err(_) => {
            return Err(format!(
                "{text:?}: the quantity must be a whole number, e.g. {id}:2"
            ));
        }
    };
    if qty == 0 || qty > MAX_QTY_PER_LINE {
        return Err(format!(
            "{text:?}: quantity {qty} is out of range; order 1 to {MAX_QTY_PER_LINE}"
        ));
    }
    Ok(OrderLine { product, qty })
}

impl Cluster {
    /// Calls `f` on reachable members in turn until one answers (for reads any node can do);
    /// a busy member passes the call to the next one.
    pub(super) async fn call_any<T, F, Fut>(&self, f: F) -> Result<T, ClusterError>
    where
        F: Fn(ShardClient, tarpc::context::Context) -> Fut,
        Fut: std::future::Future<Output = Result<Result<T, ShardError>, tarpc::client::RpcError>>,
    {
        let members = follow::reachable(&self.inner);
        let tried = members.len();
        let mut busy = None;
        for (name, client, generation) in members {
            match f(client, transport::context(self.inner.config.deadline)).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error @ ShardError::Busy { .. })) => busy = Some((name, error)),
                Ok(Err(error)) => return Err(ClusterError::Shard { node: name, error }),
                Err(e) => {
                    tracing::warn!(node = %name, error = %e, "no answer; trying another member");
                    if follow::connection_lost(&e) {
                        follow::mark_down(&self.inner, &name, generation, &e.to_string());
                    }
                }
            }
        }
        if let Some((node, error)) = busy {
            return Err(ClusterError::Shard { node, error });
        }
        Err(self.inner.no_live_members(tried))
    }

    /// The catalog (names and prices).
    pub async fn catalog(&self) -> Result<Vec<Product>, ClusterError> {
        self.call_any(|c, ctx| async move { c.catalog(ctx).await })
            .await
    }

    /// One product's quote from its owner.
    pub async fn quote(&self, product: &ProductId) -> Result<Answer<Served<Quote>>, ClusterError> {
        let answer = self
            .call_owner(product, |c, ctx, epoch| {
                let p = product.clone();
                async move { c.quote(ctx, p, epoch).await }
            })
            .await?;
        self.remember(&answer.value);
        Ok(answer)
    }

    pub(super) fn remember(&self, q: &Served<Quote>) {
        self.inner
            .last_quotes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(q.value.product.id.clone(), (q.clone(), clock::now()));
    }

    fn last_seen(&self, product: &ProductId) -> Option<QuoteRow> {
        let last = self
            .inner
            .last_quotes
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        last.get(product).map(|(q, at)| QuoteRow {
            quote: q.clone(),
            stale: true,
            seen_ago: at.elapsed(),
        })
    }

    /// Quotes of `products`, asking each owner once for all of its products, in parallel. A
    /// product whose owner cannot answer comes back as its last quote, marked stale; one never
    /// seen is an error in its place.
    pub async fn quotes(
        &self,
        products: &[ProductId],
    ) -> Vec<(ProductId, Result<QuoteRow, ClusterError>)> {
        self.quotes_with_calls(products).await.0
    }

    /// `quotes`, and one `OwnerCall` per call it made: one per owner, then (grouped by the
    /// node that answered) the products asked one at a time because their owner did not.
    pub async fn quotes_with_calls(&self, products: &[ProductId]) -> Quotes {
        let mut calls = Vec::new();
        let mut by_owner: BTreeMap<NodeId, Vec<ProductId>> = BTreeMap::new();
        let mut unowned = Vec::new();
        {
            let state = self.inner.read();
            for p in products {
                match state.ring.owner(p) {
                    Some(owner) => by_owner.entry(owner.clone()).or_default().push(p.clone()),
                    None => unowned.push(p.clone()),
                }
            }
        }
        let asks = by_owner.into_iter().map(|(owner, ids)| async move {
            let target = {
                let state = self.inner.read();
                state
                    .members
                    .get(&owner)
                    .and_then(|m| Some((m.live()?.clone(), m.generation)))
                    .map(|(c, generation)| (c, generation, state.epoch))
            };
            let started = clock::now();
            let answers = match target {
                Some((client, generation, epoch)) => {
                    let deadline = transport::context(self.inner.config.deadline);
                    match client.quotes(deadline, ids.clone(), epoch).await {
                        Ok(answers) => answers.map_err(|e| e.to_string()),
                        Err(e) => {
                            if follow::connection_lost(&e) {
                                follow::mark_down(&self.inner, &owner, generation, &e.to_string());
                            }
                            Err(e.to_string())
                        }
                    }
                }
                None => Err("not connected".to_string()),
            };
            let hits = answers.as_ref().map_or(0, |a| {
                a.iter().filter(|q| q.as_ref().is_ok_and(|q| q.hit)).count()
            });
            let call = OwnerCall {
                node: owner,
                products: ids.len(),
                hits,
                latency: started.elapsed(),
                batch: true,
                failover: false,
                error: answers.as_ref().err().cloned(),
            };
            (ids, answers.ok(), call)
        });
        let mut out: BTreeMap<ProductId, Result<QuoteRow, ClusterError>> = BTreeMap::new();
        let mut retry = unowned;
        for (ids, answers, call) in futures::future::join_all(asks).await {
            calls.push(call);
            match answers {
                Some(answers) if answers.len() == ids.len() => {
                    for (id, answer) in ids.into_iter().zip(answers) {
                        match answer {
                            Ok(q) => {
                                self.remember(&q);
                                out.insert(
                                    id,
                                    Ok(QuoteRow {
                                        quote: q,
                                        stale: false,
                                        seen_ago: Duration::ZERO,
                                    }),
                                );
                            }
                            Err(ShardError::Moved { .. } | ShardError::Unavailable { .. }) => {
                                retry.push(id)
                            }
                            Err(error) => {
                                let node = self.owner(&id).unwrap_or_else(|| {
                                    NodeId::new("unknown").unwrap_or_else(|_| unreachable!())
                                });
                                out.insert(id, Err(ClusterError::Shard { node, error }));
                            }
                        }
                    }
                }
                _ => retry.extend(ids),
            }
        }
        // The owner did not answer for these (or they moved): one at a time, with failover;
        // failing that, the last quote seen, marked stale.
        let mut one_by_one: BTreeMap<NodeId, OwnerCall> = BTreeMap::new();
        for id in retry {
            let row = match self.quote(&id).await {
                Ok(a) => {
                    let call =
                        one_by_one
                            .entry(a.report.node.clone())
                            .or_insert_with(|| OwnerCall {
                                node: a.report.node.clone(),
                                products: 0,
                                hits: 0,
                                latency: Duration::ZERO,
                                batch: false,
                                failover: false,
                                error: None,
                            });
                    call.products += 1;
                    call.failover |= a.report.failed_over();
                    call.hits += usize::from(a.value.hit);
                    call.latency = call.latency.saturating_add(a.report.latency);
                    Ok(QuoteRow {
                        quote: a.value,
                        stale: false,
                        seen_ago: Duration::ZERO,
                    })
                }
                Err(e) => self.last_seen(&id).ok_or(e),
            };
            out.insert(id, row);
        }
        calls.extend(one_by_one.into_values());
        let rows = products
            .iter()
            .map(|p| {
                let row = out
                    .remove(p)
                    .unwrap_or_else(|| Err(self.inner.no_live_members(0)));
                (p.clone(), row)
            })
            .collect();
        (rows, calls)
    }

    /// Submits an order to the owner of its id; answered once the order is stored. Safe to
    /// repeat: the same id is the same order.
    pub async fn checkout(&self, order: &NewOrder) -> Result<Answer<Order>, ClusterError> {
        self.call_owner(&order.id, |c, ctx, epoch| {
            let o = order.clone();
            async move { c.checkout(ctx, o, epoch).await }
        })
        .await
    }

    /// Waits for the order's progress to differ from `seen` (on its owner, following it if it
    /// moves), or about `watch_for`; the order then.
    pub async fn watch_order(
        &self,
        id: OrderId,
        seen: Progress,
    ) -> Result<Answer<Order>, ClusterError> {
        let deadline = self.inner.config.watch_for;
        self.call_owner_within(&id, deadline, move |c, ctx, epoch| {
            let seen = seen.clone();
            async move { c.watch_order(ctx, id, seen, epoch).await }
        })
        .await
    }

    /// One order, as stored.
    pub async fn order(&self, id: OrderId) -> Result<Order, ClusterError> {
        self.call_any(move |c, ctx| async move { c.order(ctx, id).await })
            .await
    }

    /// Orders, newest first, of one customer or all.
    pub async fn orders(&self, customer: Option<String>) -> Result<Vec<Order>, ClusterError> {
        self.call_any(move |c, ctx| {
            let customer = customer.clone();
            async move { c.orders(ctx, customer).await }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_a_product_and_an_optional_quantity() {
        let line = parse_line("tea-kettle:2").expect("valid");
        assert_eq!((line.product.as_str(), line.qty), ("tea-kettle", 2));
        assert_eq!(parse_line("mug").expect("valid").qty, 1);
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        for (text, says) in [
            ("mug:0", "out of range"),
            ("mug:21", "out of range"),
            ("mug:two", "whole number"),
            ("Mug", "invalid product id"),
            ("mug:-1", "whole number"),
            ("mug:99999999999999999999", "too large; order 1 to 20"),
            ("mug:", "whole number"),
        ] {
            let err = parse_line(text).expect_err(text);
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
