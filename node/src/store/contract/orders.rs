//! Orders: stored once under their id, moved on only from the version they were read at, and
//! stamped on the store's clock.

use std::time::Duration;

use ringshop_shared::{NewOrder, OrderId, OrderLine, Stage};

use super::super::test_support::{Fixture, contract_tests, p};
use super::me;

contract_tests!(
    an_order_is_stored_once_and_moves_on_only_from_its_version,
    two_nodes_moving_one_order_at_once_move_it_once,
);

fn mugs(qty: u32) -> NewOrder {
    NewOrder {
        id: OrderId::random(),
        customer: "ada".into(),
        lines: vec![OrderLine {
            product: p("mug"),
            qty,
        }],
    }
}

/// A W3C traceparent, as a traced checkout stores it.
const PLACED_IN: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async fn an_order_is_stored_once_and_moves_on_only_from_its_version(f: Fixture) {
    let f = f.seeded().await;
    let order = mugs(2);
    let first = f
        .at(1_000)
        .store
        .create_order(&order, 2400, &me(), Some(PLACED_IN))
        .await
        .expect("stored");
    assert_eq!(first.trace_parent.as_deref(), Some(PLACED_IN));
    let again = f
        .at(2_000)
        .store
        .create_order(
            &order,
            9999,
            &me(),
            Some("00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01"),
        )
        .await
        .expect("same");
    assert_eq!(first, again, "the same id answers the stored order");
    let moved = f
        .at(1_500)
        .store
        .advance(&first, Stage::Reserving, &me(), None)
        .await
        .expect("ok")
        .expect("moved");
    assert_eq!(moved.order.stage, Stage::Reserving);
    assert_eq!(
        Some(&moved),
        f.store.order(order.id).await.expect("reads").as_ref(),
        "a move answers the order exactly as a read of it does"
    );
    assert_eq!(
        moved.trace_parent.as_deref(),
        Some(PLACED_IN),
        "the trace it was placed in stays with it"
    );
    assert_eq!(moved.order.elapsed, Duration::from_millis(500));
    let stale = f
        .at(1_600)
        .store
        .advance(&first, Stage::Paying, &me(), None)
        .await
        .expect("ok");
    assert!(stale.is_none(), "a stale version loses");
    assert_eq!(f.store.open_orders().await.expect("ok").len(), 1);
    assert_eq!(f.store.orders(Some("ada"), 10).await.expect("ok").len(), 1);
    assert!(
        f.store
            .orders(Some("bob"), 10)
            .await
            .expect("ok")
            .is_empty()
    );
}

async fn two_nodes_moving_one_order_at_once_move_it_once(f: Fixture) {
    let f = f.seeded().await;
    let other = f.second().await;
    let order = mugs(1);
    let stored = f
        .store
        .create_order(&order, 1200, &me(), None)
        .await
        .expect("stored");
    let tries = [f.store.clone(), other].map(|store| {
        let stored = stored.clone();
        tokio::spawn(async move {
            store
                .advance(&stored, Stage::Reserving, &me(), None)
                .await
                .expect("no store error")
                .is_some()
        })
    });
    let moved = futures::future::join_all(tries)
        .await
        .into_iter()
        .filter(|t| *t.as_ref().expect("task"))
        .count();
    assert_eq!(moved, 1, "one compare-and-set wins");
    let now = f
        .store
        .order(order.id)
        .await
        .expect("reads")
        .expect("stored");
    assert_eq!(now.version, stored.version + 1);
}
