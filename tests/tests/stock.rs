//! Live stock on real nodes: a main following products (`Cluster::follow_stock`, one
//! long-poll per owner) is told of every change of their stock and price, whoever made it:
//! another main's purchase, holds given back by a failed order (on SQLite and PostgreSQL), a
//! new price in the store; and it keeps following when an owner dies.

use std::time::Duration;

use ringshop_node::shop::checkout::Payment;
use ringshop_shared::{NodeId, ProductId, Stage};
use ringshop_tests::{TestCluster, follow_until, name, new_order, product};
use ringshop_tui::{Cluster, StockEvent};
use tokio::sync::mpsc;

const CATALOG: &str = "\
lamp,Desk lamp,home,4500,10
mug,Mug,tea,1200,500
teapot,Teapot,tea,3900,14
";

/// How long a test waits for news it expects (a bound on a hang, not a speed goal: the
/// benchmark measures how soon news comes).
const NEWS_WITHIN: Duration = Duration::from_secs(10);

fn all() -> Vec<ProductId> {
    ["lamp", "mug", "teapot"].map(product).to_vec()
}

async fn shop(payment: Payment) -> (TestCluster, Cluster) {
    started(TestCluster::shop(Duration::from_secs(5), CATALOG, payment)).await
}

/// `cluster` with three in-process nodes, and a client of it.
async fn started(mut cluster: TestCluster) -> (TestCluster, Cluster) {
    for i in 1..=3 {
        cluster.add_in_process(name(i)).await;
    }
    let client = cluster.client().await;
    (cluster, client)
}

/// Events until `id`'s stock and price are `want`; the node that said so. Fails the test if
/// it does not come within `NEWS_WITHIN`.
async fn until_quote(
    events: &mut mpsc::Receiver<StockEvent>,
    id: &str,
    want: (u32, u64),
) -> NodeId {
    let wait = async {
        while let Some(event) = events.recv().await {
            if let StockEvent::Quotes { node, quotes } = event {
                let q = quotes.iter().find(|q| q.value.product.id.as_str() == id);
                if q.is_some_and(|q| (q.value.stock_left, q.value.product.price_cents) == want) {
                    return node;
                }
            }
        }
        panic!("the follower ended");
    };
    tokio::time::timeout(NEWS_WITHIN, wait)
        .await
        .unwrap_or_else(|_| panic!("{id} never showed {want:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_starts_with_every_product_from_its_owner() {
    let (_cluster, watcher) = shop(ringshop_tests::paying(Duration::ZERO)).await;
    let mut events = watcher.follow_stock(all());
    let mut got = Vec::new();
    while got.len() < 3 {
        let event = tokio::time::timeout(NEWS_WITHIN, events.recv()).await;
        match event.expect("news in time").expect("following") {
            StockEvent::Quotes { node, quotes } => {
                for q in quotes {
                    assert_eq!(Some(&node), watcher.owner(&q.value.product.id).as_ref());
                    assert_eq!(q.node, node, "each quote names the owner that sent it");
                    got.push(q.value.product.id.to_string());
                }
            }
            lost => panic!("{lost:?}"),
        }
    }
    got.sort();
    assert_eq!(got, ["lamp", "mug", "teapot"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_mains_purchase_reaches_a_follower() {
    let (cluster, watcher) = shop(ringshop_tests::paying(Duration::ZERO)).await;
    let buyer = cluster.client().await;
    let mut events = watcher.follow_stock(all());
    until_quote(&mut events, "teapot", (14, 3900)).await;
    let placed = new_order("ada", &[("teapot", 2)]);
    let accepted = buyer.checkout(&placed).await.expect("accepted");
    let from = until_quote(&mut events, "teapot", (12, 3900)).await;
    assert_eq!(Some(from), watcher.owner(&product("teapot")));
    let done = follow_until(&buyer, accepted.value, Stage::Done, NEWS_WITHIN).await;
    assert_eq!(done.stage, Stage::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_given_back_by_a_failed_order_reach_a_follower() {
    // Every payment is declined: the order fails and its holds go back in the same statement,
    // without the product's actor.
    let declined = Payment {
        delay: Duration::from_millis(300),
        failure_rate: 1.0,
    };
    let (cluster, watcher) = shop(declined).await;
    let buyer = cluster.client().await;
    let mut events = watcher.follow_stock(all());
    until_quote(&mut events, "lamp", (10, 4500)).await;
    let accepted = buyer
        .checkout(&new_order("ada", &[("lamp", 3)]))
        .await
        .expect("accepted");
    until_quote(&mut events, "lamp", (7, 4500)).await;
    let failed = follow_until(&buyer, accepted.value, Stage::Failed, NEWS_WITHIN).await;
    assert_eq!(failed.stage, Stage::Failed);
    until_quote(&mut events, "lamp", (10, 4500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_postgres_a_purchase_and_a_failed_orders_holds_reach_a_follower() {
    let declined = Payment {
        delay: Duration::from_millis(300),
        failure_rate: 1.0,
    };
    let Some(cluster) =
        TestCluster::shop(Duration::from_secs(5), CATALOG, declined).over_postgres("live_stock")
    else {
        return;
    };
    let (cluster, watcher) = started(cluster).await;
    let buyer = cluster.client().await;
    let mut events = watcher.follow_stock(all());
    until_quote(&mut events, "lamp", (10, 4500)).await;
    let accepted = buyer
        .checkout(&new_order("ada", &[("lamp", 4)]))
        .await
        .expect("accepted");
    until_quote(&mut events, "lamp", (6, 4500)).await;
    let failed = follow_until(&buyer, accepted.value, Stage::Failed, NEWS_WITHIN).await;
    assert_eq!(failed.stage, Stage::Failed);
    until_quote(&mut events, "lamp", (10, 4500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_price_in_the_store_reaches_a_follower() {
    let (cluster, watcher) = shop(ringshop_tests::paying(Duration::ZERO)).await;
    let mut events = watcher.follow_stock(all());
    until_quote(&mut events, "mug", (500, 1200)).await;
    cluster
        .sql("UPDATE products SET price_cents = 1350 WHERE id = 'mug'")
        .await;
    until_quote(&mut events, "mug", (500, 1350)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_goes_on_from_the_next_owner_when_one_dies() {
    let (mut cluster, watcher) = shop(ringshop_tests::paying(Duration::ZERO)).await;
    let buyer = cluster.client().await;
    let mut events = watcher.follow_stock(all());
    let owner = until_quote(&mut events, "teapot", (14, 3900)).await;
    cluster.kill(&owner).await;
    // Said once, then the teapot comes from its next owner.
    let lost = tokio::time::timeout(NEWS_WITHIN, async {
        loop {
            match events.recv().await.expect("following") {
                StockEvent::Lost { node, products, .. } => break (node, products),
                StockEvent::Quotes { .. } => {}
            }
        }
    })
    .await
    .expect("the loss is said");
    assert_eq!(lost.0, owner);
    assert!(lost.1.contains(&product("teapot")), "{lost:?}");
    let next = until_quote(&mut events, "teapot", (14, 3900)).await;
    assert_ne!(next, owner);
    buyer
        .checkout(&new_order("ada", &[("teapot", 1)]))
        .await
        .expect("accepted");
    until_quote(&mut events, "teapot", (13, 3900)).await;
}
