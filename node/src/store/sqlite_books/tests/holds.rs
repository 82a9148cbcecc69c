//! What `reserve` answers, and that a released or sold hold never moves again.

use super::*;

#[tokio::test]
async fn holding_a_line_of_an_open_order_answers_held_and_the_stock_left() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 3)]).await;
    assert_eq!(
        reserve(&store, a, "mug", 3).await,
        Reservation::Held { left: 7 }
    );
    assert!(audit_of(&store, "mug").await.balanced());
}

#[tokio::test]
async fn holding_again_answers_already_held_and_holds_once() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 3)]).await;
    reserve(&store, a, "mug", 3).await;
    assert_eq!(
        reserve(&store, a, "mug", 3).await,
        Reservation::AlreadyHeld { left: 7 }
    );
    assert_eq!(audit_of(&store, "mug").await.held, 3);
}

#[tokio::test]
async fn a_released_hold_is_never_held_again_and_says_released() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 3)]).await;
    reserve(&store, a, "mug", 3).await;
    assert!(store.release(a, &p("mug")).await.expect("released"));
    assert_eq!(reserve(&store, a, "mug", 3).await, Reservation::Released);
    let mug = audit_of(&store, "mug").await;
    assert_eq!((mug.left, mug.held), (10, 0), "nothing held again");
}

#[tokio::test]
async fn a_sold_hold_answers_sold_and_is_never_held_again() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 3)]).await;
    reserve(&store, a, "mug", 3).await;
    to_stage(&store, a, Stage::Paying).await.expect("paying");
    assert_eq!(store.sell(a).await.expect("sells"), 1);
    assert_eq!(
        reserve(&store, a, "mug", 3).await,
        Reservation::Sold { left: 7 }
    );
    let mug = audit_of(&store, "mug").await;
    assert_eq!((mug.left, mug.sold, mug.held), (7, 3, 0));
}

#[tokio::test]
async fn reserving_beyond_the_stock_is_refused_and_holds_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let (a, b) = (
        placed(&store, &[("teapot", 2)]).await,
        placed(&store, &[("teapot", 1)]).await,
    );
    assert_eq!(
        reserve(&store, a, "teapot", 2).await,
        Reservation::Held { left: 0 }
    );
    assert_eq!(
        reserve(&store, b, "teapot", 1).await,
        Reservation::OutOfStock { left: 0 }
    );
    assert!(store.holds(b).await.expect("reads").is_empty());
    assert!(audit_of(&store, "teapot").await.balanced());
}

#[tokio::test]
async fn a_hold_for_an_order_never_stored_is_refused_and_holds_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let made_up = OrderId::random();
    assert_eq!(
        reserve(&store, made_up, "mug", 10).await,
        Reservation::NoOpenOrder
    );
    assert_eq!(audit_of(&store, "mug").await.left, 10);
}

#[tokio::test]
async fn a_hold_for_a_done_or_failed_order_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let failed = placed(&store, &[("mug", 1)]).await;
    to_stage(&store, failed, Stage::Failed)
        .await
        .expect("fails");
    assert_eq!(
        reserve(&store, failed, "mug", 1).await,
        Reservation::NoOpenOrder
    );
    let done = placed(&store, &[("mug", 1)]).await;
    reserve(&store, done, "mug", 1).await;
    to_stage(&store, done, Stage::Paying).await.expect("paying");
    store.sell(done).await.expect("sells");
    to_stage(&store, done, Stage::Done).await.expect("done");
    assert_eq!(
        reserve(&store, done, "mug", 1).await,
        Reservation::NoOpenOrder
    );
    assert_eq!(audit_of(&store, "mug").await.left, 9);
}

#[tokio::test]
async fn a_hold_that_is_not_one_of_the_orders_lines_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 2)]).await;
    assert_eq!(
        reserve(&store, a, "teapot", 2).await,
        Reservation::NoOpenOrder,
        "another product"
    );
    assert_eq!(
        reserve(&store, a, "mug", 9).await,
        Reservation::NoOpenOrder,
        "another quantity"
    );
    assert!(store.holds(a).await.expect("reads").is_empty());
}

#[tokio::test]
async fn release_gives_a_hold_back_once() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 3)]).await;
    reserve(&store, a, "mug", 3).await;
    assert!(store.release(a, &p("mug")).await.expect("ok"));
    assert!(!store.release(a, &p("mug")).await.expect("ok"));
    assert_eq!(audit_of(&store, "mug").await.left, 10);
}

#[tokio::test]
async fn no_statement_can_move_a_released_or_sold_hold() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 1), ("teapot", 1)]).await;
    reserve(&store, a, "mug", 1).await;
    reserve(&store, a, "teapot", 1).await;
    store.release(a, &p("mug")).await.expect("released");
    for (from, to) in [("released", "held"), ("released", "sold")] {
        let moved = sqlx::query("UPDATE reservations SET state = ?1 WHERE state = ?2")
            .bind(to)
            .bind(from)
            .execute(&store.writer)
            .await;
        let err = moved.expect_err("refused by the database");
        assert_eq!(raised(&err), Some("a released or sold hold is final"));
    }
    assert!(audit_of(&store, "mug").await.balanced());
}
