//! What `reserve` answers, and that a released or sold hold never moves again.

use super::super::test_support::{Fixture, contract_tests, p};
use super::*;
use crate::store::{HoldState, Reservation, Rule};

contract_tests!(
    holding_a_line_of_an_open_order_answers_held_and_the_stock_left,
    holding_again_answers_already_held_and_holds_once,
    a_released_hold_is_never_held_again_and_says_released,
    a_sold_hold_answers_sold_and_is_never_held_again,
    reserving_beyond_the_stock_is_refused_and_holds_nothing,
    a_hold_for_an_order_never_stored_is_refused_and_holds_nothing,
    a_hold_for_a_done_or_failed_order_is_refused,
    a_hold_that_is_not_one_of_the_orders_lines_is_refused,
    release_gives_a_hold_back_once,
    releasing_a_sold_hold_changes_nothing,
    no_statement_can_move_a_released_or_sold_hold,
    reserving_many_answers_each_order_as_reserving_it_alone_would,
);

async fn holding_a_line_of_an_open_order_answers_held_and_the_stock_left(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 3)]).await;
    assert_eq!(
        reserve(&f, a, "mug", 3).await,
        Reservation::Held { left: 7 }
    );
    assert!(audit_of(&f, "mug").await.balanced());
}

async fn holding_again_answers_already_held_and_holds_once(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 3)]).await;
    reserve(&f, a, "mug", 3).await;
    assert_eq!(
        reserve(&f, a, "mug", 3).await,
        Reservation::AlreadyHeld { left: 7 }
    );
    assert_eq!(audit_of(&f, "mug").await.held, 3);
}

async fn a_released_hold_is_never_held_again_and_says_released(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 3)]).await;
    reserve(&f, a, "mug", 3).await;
    assert!(f.store.release(a, &p("mug")).await.expect("released"));
    assert!(matches!(
        refusal(&f, a, "mug", 3).await,
        StoreError::HoldReleased { order, .. } if order == a
    ));
    let mug = audit_of(&f, "mug").await;
    assert_eq!((mug.left, mug.held), (10, 0), "nothing held again");
}

async fn a_sold_hold_answers_sold_and_is_never_held_again(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 3)]).await;
    reserve(&f, a, "mug", 3).await;
    to_stage(&f, a, Stage::Paying).await.expect("paying");
    assert_eq!(f.store.sell(a).await.expect("sells"), 1);
    assert_eq!(
        reserve(&f, a, "mug", 3).await,
        Reservation::Sold { left: 7 }
    );
    let mug = audit_of(&f, "mug").await;
    assert_eq!((mug.left, mug.sold, mug.held), (7, 3, 0));
}

async fn reserving_beyond_the_stock_is_refused_and_holds_nothing(f: Fixture) {
    let f = shop(f).await;
    let (a, b) = (
        placed(&f, &[("teapot", 2)]).await,
        placed(&f, &[("teapot", 1)]).await,
    );
    assert_eq!(
        reserve(&f, a, "teapot", 2).await,
        Reservation::Held { left: 0 }
    );
    assert!(matches!(
        refusal(&f, b, "teapot", 1).await,
        StoreError::OutOfStock {
            wanted: 1,
            left: 0,
            ..
        }
    ));
    assert!(f.store.holds(b).await.expect("reads").is_empty());
    assert!(audit_of(&f, "teapot").await.balanced());
}

async fn a_hold_for_an_order_never_stored_is_refused_and_holds_nothing(f: Fixture) {
    let f = shop(f).await;
    let made_up = OrderId::random();
    assert!(no_open_order(refusal(&f, made_up, "mug", 10).await));
    assert_eq!(audit_of(&f, "mug").await.left, 10);
}

async fn a_hold_for_a_done_or_failed_order_is_refused(f: Fixture) {
    let f = shop(f).await;
    let failed = placed(&f, &[("mug", 1)]).await;
    to_stage(&f, failed, Stage::Failed).await.expect("fails");
    assert!(no_open_order(refusal(&f, failed, "mug", 1).await));
    let done = placed(&f, &[("mug", 1)]).await;
    reserve(&f, done, "mug", 1).await;
    to_stage(&f, done, Stage::Paying).await.expect("paying");
    f.store.sell(done).await.expect("sells");
    to_stage(&f, done, Stage::Done).await.expect("done");
    assert!(no_open_order(refusal(&f, done, "mug", 1).await));
    assert_eq!(audit_of(&f, "mug").await.left, 9);
}

async fn a_hold_that_is_not_one_of_the_orders_lines_is_refused(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 2)]).await;
    assert!(
        no_open_order(refusal(&f, a, "teapot", 2).await),
        "another product"
    );
    assert!(
        no_open_order(refusal(&f, a, "mug", 9).await),
        "another quantity"
    );
    assert!(f.store.holds(a).await.expect("reads").is_empty());
}

async fn release_gives_a_hold_back_once(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 3)]).await;
    reserve(&f, a, "mug", 3).await;
    assert!(f.store.release(a, &p("mug")).await.expect("ok"));
    assert!(!f.store.release(a, &p("mug")).await.expect("ok"));
    assert_eq!(audit_of(&f, "mug").await.left, 10);
}

async fn releasing_a_sold_hold_changes_nothing(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 3)]).await;
    reserve(&f, a, "mug", 3).await;
    to_stage(&f, a, Stage::Paying).await.expect("paying");
    assert_eq!(f.store.sell(a).await.expect("sells"), 1);
    assert!(!f.store.release(a, &p("mug")).await.expect("answers"));
    assert_eq!(
        f.store.holds(a).await.expect("reads"),
        vec![(p("mug"), HoldState::Sold)]
    );
    let mug = audit_of(&f, "mug").await;
    assert_eq!((mug.left, mug.sold, mug.held), (7, 3, 0));
}

async fn no_statement_can_move_a_released_or_sold_hold(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 1), ("teapot", 1)]).await;
    reserve(&f, a, "mug", 1).await;
    reserve(&f, a, "teapot", 1).await;
    f.store.release(a, &p("mug")).await.expect("released");
    for to in [HoldState::Held, HoldState::Sold] {
        let moved = f.move_holds(HoldState::Released, to).await;
        let err = moved.expect_err("refused by the database");
        assert!(
            matches!(
                err,
                StoreError::Refused {
                    rule: Rule::HoldIsFinal,
                    ..
                }
            ),
            "{err}"
        );
    }
    assert!(audit_of(&f, "mug").await.balanced());
}

async fn reserving_many_answers_each_order_as_reserving_it_alone_would(f: Fixture) {
    let f = shop(f).await;
    let fresh = placed(&f, &[("mug", 4)]).await;
    let held = placed(&f, &[("mug", 3)]).await;
    reserve(&f, held, "mug", 3).await; // 7 left
    let too_many = placed(&f, &[("mug", 5)]).await;
    let never_stored = OrderId::random();
    let released = placed(&f, &[("mug", 2)]).await;
    reserve(&f, released, "mug", 2).await;
    assert!(
        f.store
            .release(released, &p("mug"))
            .await
            .expect("released")
    );
    let last = placed(&f, &[("mug", 1)]).await;
    let asks = [
        (fresh, 4),
        (held, 3),
        (too_many, 5), // 3 left after `fresh`
        (never_stored, 1),
        (released, 2),
        (last, 1),
    ];
    let answers = f.store.reserve_many(&p("mug"), &asks).await;

    // `left` is the stock at that ask or once all were tried (a batching backend): between
    // the stock before the call (7) and after it (2).
    let between = |left: u32| (2..=7).contains(&left);
    assert!(
        matches!(answers[0], Ok(Reservation::Held { left }) if between(left)),
        "{answers:?}"
    );
    assert!(
        matches!(answers[1], Ok(Reservation::AlreadyHeld { left }) if between(left)),
        "{answers:?}"
    );
    assert!(
        matches!(answers[2], Err(StoreError::OutOfStock { wanted: 5, left, .. }) if between(left)),
        "{answers:?}"
    );
    assert!(
        matches!(&answers[3], Err(StoreError::NoOpenOrder { order, .. }) if *order == never_stored),
        "{answers:?}"
    );
    assert!(
        matches!(&answers[4], Err(StoreError::HoldReleased { order, .. }) if *order == released),
        "{answers:?}"
    );
    assert!(
        matches!(answers[5], Ok(Reservation::Held { left }) if between(left)),
        "{answers:?}"
    );
    let mug = audit_of(&f, "mug").await;
    assert_eq!((mug.left, mug.held), (2, 8), "fresh 4 + held 3 + last 1");
    assert!(mug.balanced());
    assert_eq!(
        f.store.reserve_many(&p("teapot"), &[]).await.len(),
        0,
        "nothing asked, nothing answered"
    );
    let unknown = f.store.reserve_many(&p("kettle"), &[(last, 1)]).await;
    assert!(
        matches!(
            unknown.as_slice(),
            [Err(
                StoreError::UnknownProduct { .. } | StoreError::NoOpenOrder { .. }
            )]
        ),
        "{unknown:?}"
    );
}

/// Whether a refusal says no open order has the line.
fn no_open_order(refused: StoreError) -> bool {
    matches!(refused, StoreError::NoOpenOrder { .. })
}
