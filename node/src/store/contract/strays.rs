//! Failing gives holds back; stray holds for the reaper; the audit of products and orders.

use std::time::Duration;

use super::super::test_support::{Fixture, contract_tests, p};
use super::*;
use crate::store::{HoldState, OrderAudit};

contract_tests!(
    failing_an_order_gives_back_its_holds_in_the_same_statement,
    an_order_failed_by_one_node_while_another_holds_its_lines_keeps_no_hold,
    stray_holds_are_old_holds_of_failed_or_missing_orders,
    a_stray_hold_is_given_back_once_and_only_while_its_order_is_over,
    the_audit_counts_the_units_of_done_orders_per_product,
    the_order_audit_counts_open_done_and_failed_orders,
);

async fn failing_an_order_gives_back_its_holds_in_the_same_statement(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 3), ("teapot", 2)]).await;
    reserve(&f, a, "mug", 3).await;
    reserve(&f, a, "teapot", 2).await;
    to_stage(&f, a, Stage::Failed).await.expect("fails");
    assert_eq!(
        f.store.holds(a).await.expect("reads"),
        vec![
            (p("mug"), HoldState::Released),
            (p("teapot"), HoldState::Released)
        ]
    );
    for product in ["mug", "teapot"] {
        let books = audit_of(&f, product).await;
        assert_eq!((books.left, books.held), (books.initial, 0), "{product}");
    }
}

async fn an_order_failed_by_one_node_while_another_holds_its_lines_keeps_no_hold(f: Fixture) {
    let f = shop(f).await;
    let other = f.second().await;
    for _round in 0..5 {
        let mut orders = Vec::new();
        for _ in 0..4 {
            orders.push(placed(&f, &[("mug", 1), ("teapot", 1)]).await);
        }
        let mut tasks = Vec::new();
        for &id in &orders {
            let holder = other.clone();
            tasks.push(tokio::spawn(async move {
                for product in ["mug", "teapot"] {
                    match holder.reserve(id, &p(product), 1).await {
                        Ok(_)
                        | Err(
                            StoreError::NoOpenOrder { .. }
                            | StoreError::HoldReleased { .. }
                            | StoreError::OutOfStock { .. },
                        ) => {}
                        Err(e) => panic!("not an answer: {e}"),
                    }
                }
            }));
            let failer = f.store.clone();
            tasks.push(tokio::spawn(async move {
                let cur = failer.order(id).await.expect("reads").expect("stored");
                failer
                    .advance(&cur, Stage::Failed, &me(), Some("raced"))
                    .await
                    .expect("no store error");
            }));
        }
        for t in futures::future::join_all(tasks).await {
            t.expect("task");
        }
        for id in orders {
            let holds = f.store.holds(id).await.expect("reads");
            assert!(
                holds.iter().all(|(_, state)| *state == HoldState::Released),
                "a failed order holds {holds:?}"
            );
        }
    }
    for product in ["mug", "teapot"] {
        let books = audit_of(&f, product).await;
        assert_eq!((books.left, books.held), (books.initial, 0), "{product}");
    }
}

async fn stray_holds_are_old_holds_of_failed_or_missing_orders(f: Fixture) {
    let f = shop(f).await;
    let failed = failed_holding(&f, T0).await;
    let _young = failed_holding(&f, T0 + 10_000).await;
    f.at(T0);
    let open = placed(&f, &[("mug", 1)]).await;
    f.store.reserve(open, &p("mug"), 1).await.expect("held");
    f.at(T0 - 1);
    let orphan = placed(&f, &[("teapot", 1)]).await;
    f.store
        .reserve(orphan, &p("teapot"), 1)
        .await
        .expect("held");
    f.forget_order(orphan).await;
    let strays = f
        .at(T0 + 1)
        .store
        .stray_holds(Duration::ZERO, 100)
        .await
        .expect("lists");
    let found: Vec<(OrderId, Option<Stage>)> = strays.iter().map(|s| (s.order, s.stage)).collect();
    assert_eq!(
        found,
        vec![(orphan, None), (failed, Some(Stage::Failed))],
        "oldest first; not the open order's, not the young one"
    );
}

async fn a_stray_hold_is_given_back_once_and_only_while_its_order_is_over(f: Fixture) {
    let f = shop(f).await;
    let failed = failed_holding(&f, T0).await;
    let open = placed(&f, &[("mug", 2)]).await;
    f.store.reserve(open, &p("mug"), 2).await.expect("held");
    f.at(T0 + 1);
    let release = |order, older_than: u64| {
        let f = &f;
        async move {
            f.store
                .release_stray(order, &p("mug"), Duration::from_millis(older_than))
                .await
                .expect("ok")
        }
    };
    assert!(!release(failed, 1).await, "held 1 ms: not older than 1 ms");
    assert!(!release(open, 0).await, "its order is open");
    assert!(release(failed, 0).await);
    assert!(!release(failed, 0).await, "once");
    let mug = audit_of(&f, "mug").await;
    assert_eq!((mug.left, mug.held), (8, 2));
}

async fn the_audit_counts_the_units_of_done_orders_per_product(f: Fixture) {
    let f = shop(f).await;
    for lines in [
        &[("mug", 2), ("teapot", 1)][..],
        &[("teapot", 1), ("mug", 3)][..],
    ] {
        let a = placed(&f, lines).await;
        for (product, qty) in lines {
            reserve(&f, a, product, *qty).await;
        }
        to_stage(&f, a, Stage::Paying).await.expect("paying");
        f.store.sell(a).await.expect("sells");
        to_stage(&f, a, Stage::Done).await.expect("done");
    }
    let _failed = failed_holding(&f, T0).await;
    let mug = audit_of(&f, "mug").await;
    assert_eq!((mug.sold, mug.done_units, mug.held), (5, 5, 1));
    assert!(
        mug.balanced() && !mug.settled(),
        "a stray hold is not settled"
    );
    let teapot = audit_of(&f, "teapot").await;
    assert_eq!((teapot.sold, teapot.done_units), (2, 2));
    assert!(teapot.settled());
}

async fn the_order_audit_counts_open_done_and_failed_orders(f: Fixture) {
    let f = shop(f).await;
    assert_eq!(
        f.store.audit_orders().await.expect("audits"),
        OrderAudit::default()
    );
    placed(&f, &[("mug", 1)]).await;
    failed_holding(&f, T0).await;
    let done = placed(&f, &[("teapot", 1)]).await;
    reserve(&f, done, "teapot", 1).await;
    to_stage(&f, done, Stage::Paying).await.expect("paying");
    f.store.sell(done).await.expect("sells");
    to_stage(&f, done, Stage::Done).await.expect("done");
    assert_eq!(
        f.store.audit_orders().await.expect("audits"),
        OrderAudit {
            open: 1,
            done: 1,
            failed: 1
        }
    );
}
