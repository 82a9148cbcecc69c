//! The shop's books hold under any fault: a released or sold hold is never held again, holds
//! belong to an open order's lines, leftover holds of failed orders are given back, order
//! jobs retry store errors instead of failing or stalling, and after quiesce every product has
//! `initial == left + sold`, nothing held, and `sold ==` the units of its `done` orders.

use std::time::{Duration, Instant};

use ringshop_node::SqliteStore;
use ringshop_node::shop::checkout::Payment;
use ringshop_node::shop::reaper;
use ringshop_node::store::{Books, Clock, Orders, now_ms};
use ringshop_shared::transport::Security;
use ringshop_shared::{NewOrder, Order, OrderId, ProductId, ShardError, Stage, transport};
use ringshop_tests::{TestCluster, name};
use ringshop_tui::Cluster;

const CATALOG: &str = "\
lamp,Desk lamp,home,4500,10
mug,Mug,tea,1200,500
teapot,Teapot,tea,3900,3
";

use ringshop_tests::{follow_until, paying as paying_for, product as p};

fn order(lines: &[(&str, u32)]) -> NewOrder {
    ringshop_tests::new_order("books", lines)
}

async fn until_final(client: &Cluster, o: Order) -> Order {
    follow_until(client, o, Stage::Done, Duration::from_secs(15)).await
}

/// A raw connection to the node that owns `product`, as another node (or a stray client)
/// would call it.
async fn product_owner(
    cluster: &TestCluster,
    client: &Cluster,
    product: &ProductId,
) -> ringshop_shared::ShardClient {
    let owner = client.owner(product).expect("owned");
    transport::connect_shard(
        cluster.node(&owner).addr,
        Duration::from_secs(2),
        &Security::Plain,
    )
    .await
    .expect("connects")
}

fn ctx() -> tarpc::context::Context {
    transport::context(Duration::from_secs(5))
}

async fn store(cluster: &TestCluster) -> SqliteStore {
    SqliteStore::open(&cluster.db())
        .await
        .expect("opens the store")
}

async fn left(cluster: &TestCluster, product: &str) -> u64 {
    cluster.audit().await[product].left
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_released_under_a_paying_order_fails_it_instead_of_selling_it_short() {
    // Paying lasts long enough for the release below to land before it ends, even when slow.
    let mut cluster = TestCluster::shop(
        Duration::from_secs(5),
        CATALOG,
        paying_for(Duration::from_millis(2500)),
    );
    cluster.add_in_process(name(1)).await;
    let client = cluster.client().await;
    let placed = client
        .checkout(&order(&[("mug", 2), ("teapot", 1)]))
        .await
        .expect("accepted")
        .value;
    let paying = follow_until(&client, placed, Stage::Paying, Duration::from_secs(10)).await;
    assert_eq!(paying.stage, Stage::Paying);
    // Released behind the job's back (no RPC does this: the store, as the reaper could).
    let released = cluster
        .store()
        .await
        .release(paying.id, &p("teapot"))
        .await
        .expect("the store answers");
    assert!(released, "the teapot was held");
    let end = until_final(&client, paying).await;
    assert_eq!(
        end.stage,
        Stage::Failed,
        "a line that is no longer held cannot be bought"
    );
    for a in cluster.audit().await.values() {
        assert_eq!(
            (a.sold, a.held, a.left),
            (0, 0, a.initial),
            "{}: nothing sold to a failed order, nothing left held",
            a.product
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_for_an_order_never_placed_is_refused_and_holds_nothing() {
    let mut cluster = TestCluster::shop(
        Duration::from_secs(5),
        CATALOG,
        paying_for(Duration::from_millis(50)),
    );
    cluster.add_in_process(name(1)).await;
    let client = cluster.client().await;
    let owner = product_owner(&cluster, &client, &p("lamp")).await;
    let made_up = OrderId::random();
    let answer = owner
        .reserve(ctx(), made_up, p("lamp"), 10, client.epoch())
        .await
        .expect("answers");
    match answer {
        Err(ShardError::NoOpenOrder { order, .. }) => assert_eq!(order, made_up),
        other => panic!("a made-up order holds nothing, got {other:?}"),
    }
    assert_eq!(left(&cluster, "lamp").await, 10, "the stock is untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_orders_line_is_never_held_again() {
    let declined = Payment {
        delay: Duration::from_millis(50),
        failure_rate: 1.0,
    };
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, declined);
    cluster.add_in_process(name(1)).await;
    let client = cluster.client().await;
    let placed = client
        .checkout(&order(&[("teapot", 2)]))
        .await
        .expect("accepted")
        .value;
    let failed = until_final(&client, placed).await;
    assert_eq!(failed.stage, Stage::Failed);
    let owner = product_owner(&cluster, &client, &p("teapot")).await;
    let again = owner
        .reserve(ctx(), failed.id, p("teapot"), 2, client.epoch())
        .await
        .expect("answers");
    assert!(
        matches!(again, Err(ShardError::NoOpenOrder { order, .. }) if order == failed.id),
        "refused, not held: {again:?}"
    );
    assert_eq!(left(&cluster, "teapot").await, 3, "all three teapots left");
}

/// One node paying after `delay`, whose store fails every statement that `when` names (the
/// trigger `fault`, until the test drops it).
async fn one_node_failing(delay: Duration, when: &str) -> (TestCluster, Cluster) {
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, paying_for(delay));
    cluster.add_in_process(name(1)).await;
    let client = cluster.client().await;
    let fault =
        format!("CREATE TRIGGER fault {when} BEGIN SELECT RAISE(ABORT, 'injected fault'); END;");
    cluster.sql(&fault).await;
    (cluster, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_error_while_reserving_is_retried_and_the_order_is_bought() {
    let (cluster, client) =
        one_node_failing(Duration::from_millis(50), "BEFORE INSERT ON reservations").await;
    let placed = client
        .checkout(&order(&[("lamp", 1)]))
        .await
        .expect("accepted")
        .value;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let meanwhile = client.order(placed.id).await.expect("stored");
    assert!(
        meanwhile.stage <= Stage::Reserving,
        "a store error is no reason to fail the order: {:?} {:?}",
        meanwhile.stage,
        meanwhile.reason
    );
    cluster.sql("DROP TRIGGER fault;").await;
    let end = until_final(&client, meanwhile).await;
    assert_eq!(end.stage, Stage::Done);
    assert_eq!(left(&cluster, "lamp").await, 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_error_while_selling_is_retried_and_the_order_is_bought() {
    let (cluster, client) = one_node_failing(
        Duration::from_millis(100),
        "BEFORE UPDATE OF state ON reservations WHEN NEW.state = 'sold'",
    )
    .await;
    let placed = client
        .checkout(&order(&[("lamp", 1)]))
        .await
        .expect("accepted")
        .value;
    let paying = follow_until(&client, placed, Stage::Paying, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    cluster.sql("DROP TRIGGER fault;").await;
    let end = until_final(&client, paying).await;
    assert_eq!(end.stage, Stage::Done, "bought once the store works again");
    let lamp = &cluster.audit().await["lamp"];
    assert_eq!((lamp.sold, lamp.held, lamp.left), (1, 0, 9));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_orders_stray_hold_is_given_back_by_its_owners_reaper() {
    let mut cluster = TestCluster::shop(
        Duration::from_secs(5),
        CATALOG,
        paying_for(Duration::from_millis(50)),
    );
    cluster.add_in_process(name(1)).await;
    // A store whose clock reads a minute ago: the order and its hold are a minute old.
    let store = store(&cluster)
        .await
        .with_clock(Clock::manual(now_ms() - 60_000));
    let placed = order(&[("teapot", 2)]);
    store
        .create_order(&placed, 7800, &name(1), None)
        .await
        .expect("stored");
    store
        .reserve(placed.id, &p("teapot"), 2)
        .await
        .expect("held");
    // Failed the way a database from before schema version 4 could be: holds kept. (REPLACE
    // fires no update trigger; today failing an order gives its holds back at once.)
    cluster
        .sql(&format!(
            "INSERT OR REPLACE INTO orders
             SELECT id, customer, total_cents, 'failed', 'crashed', owner, created_ms,
                    updated_ms, version + 1, trace_parent FROM orders WHERE id = '{}'",
            placed.id
        ))
        .await;
    assert_eq!(left(&cluster, "teapot").await, 1, "two teapots stray");
    let started = Instant::now();
    while left(&cluster, "teapot").await != 3 {
        assert!(
            started.elapsed() < reaper::EVERY + Duration::from_secs(5),
            "the stray hold is still held after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let teapot = &cluster.audit().await["teapot"];
    assert!(teapot.settled(), "{teapot:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_busy_day_of_declines_and_sellouts_sold_is_exactly_the_units_of_done_orders() {
    let payment = Payment {
        delay: Duration::from_millis(100),
        failure_rate: 0.25,
    };
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, payment);
    for i in 1..=3 {
        cluster.add_in_process(name(i)).await;
    }
    let client = cluster.client().await;
    let mut rng = fastrand::Rng::with_seed(8);
    let orders: Vec<NewOrder> = (0..30)
        .map(|_| match rng.u8(0..3) {
            0 => order(&[("lamp", rng.u32(1..=2))]),
            1 => order(&[("teapot", 1), ("mug", rng.u32(1..=3))]),
            _ => order(&[("mug", rng.u32(1..=3)), ("lamp", 1)]),
        })
        .collect();
    let buyers = orders.into_iter().map(|o| {
        let client = client.clone();
        tokio::spawn(async move {
            match client.checkout(&o).await {
                Ok(accepted) => Some(until_final(&client, accepted.value).await),
                Err(_) => None, // refused before it was stored: not acknowledged
            }
        })
    });
    let mut acked = Vec::new();
    for b in futures::future::join_all(buyers).await {
        acked.extend(b.expect("buyer finished"));
    }
    let store = store(&cluster).await;
    let books = store.audit_orders().await.expect("audits orders");
    assert_eq!(books.open, 0);
    assert_eq!(books.done + books.failed, acked.len() as u64);
    let listed = client.orders(Some("books".into())).await.expect("listed");
    for o in &acked {
        assert!(o.stage.is_final());
        let times = listed.iter().filter(|l| l.id == o.id).count();
        assert_eq!(times, 1, "order {} stored once", o.id);
    }
    for a in cluster.audit().await.values() {
        let done_units: u64 = acked
            .iter()
            .filter(|o| o.stage == Stage::Done)
            .flat_map(|o| &o.lines)
            .filter(|l| l.product == a.product)
            .map(|l| u64::from(l.qty))
            .sum();
        assert_eq!(
            a.done_units, done_units,
            "{}: the audit reads the done orders",
            a.product
        );
        assert!(
            a.settled(),
            "initial = left + sold, nothing held, sold = done units: {a:?}"
        );
    }
    assert!(
        books.done > 0 && books.failed > 0,
        "the day had both: {books:?}"
    );
}
