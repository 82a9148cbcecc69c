//! Shop fixtures every shop test uses: valid ids, orders, a quick payment, and following an
//! order to a stage.

use std::time::{Duration, Instant};

use futures::StreamExt;

use ringshop_node::shop::checkout::Payment;
use ringshop_shared::{Order, ShardError, Stage};
use ringshop_tui::{Cluster, ClusterError};

/// A product id a test knows is valid.
pub fn product(id: &str) -> ringshop_shared::ProductId {
    ringshop_shared::ProductId::new(id).expect("a valid product id")
}

/// An order with a fresh id for `customer`, one line per (product, quantity).
pub fn new_order(customer: &str, lines: &[(&str, u32)]) -> ringshop_shared::NewOrder {
    ringshop_shared::NewOrder {
        id: ringshop_shared::OrderId::random(),
        customer: customer.into(),
        lines: lines
            .iter()
            .map(|(id, qty)| ringshop_shared::OrderLine {
                product: product(id),
                qty: *qty,
            })
            .collect(),
    }
}

/// A payment that takes `delay` and never declines.
pub fn paying(delay: Duration) -> Payment {
    Payment {
        delay,
        failure_rate: 0.0,
    }
}

/// Follows `o` (with `Cluster::follow_order`) until it reaches `stage` or a final one; the
/// order then and every stage seen, in order (the first is `o`'s). Fails the test after
/// `limit` or on a failed watch.
pub async fn follow(
    client: &Cluster,
    o: Order,
    stage: Stage,
    limit: Duration,
) -> (Order, Vec<Stage>) {
    let mut seen = vec![o.stage];
    let mut current = o;
    let mut stages = client.follow_order(current.clone());
    let started = Instant::now();
    while current.stage < stage && !current.stage.is_final() {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stages.next()).await {
            Ok(Some(next)) => current = next.expect("watch answers").value,
            Ok(None) => break,
            Err(_) => panic!(
                "order {} stuck at {} for {limit:?}",
                current.id, current.stage
            ),
        }
        // The stream also says when the checkout starts or stops waiting on a member.
        if seen.last() != Some(&current.stage) {
            seen.push(current.stage);
        }
    }
    (current, seen)
}

/// `follow`, for the order only.
pub async fn follow_until(client: &Cluster, o: Order, stage: Stage, limit: Duration) -> Order {
    follow(client, o, stage, limit).await.0
}

/// `buyers` buyers at once, each ordering one `product` as `customer` and following the order
/// to its end (at most 30 s); how many bought it. Out of stock is a refusal; any other error
/// fails the test.
pub async fn buy_one_each(client: &Cluster, buyers: usize, product: &str, customer: &str) -> usize {
    let asks = (0..buyers).map(|_| {
        let client = client.clone();
        let order = new_order(customer, &[(product, 1)]);
        tokio::spawn(async move {
            match client.checkout(&order).await {
                Ok(accepted) => {
                    let limit = Duration::from_secs(30);
                    follow(&client, accepted.value, Stage::Done, limit)
                        .await
                        .0
                        .stage
                }
                Err(ClusterError::Shard {
                    error: ShardError::OutOfStock { .. },
                    ..
                }) => Stage::Failed,
                Err(e) => panic!("unexpected error: {e}"),
            }
        })
    });
    futures::future::join_all(asks)
        .await
        .into_iter()
        .filter(|b| *b.as_ref().expect("buyer finished") == Stage::Done)
        .count()
}
