//! Failing gives holds back; stray holds for the reaper; the audit of products and orders.

use super::*;

#[tokio::test]
async fn failing_an_order_gives_back_its_holds_in_the_same_statement() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 3), ("teapot", 2)]).await;
    reserve(&store, a, "mug", 3).await;
    reserve(&store, a, "teapot", 2).await;
    to_stage(&store, a, Stage::Failed).await.expect("fails");
    assert_eq!(
        store.holds(a).await.expect("reads"),
        vec![
            (p("mug"), HoldState::Released),
            (p("teapot"), HoldState::Released)
        ]
    );
    for product in ["mug", "teapot"] {
        let books = audit_of(&store, product).await;
        assert_eq!((books.left, books.held), (books.initial, 0), "{product}");
    }
}

#[tokio::test]
async fn stray_holds_are_old_holds_of_failed_or_missing_orders() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let failed = failed_holding(&store, T0).await;
    let _young = failed_holding(&store, T0 + 10_000).await;
    let open = placed(&store, &[("mug", 1)]).await;
    store.reserve(open, &p("mug"), 1, T0).await.expect("held");
    let orphan = placed(&store, &[("teapot", 1)]).await;
    store
        .reserve(orphan, &p("teapot"), 1, T0 - 1)
        .await
        .expect("held");
    store.forget_order(orphan).await;
    let strays = store.stray_holds(T0 + 1, 100).await.expect("lists");
    let found: Vec<(OrderId, Option<Stage>)> = strays.iter().map(|s| (s.order, s.stage)).collect();
    assert_eq!(
        found,
        vec![(orphan, None), (failed, Some(Stage::Failed))],
        "oldest first; not the open order's, not the young one"
    );
}

#[tokio::test]
async fn a_stray_hold_is_given_back_once_and_only_while_its_order_is_over() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let failed = failed_holding(&store, T0).await;
    let open = placed(&store, &[("mug", 2)]).await;
    store.reserve(open, &p("mug"), 2, T0).await.expect("held");
    assert!(
        !store
            .release_stray(failed, &p("mug"), T0)
            .await
            .expect("ok"),
        "too young at this limit"
    );
    assert!(
        !store
            .release_stray(open, &p("mug"), T0 + 1)
            .await
            .expect("ok"),
        "its order is open"
    );
    assert!(
        store
            .release_stray(failed, &p("mug"), T0 + 1)
            .await
            .expect("ok")
    );
    assert!(
        !store
            .release_stray(failed, &p("mug"), T0 + 1)
            .await
            .expect("ok")
    );
    let mug = audit_of(&store, "mug").await;
    assert_eq!((mug.left, mug.held), (8, 2));
}

#[tokio::test]
async fn the_audit_counts_the_units_of_done_orders_per_product() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    for lines in [
        &[("mug", 2), ("teapot", 1)][..],
        &[("teapot", 1), ("mug", 3)][..],
    ] {
        let a = placed(&store, lines).await;
        for (product, qty) in lines {
            reserve(&store, a, product, *qty).await;
        }
        to_stage(&store, a, Stage::Paying).await.expect("paying");
        store.sell(a).await.expect("sells");
        to_stage(&store, a, Stage::Done).await.expect("done");
    }
    let _failed = failed_holding(&store, T0).await;
    let mug = audit_of(&store, "mug").await;
    assert_eq!((mug.sold, mug.done_units, mug.held), (5, 5, 1));
    assert!(
        mug.balanced() && !mug.settled(),
        "a stray hold is not settled"
    );
    let teapot = audit_of(&store, "teapot").await;
    assert_eq!((teapot.sold, teapot.done_units), (2, 2));
    assert!(teapot.settled());
}

#[tokio::test]
async fn the_order_audit_counts_open_done_and_failed_orders() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    assert_eq!(
        store.audit_orders().await.expect("audits"),
        OrderAudit::default()
    );
    placed(&store, &[("mug", 1)]).await;
    failed_holding(&store, T0).await;
    let done = placed(&store, &[("teapot", 1)]).await;
    reserve(&store, done, "teapot", 1).await;
    to_stage(&store, done, Stage::Paying).await.expect("paying");
    store.sell(done).await.expect("sells");
    to_stage(&store, done, Stage::Done).await.expect("done");
    assert_eq!(
        store.audit_orders().await.expect("audits"),
        OrderAudit {
            open: 1,
            done: 1,
            failed: 1
        }
    );
}
