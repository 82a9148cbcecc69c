//! The reaper on a real store: what one pass gives back (SQLite), and the loop's life (the
//! memory store on paused time: the periods pass in microseconds and never race the machine).

use ringshop_shared::{NewOrder, NodeId, OrderLine, ProductId, Stage};

use super::*;
use crate::shop::catalog::parse;
use crate::store::test_support::Fixture;
use crate::store::{Audit, Millis, Store};

const NOW: Millis = 10_000_000;
const AGE: Duration = Duration::from_secs(10);

fn mug() -> ProductId {
    ProductId::new("mug").expect("valid")
}

/// `fixture` selling 10 mugs, its clock at `NOW`.
async fn seeded(fixture: Fixture) -> Fixture {
    fixture.clock.set(NOW);
    let entries = parse("t", "mug,Mug,tea,1200,10\n").expect("valid");
    fixture.store.seed(&entries).await.expect("seeds");
    fixture
}

/// An order holding one mug since `held_ms`, at stage reserving; the clock back at `NOW`.
async fn holding(f: &Fixture, held_ms: Millis) -> OrderId {
    f.clock.set(held_ms);
    let me = NodeId::new("n1").expect("valid");
    let order = NewOrder {
        id: OrderId::random(),
        customer: "ada".into(),
        lines: vec![OrderLine {
            product: mug(),
            qty: 1,
        }],
    };
    let stored = f
        .store
        .create_order(&order, 1200, &me, None)
        .await
        .expect("stored");
    f.store
        .advance(&stored, Stage::Reserving, &me, None)
        .await
        .expect("moves")
        .expect("unmoved before");
    f.store.reserve(order.id, &mug(), 1).await.expect("held");
    f.clock.set(NOW);
    order.id
}

/// A failed order still holding one mug since `held_ms` (a stray).
async fn stray(f: &Fixture, held_ms: Millis) -> OrderId {
    let order = holding(f, held_ms).await;
    f.fail_keeping_holds(order).await;
    order
}

async fn mugs(store: &dyn Store) -> Audit {
    store
        .audit()
        .await
        .expect("audits")
        .into_iter()
        .find(|a| a.product == mug())
        .expect("mug")
}

#[tokio::test]
async fn a_pass_gives_back_the_old_holds_of_failed_orders_this_node_owns() {
    let f = seeded(Fixture::sqlite().await).await;
    stray(&f, NOW - 60_000).await;
    let released = reap_once(&*f.store, AGE, |_| true).await.expect("reaps");
    assert_eq!(released, 1);
    let books = mugs(&*f.store).await;
    assert_eq!((books.left, books.held), (10, 0));
}

#[tokio::test]
async fn a_pass_leaves_young_holds_open_orders_and_other_nodes_orders_alone() {
    let f = seeded(Fixture::sqlite().await).await;
    stray(&f, NOW - 1_000).await;
    holding(&f, NOW - 60_000).await;
    let theirs = stray(&f, NOW - 60_000).await;
    let released = reap_once(&*f.store, AGE, |order| *order != theirs)
        .await
        .expect("reaps");
    assert_eq!(released, 0);
    assert_eq!(mugs(&*f.store).await.held, 3);
}

#[tokio::test]
async fn a_pass_gives_back_old_holds_with_no_order_whoever_owns_the_id() {
    let f = seeded(Fixture::sqlite().await).await;
    let orphan = holding(&f, NOW - 60_000).await;
    f.forget_order(orphan).await;
    let released = reap_once(&*f.store, AGE, |_| false).await.expect("reaps");
    assert_eq!(released, 1);
    assert_eq!(mugs(&*f.store).await.held, 0);
}

#[test]
fn a_stray_of_a_stored_order_is_its_owners_and_one_with_no_order_anyones() {
    let hold = |stage| StrayHold {
        order: OrderId::random(),
        product: mug(),
        qty: 1,
        stage,
        held_ms: 0,
    };
    assert!(is_ours(&hold(None), false), "no order: anyone's");
    assert!(!is_ours(&hold(Some(Stage::Failed)), false), "its owner's");
    assert!(is_ours(&hold(Some(Stage::Failed)), true));
}

#[tokio::test(start_paused = true)]
async fn the_reaper_gives_back_stray_holds_every_period() {
    let f = seeded(Fixture::memory()).await;
    let shutdown = CancellationToken::new();
    let reaper = tokio::spawn(run(
        f.store.clone(),
        EVERY,
        Duration::ZERO,
        |_: &OrderId| true,
        shutdown.clone(),
    ));
    // The first pass runs at once, before there is a stray.
    tokio::time::sleep(Duration::from_millis(1)).await;
    stray(&f, NOW - 1).await;
    tokio::time::sleep(EVERY - Duration::from_millis(10)).await;
    assert_eq!(mugs(&*f.store).await.held, 1, "not before the next period");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        mugs(&*f.store).await.held,
        0,
        "given back at the next period"
    );
    shutdown.cancel();
    reaper.await.expect("the reaper ends");
}

#[tokio::test(start_paused = true)]
async fn the_reaper_stops_at_shutdown() {
    let f = seeded(Fixture::memory()).await;
    let shutdown = CancellationToken::new();
    let reaper = tokio::spawn(run(
        f.store.clone(),
        Duration::from_secs(3600),
        AGE,
        |_: &OrderId| true,
        shutdown.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(20)).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(1), reaper)
        .await
        .expect("stops within a second")
        .expect("without panicking");
}
