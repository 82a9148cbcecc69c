//! The shop on real nodes: stock is never oversold, an order runs once whatever is resent or
//! killed, the main is told of every stage, quotes are cached at their owner, and bad input is
//! a typed error that reserves and stores nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use ringshop_node::shop::checkout::Payment;
use ringshop_shared::transport::Security;
use ringshop_shared::{NewOrder, Order, OrderId, ShardError, Stage, transport};
use ringshop_tests::{TestCluster, follow, name};
use ringshop_tui::ClusterError;

const CATALOG: &str = "\
lamp,Desk lamp,home,4500,10
mug,Mug,tea,1200,500
teapot,Teapot,tea,3900,3
";

use ringshop_tests::product as p;

fn quick() -> Payment {
    ringshop_tests::paying(Duration::from_millis(200))
}

fn order(lines: &[(&str, u32)]) -> NewOrder {
    ringshop_tests::new_order("tester", lines)
}

/// How long a test follows one order to its end.
const FOLLOW_FOR: Duration = Duration::from_secs(30);

fn assert_balanced(audit: &BTreeMap<String, ringshop_node::store::Audit>) {
    for (id, a) in audit {
        assert_eq!(
            a.initial,
            a.left + a.sold + a.held,
            "{id}: initial = left + sold + held"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_buyers_of_ten_lamps_exactly_ten_succeed() {
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, quick());
    for i in 1..=3 {
        cluster.add_in_process(name(i)).await;
    }
    let client = cluster.client().await;
    let done = ringshop_tests::buy_one_each(&client, 50, "lamp", "tester").await;
    assert_eq!(done, 10);
    let audit = cluster.audit().await;
    assert_eq!(
        (audit["lamp"].left, audit["lamp"].sold, audit["lamp"].held),
        (0, 10, 0)
    );
    assert_balanced(&audit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_main_is_told_of_each_stage_and_the_order_is_bought() {
    // Paying lasts long enough that even a slow machine's watch sees it as its own stage.
    let payment = Payment {
        delay: Duration::from_millis(800),
        failure_rate: 0.0,
    };
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, payment);
    for i in 1..=3 {
        cluster.add_in_process(name(i)).await;
    }
    let client = cluster.client().await;
    let placed = order(&[("mug", 2), ("teapot", 1)]);
    let accepted = client.checkout(&placed).await.expect("accepted");
    assert_eq!(
        accepted.report.node,
        client.owner(&placed.id).expect("owned"),
        "it runs on the order id's owner"
    );
    let (done, stages) = follow(&client, accepted.value, Stage::Done, FOLLOW_FOR).await;
    assert_eq!(done.stage, Stage::Done);
    assert!(
        stages.windows(2).all(|w| w[0] < w[1]),
        "stages only move forward: {stages:?}"
    );
    assert!(
        stages.contains(&Stage::Paying),
        "paying lasts 200 ms and is seen: {stages:?}"
    );
    assert_eq!(done.total_cents, 2 * 1200 + 3900);
    assert_eq!(done.items(), 3);
    let stored = client.order(placed.id).await.expect("stored");
    assert_eq!(stored.stage, Stage::Done);
    let listed = client.orders(Some("tester".into())).await.expect("listed");
    assert_eq!(listed.len(), 1);
    assert_balanced(&cluster.audit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_order_id_sent_twice_and_concurrently_through_two_clients_is_one_order() {
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, quick());
    for i in 1..=3 {
        cluster.add_in_process(name(i)).await;
    }
    let (a, b) = (cluster.client().await, cluster.client().await);
    let placed = order(&[("teapot", 2)]);
    let (x, y) = tokio::join!(a.checkout(&placed), b.checkout(&placed));
    let (x, y) = (x.expect("accepted").value, y.expect("accepted").value);
    assert_eq!(
        (x.id, x.created_at),
        (y.id, y.created_at),
        "the same stored order"
    );
    let again = a.checkout(&placed).await.expect("answered").value;
    assert_eq!(again.created_at, x.created_at);
    let (done, _) = follow(&a, again, Stage::Done, FOLLOW_FOR).await;
    assert_eq!(done.stage, Stage::Done);
    let all = a.orders(None).await.expect("listed");
    assert_eq!(all.iter().filter(|o| o.id == placed.id).count(), 1);
    let audit = cluster.audit().await;
    assert_eq!(
        (audit["teapot"].sold, audit["teapot"].left),
        (2, 1),
        "bought once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_order_sent_to_every_node_at_once_is_stored_by_its_owner_only() {
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, quick());
    for i in 1..=3 {
        cluster.add_in_process(name(i)).await;
    }
    let client = cluster.client().await;
    let epoch = client.epoch();
    let placed = order(&[("mug", 1)]);
    let owner = client.owner(&placed.id).expect("owned");
    let sends = cluster.addrs().into_iter().flat_map(|addr| {
        let placed = placed.clone();
        (0..2).map(move |_| {
            let placed = placed.clone();
            async move {
                let node = transport::connect_shard(addr, Duration::from_secs(1), &Security::Plain)
                    .await
                    .expect("connects");
                node.checkout(transport::context(Duration::from_secs(2)), placed, epoch)
                    .await
                    .expect("answers")
            }
        })
    });
    let answers = futures::future::join_all(sends).await;
    let accepted: Vec<&Order> = answers.iter().filter_map(|a| a.as_ref().ok()).collect();
    assert_eq!(
        accepted.len(),
        2,
        "the owner accepts (both times), the others redirect"
    );
    assert!(
        accepted
            .iter()
            .all(|o| o.node == owner && o.created_at == accepted[0].created_at)
    );
    let moved = answers
        .iter()
        .filter(|a| matches!(a, Err(ShardError::Moved { owner: o, .. }) if *o == owner))
        .count();
    assert_eq!(moved, 4);
    let (done, _) = follow(&client, accepted[0].clone(), Stage::Done, FOLLOW_FOR).await;
    assert_eq!(done.stage, Stage::Done);
    assert_eq!(client.orders(None).await.expect("listed").len(), 1);
    assert_eq!(cluster.audit().await["mug"].sold, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_is_a_hit_within_the_ttl_names_its_node_and_is_reloaded_after() {
    let ttl = Duration::from_millis(1000);
    let mut cluster = TestCluster::shop(ttl, CATALOG, quick());
    for i in 1..=3 {
        cluster.add_in_process(name(i)).await;
    }
    let client = cluster.client().await;
    let first = client.quote(&p("mug")).await.expect("quoted");
    let second = client.quote(&p("mug")).await.expect("quoted");
    assert!(!first.value.hit && second.value.hit);
    assert_eq!(second.value.node, client.owner(&p("mug")).expect("owned"));
    assert_eq!(second.value.value.stock_left, 500);
    assert_eq!(second.value.value.product.price_cents, 1200);
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    let third = client.quote(&p("mug")).await.expect("quoted");
    assert!(!third.value.hit, "reloaded after the TTL");
    let rows = client.quotes(&[p("mug"), p("lamp"), p("teapot")]).await;
    assert!(rows.iter().all(|(_, r)| r.as_ref().is_ok_and(|r| !r.stale)));
}

/// What a refusal must look like.
type Expect = fn(&ShardError) -> bool;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_orders_are_typed_errors_and_reserve_or_store_nothing() {
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, quick());
    for i in 1..=2 {
        cluster.add_in_process(name(i)).await;
    }
    let client = cluster.client().await;
    let before = cluster.audit().await;
    let cases: Vec<(NewOrder, Expect)> = vec![
        (order(&[("nope", 1)]), |e| {
            matches!(e, ShardError::UnknownProduct { .. })
        }),
        (order(&[("mug", 0)]), |e| {
            matches!(e, ShardError::BadQuantity { .. })
        }),
        (order(&[("mug", 21)]), |e| {
            matches!(e, ShardError::BadQuantity { .. })
        }),
        (order(&[]), |e| matches!(e, ShardError::EmptyOrder)),
        (order(&[("teapot", 4)]), |e| {
            matches!(e, ShardError::OutOfStock { left: 3, .. })
        }),
    ];
    for (bad, expected) in cases {
        match client.checkout(&bad).await {
            Err(ClusterError::Shard { error, .. }) => assert!(expected(&error), "{bad:?}: {error}"),
            other => panic!("{bad:?}: expected a typed refusal, got {other:?}"),
        }
    }
    assert!(
        client.orders(None).await.expect("listed").is_empty(),
        "nothing stored"
    );
    let after = cluster.audit().await;
    for (id, a) in &after {
        assert_eq!(
            (a.left, a.held),
            (before[id].left, before[id].held),
            "{id}: nothing reserved"
        );
    }
    let unknown = client
        .order(OrderId::random())
        .await
        .expect_err("no such order");
    assert!(matches!(
        unknown,
        ClusterError::Shard {
            error: ShardError::UnknownOrder { .. },
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_payment_fails_the_order_and_releases_its_stock() {
    let payment = Payment {
        delay: Duration::from_millis(50),
        failure_rate: 1.0,
    };
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, payment);
    cluster.add_in_process(name(1)).await;
    let client = cluster.client().await;
    let accepted = client
        .checkout(&order(&[("teapot", 2)]))
        .await
        .expect("accepted");
    let (failed, _) = follow(&client, accepted.value, Stage::Done, FOLLOW_FOR).await;
    assert_eq!(failed.stage, Stage::Failed);
    assert_eq!(failed.reason.as_deref(), Some("payment declined"));
    let audit = cluster.audit().await;
    assert_eq!(
        (
            audit["teapot"].left,
            audit["teapot"].sold,
            audit["teapot"].held
        ),
        (3, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_catalog_stops_the_node_naming_the_line() {
    let cluster = TestCluster::shop(Duration::from_secs(5), "mug,Mug,tea,12.00,5\n", quick());
    let config = ringshop_node::Config::new(name(1), "127.0.0.1:0".parse().expect("addr"))
        .with_db(cluster.db())
        .with_catalog(cluster.db().with_file_name("catalog.csv"));
    let err = ringshop_node::serve(config).await.err().expect("refused");
    let text = err.to_string();
    assert!(
        text.contains("catalog.csv line 1") && text.contains("price"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_owner_gone_the_last_quotes_come_back_marked_stale() {
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, quick());
    cluster.add_in_process(name(1)).await;
    let client = cluster.client().await;
    let ids = [p("mug"), p("lamp")];
    let fresh = client.quotes(&ids).await;
    assert!(
        fresh
            .iter()
            .all(|(_, r)| r.as_ref().is_ok_and(|r| !r.stale))
    );
    cluster.kill(&name(1)).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let rows = client.quotes(&ids).await;
    for (id, row) in rows {
        let row = row.unwrap_or_else(|e| panic!("{id}: the last quote, not {e}"));
        assert!(row.stale, "{id} is marked stale");
        assert!(
            row.seen_ago >= Duration::from_millis(50),
            "{id} says how old it is"
        );
        assert_eq!(row.quote.node, name(1), "{id}: it says where it came from");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buy_goes_through_while_the_products_owner_is_dead() {
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, quick());
    for i in 1..=3 {
        cluster.add_in_process(name(i)).await;
    }
    let client = cluster.client().await;
    let product_owner = client.owner(&p("lamp")).expect("owned");
    // An order whose own owner survives, for a product whose owner is killed.
    let placed = loop {
        let o = order(&[("lamp", 1)]);
        if client.owner(&o.id).as_ref() != Some(&product_owner) {
            break o;
        }
    };
    cluster.kill(&product_owner).await;
    let accepted = client.checkout(&placed).await.expect("accepted");
    let (done, _) = follow(&client, accepted.value, Stage::Done, FOLLOW_FOR).await;
    assert_eq!(
        done.stage,
        Stage::Done,
        "reserved on the product's next owner"
    );
    let audit = cluster.audit().await;
    assert_eq!(audit["lamp"].sold, 1);
    assert_balanced(&audit);
}

/// A watch that comes after the order's job ended it (common: with no payment delay a job ends
/// in milliseconds) is answered from what the job last stored, not by reading the store again
/// (a final order never changes): with every read of an order failing, the watch still says
/// done. Before, each such watch read the order: one store statement per order of the shop
/// bench's seven and a half.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_after_the_job_ended_is_answered_without_reading_the_store() {
    use ringshop_node::store::faulty::{Fault, Faults, FaultyStore, Rule};
    let faults = Faults::new();
    let mut cluster = TestCluster::shop(
        Duration::from_secs(5),
        "mug,Mug,tea,1200,100\n",
        ringshop_tests::paying(Duration::ZERO),
    );
    let f = faults.clone();
    cluster
        .add_in_process_on(name(1), move |store| {
            std::sync::Arc::new(FaultyStore::new(store, f))
        })
        .await;
    let client = cluster.client().await;
    let placed = client
        .checkout(&ringshop_tests::new_order("ada", &[("mug", 1)]))
        .await
        .expect("placed")
        .value;
    let (done, _) = follow(
        &client,
        placed.clone(),
        Stage::Done,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(done.stage, Stage::Done);
    // The job has ended by now (it ends as it stores done); every read of an order fails.
    tokio::time::sleep(Duration::from_millis(200)).await;
    faults.set(vec![Rule::method("order", Fault::Io, 1.0)]);
    let watched = client
        .watch_order(placed.id, placed.progress())
        .await
        .expect("answered without the store");
    assert_eq!(watched.value.stage, Stage::Done);
    assert_eq!(
        (watched.value.id, watched.value.updated_at),
        (done.id, done.updated_at),
        "the order as stored"
    );
    assert!(
        client.order(placed.id).await.is_err(),
        "the order's reads do fail (so the watch did not read it)"
    );
}
