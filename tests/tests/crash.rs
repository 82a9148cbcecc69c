//! Nothing acknowledged is lost and nothing runs twice: a node SIGKILLed while it runs
//! checkouts leaves every acknowledged order to finish exactly once on the next owner, and
//! every product keeps initial = sold + left.

use std::time::Duration;

use ringshop_node::shop::checkout::Payment;
use ringshop_shared::{NewOrder, Order, OrderId, OrderLine, ProductId, Stage};
use ringshop_tests::TestCluster;
use ringshop_tui::Cluster;

const CATALOG: &str = "lamp,Desk lamp,home,4500,40\nmug,Mug,tea,1200,40\n";

fn new_order(product: &str) -> NewOrder {
    NewOrder {
        id: OrderId::random(),
        customer: "crash".into(),
        lines: vec![OrderLine {
            product: ProductId::new(product).expect("valid"),
            qty: 1,
        }],
    }
}

async fn until_final(client: &Cluster, o: Order) -> Order {
    ringshop_tests::follow_until(client, o, Stage::Done, Duration::from_secs(30)).await
}

async fn until_stage(client: &Cluster, o: Order, stage: Stage) -> Order {
    ringshop_tests::follow_until(client, o, stage, Duration::from_secs(30)).await
}

/// Places `count` orders, kills the owner of the first once they reach `kill_at`, follows
/// them all to the end and checks the books.
async fn kill_during(kill_at: Stage, count: usize) {
    let payment = Payment {
        delay: Duration::from_millis(1200),
        failure_rate: 0.0,
    };
    let mut cluster = TestCluster::shop(Duration::from_secs(30), CATALOG, payment);
    for i in 1..=3 {
        cluster.add_process(ringshop_tests::name(i));
    }
    let client = cluster.client().await;
    let mut orders = Vec::new();
    for i in 0..count {
        let product = if i % 2 == 0 { "lamp" } else { "mug" };
        orders.push(
            client
                .checkout(&new_order(product))
                .await
                .expect("acknowledged")
                .value,
        );
    }
    let victim = client.owner(&orders[0].id).expect("owned");
    if kill_at > Stage::Accepted {
        orders[0] = until_stage(&client, orders[0].clone(), kill_at).await;
    }
    cluster.kill(&victim).await;
    let mut finished = Vec::new();
    for o in orders {
        finished.push(until_final(&client, o).await);
    }
    assert_ne!(
        finished[0].node, victim,
        "the killed node's order finished on another node"
    );
    let done = finished.iter().filter(|o| o.stage == Stage::Done).count() as u64;
    assert_eq!(
        done, count as u64,
        "stock was plenty: every acknowledged order is bought"
    );
    let listed = client.orders(Some("crash".into())).await.expect("listed");
    assert_eq!(listed.len(), count, "each order stored once");
    let audit = cluster.audit().await;
    let sold: u64 = audit.values().map(|a| a.sold).sum();
    assert_eq!(sold, done, "each bought once, never twice");
    for a in audit.values() {
        assert_eq!(a.held, 0, "{}: nothing left held", a.product);
        assert_eq!(
            a.initial,
            a.sold + a.left,
            "{}: initial = sold + left",
            a.product
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_right_after_acceptance_loses_and_repeats_nothing() {
    kill_during(Stage::Accepted, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_payment_loses_and_repeats_nothing() {
    kill_during(Stage::Paying, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarted_on_the_same_store_resumes_the_orders_it_owns() {
    let payment = Payment {
        delay: Duration::from_millis(800),
        failure_rate: 0.0,
    };
    let mut cluster = TestCluster::shop(Duration::from_secs(30), CATALOG, payment);
    let n1 = ringshop_tests::name(1);
    cluster.add_in_process(n1.clone()).await;
    let client = cluster.client().await;
    let mut orders = Vec::new();
    for _ in 0..3 {
        orders.push(
            client
                .checkout(&new_order("lamp"))
                .await
                .expect("acknowledged")
                .value,
        );
    }
    for o in orders.iter_mut() {
        *o = until_stage(&client, o.clone(), Stage::Paying).await;
    }
    // The only node dies mid-payment; nothing runs until it comes back on the same store.
    cluster.kill(&n1).await;
    drop(client);
    tokio::time::sleep(Duration::from_millis(2_600)).await; // its old row goes stale
    cluster.restart_in_process(&n1).await;
    let client = cluster.client().await;
    for o in orders {
        let done = until_final(&client, o).await;
        assert_eq!(done.stage, Stage::Done);
    }
    let lamp = &cluster.audit().await["lamp"];
    assert_eq!((lamp.sold, lamp.held, lamp.left), (3, 0, 37));
}
