//! Selling is all or nothing; an order is done only when sold and fails only when unsold.

use super::super::test_support::{Fixture, contract_tests, p};
use super::*;
use crate::store::{HoldState, Reservation};

contract_tests!(
    two_stores_on_one_database_racing_never_oversell,
    selling_moves_every_held_line_to_sold_and_keeps_the_accounts,
    selling_an_order_with_a_released_line_sells_nothing,
    selling_an_order_with_a_line_never_held_sells_nothing,
    selling_before_the_order_is_paying_sells_nothing,
    an_order_is_done_only_with_every_line_sold,
    an_order_with_sold_lines_cannot_fail,
);

async fn selling_moves_every_held_line_to_sold_and_keeps_the_accounts(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 4), ("teapot", 1)]).await;
    reserve(&f, a, "mug", 4).await;
    reserve(&f, a, "teapot", 1).await;
    to_stage(&f, a, Stage::Paying).await.expect("paying");
    assert_eq!(f.store.sell(a).await.expect("ok"), 2);
    assert_eq!(f.store.sell(a).await.expect("ok"), 0, "once");
    let mug = audit_of(&f, "mug").await;
    assert_eq!((mug.left, mug.sold, mug.held), (6, 4, 0));
    assert!(mug.balanced());
}

async fn selling_an_order_with_a_released_line_sells_nothing(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 2), ("teapot", 1)]).await;
    reserve(&f, a, "mug", 2).await;
    reserve(&f, a, "teapot", 1).await;
    to_stage(&f, a, Stage::Paying).await.expect("paying");
    f.store.release(a, &p("teapot")).await.expect("released");
    assert_eq!(f.store.sell(a).await.expect("ok"), 0);
    assert_eq!(
        f.store.holds(a).await.expect("reads"),
        vec![
            (p("mug"), HoldState::Held),
            (p("teapot"), HoldState::Released)
        ]
    );
    assert_eq!(audit_of(&f, "mug").await.sold, 0);
}

async fn selling_an_order_with_a_line_never_held_sells_nothing(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 2), ("teapot", 1)]).await;
    reserve(&f, a, "mug", 2).await;
    to_stage(&f, a, Stage::Paying).await.expect("paying");
    assert_eq!(f.store.sell(a).await.expect("ok"), 0);
    assert_eq!(audit_of(&f, "mug").await.sold, 0);
}

async fn selling_before_the_order_is_paying_sells_nothing(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 2)]).await;
    reserve(&f, a, "mug", 2).await;
    assert_eq!(f.store.sell(a).await.expect("ok"), 0);
    assert_eq!(audit_of(&f, "mug").await.held, 2);
}

async fn an_order_is_done_only_with_every_line_sold(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 2)]).await;
    reserve(&f, a, "mug", 2).await;
    to_stage(&f, a, Stage::Paying).await.expect("paying");
    let err = to_stage(&f, a, Stage::Done)
        .await
        .expect_err("refused while only held");
    assert!(err.to_string().contains("every line is sold"), "{err}");
    f.store.sell(a).await.expect("sells");
    to_stage(&f, a, Stage::Done).await.expect("done once sold");
}

async fn an_order_with_sold_lines_cannot_fail(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 2)]).await;
    reserve(&f, a, "mug", 2).await;
    to_stage(&f, a, Stage::Paying).await.expect("paying");
    f.store.sell(a).await.expect("sells");
    let err = to_stage(&f, a, Stage::Failed).await.expect_err("refused");
    assert!(err.to_string().contains("cannot fail"), "{err}");
}

async fn two_stores_on_one_database_racing_never_oversell(f: Fixture) {
    let f = shop(f).await;
    let (one, two) = (f.store.clone(), f.second().await);
    let mut orders = Vec::new();
    for _ in 0..50 {
        orders.push(placed(&f, &[("mug", 1)]).await);
    }
    let tries = orders.into_iter().enumerate().map(|(i, id)| {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        tokio::spawn(async move { store.reserve(id, &p("mug"), 1).await })
    });
    let mut held = 0;
    for t in futures::future::join_all(tries).await {
        if let Reservation::Held { .. } = t.expect("task").expect("no store error") {
            held += 1;
        }
    }
    assert_eq!(held, 10);
    assert!(audit_of(&f, "mug").await.balanced());
}
