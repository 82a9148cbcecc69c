//! The reaper on a real store: what one pass gives back, and the loop's life.

use std::sync::Arc;

use ringshop_shared::{NewOrder, NodeId, OrderLine, ProductId, Stage};

use super::*;
use crate::shop::catalog::parse;
use crate::store::{Audit, Books, Catalog, Clock, Millis, Orders, SqliteStore};

const NOW: Millis = 10_000_000;
const AGE: Duration = Duration::from_secs(10);

fn mug() -> ProductId {
    ProductId::new("mug").expect("valid")
}

/// A store selling 10 mugs, its clock set by hand (at `NOW`).
async fn seeded(dir: &tempfile::TempDir) -> (Arc<SqliteStore>, Clock) {
    let clock = Clock::manual(NOW);
    let store = SqliteStore::open(&dir.path().join("r.db"))
        .await
        .expect("opens")
        .with_clock(clock.clone());
    let entries = parse("t", "mug,Mug,tea,1200,10\n").expect("valid");
    store.seed(&entries).await.expect("seeds");
    (Arc::new(store), clock)
}

/// An order holding one mug since `held_ms`, at stage reserving; the clock back at `NOW`.
async fn holding(store: &SqliteStore, clock: &Clock, held_ms: Millis) -> OrderId {
    clock.set(held_ms);
    let me = NodeId::new("n1").expect("valid");
    let order = NewOrder {
        id: OrderId::random(),
        customer: "ada".into(),
        lines: vec![OrderLine {
            product: mug(),
            qty: 1,
        }],
    };
    let stored = store
        .create_order(&order, 1200, &me, None)
        .await
        .expect("stored");
    store
        .advance(order.id, stored.version, Stage::Reserving, &me, None)
        .await
        .expect("moves")
        .expect("unmoved before");
    store.reserve(order.id, &mug(), 1).await.expect("held");
    clock.set(NOW);
    order.id
}

/// A failed order still holding one mug since `held_ms` (a stray).
async fn stray(store: &SqliteStore, clock: &Clock, held_ms: Millis) -> OrderId {
    let order = holding(store, clock, held_ms).await;
    store.fail_keeping_holds(order).await;
    order
}

async fn mugs(store: &SqliteStore) -> Audit {
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
    let dir = tempfile::tempdir().expect("dir");
    let (store, clock) = seeded(&dir).await;
    stray(&store, &clock, NOW - 60_000).await;
    let released = reap_once(&*store, AGE, |_| true).await.expect("reaps");
    assert_eq!(released, 1);
    let books = mugs(&store).await;
    assert_eq!((books.left, books.held), (10, 0));
}

#[tokio::test]
async fn a_pass_leaves_young_holds_open_orders_and_other_nodes_orders_alone() {
    let dir = tempfile::tempdir().expect("dir");
    let (store, clock) = seeded(&dir).await;
    stray(&store, &clock, NOW - 1_000).await;
    holding(&store, &clock, NOW - 60_000).await;
    let theirs = stray(&store, &clock, NOW - 60_000).await;
    let released = reap_once(&*store, AGE, |order| *order != theirs)
        .await
        .expect("reaps");
    assert_eq!(released, 0);
    assert_eq!(mugs(&store).await.held, 3);
}

#[tokio::test]
async fn a_pass_gives_back_old_holds_with_no_order_whoever_owns_the_id() {
    let dir = tempfile::tempdir().expect("dir");
    let (store, clock) = seeded(&dir).await;
    let orphan = holding(&store, &clock, NOW - 60_000).await;
    store.forget_order(orphan).await;
    let released = reap_once(&*store, AGE, |_| false).await.expect("reaps");
    assert_eq!(released, 1);
    assert_eq!(mugs(&store).await.held, 0);
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

#[tokio::test]
async fn the_reaper_gives_back_stray_holds_every_period() {
    let dir = tempfile::tempdir().expect("dir");
    let (store, clock) = seeded(&dir).await;
    let shutdown = CancellationToken::new();
    let reaper = tokio::spawn(run(
        store.clone(),
        Duration::from_millis(50),
        Duration::ZERO,
        |_: &OrderId| true,
        shutdown.clone(),
    ));
    stray(&store, &clock, NOW - 1).await;
    let started = ringshop_shared::clock::now();
    while mugs(&store).await.held > 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "never reaped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    reaper.await.expect("the reaper ends");
}

#[tokio::test]
async fn the_reaper_stops_at_shutdown() {
    let dir = tempfile::tempdir().expect("dir");
    let (store, _clock) = seeded(&dir).await;
    let shutdown = CancellationToken::new();
    let reaper = tokio::spawn(run(
        store,
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
