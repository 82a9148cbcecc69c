//! Selling is all or nothing; the move to done is the sale, an order is done only when sold
//! and fails only when unsold.

use super::super::test_support::{Fixture, contract_tests, entry, p};
use super::*;
use crate::store::{HoldState, Reservation, Rule};

contract_tests!(
    two_stores_on_one_database_racing_never_oversell,
    an_order_sold_by_one_node_while_another_fails_it_ends_sold_or_failed_never_both,
    selling_moves_every_held_line_to_sold_and_keeps_the_accounts,
    selling_an_order_with_a_released_line_sells_nothing,
    selling_an_order_with_a_line_never_held_sells_nothing,
    selling_before_the_order_is_paying_sells_nothing,
    an_order_is_done_only_with_every_line_sold,
    the_move_to_done_sells_what_a_paying_order_holds_all_or_nothing,
    an_order_with_sold_lines_cannot_fail,
    finishing_sells_and_moves_to_done_or_says_which_line_is_unsold,
    moves_made_at_once_are_each_answered_their_own,
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
    f.store.sell(a).await.expect("sells");
    to_stage(&f, a, Stage::Done).await.expect("done once sold");
    assert_eq!(audit_of(&f, "mug").await.done_units, 2);
}

async fn the_move_to_done_sells_what_a_paying_order_holds_all_or_nothing(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 2), ("teapot", 1)]).await;
    reserve(&f, a, "mug", 2).await;
    to_stage(&f, a, Stage::Paying).await.expect("paying");
    // A line not held: refused, and the held line is not sold either.
    let err = to_stage(&f, a, Stage::Done)
        .await
        .expect_err("refused with a line not held");
    assert!(refused(&err, Rule::DoneOnlyWhenSold), "{err}");
    assert_eq!(
        f.store.holds(a).await.expect("reads"),
        vec![(p("mug"), HoldState::Held)]
    );
    let mug = audit_of(&f, "mug").await;
    assert_eq!((mug.left, mug.sold, mug.held), (8, 0, 2));
    // Every line held: the move sells them and is done, in one write.
    reserve(&f, a, "teapot", 1).await;
    to_stage(&f, a, Stage::Done)
        .await
        .expect("done: sold by the move");
    assert_eq!(
        f.store.holds(a).await.expect("reads"),
        vec![(p("mug"), HoldState::Sold), (p("teapot"), HoldState::Sold)]
    );
    let mug = audit_of(&f, "mug").await;
    assert_eq!((mug.left, mug.sold, mug.held, mug.done_units), (8, 2, 0, 2));
    assert!(mug.balanced());
    // An order that is not paying sells nothing by moving to done.
    let b = placed(&f, &[("mug", 1)]).await;
    reserve(&f, b, "mug", 1).await;
    to_stage(&f, b, Stage::Reserving).await.expect("reserving");
    let err = to_stage(&f, b, Stage::Done)
        .await
        .expect_err("refused while reserving");
    assert!(refused(&err, Rule::DoneOnlyWhenSold), "{err}");
    assert_eq!(
        f.store.holds(b).await.expect("reads"),
        vec![(p("mug"), HoldState::Held)]
    );
    let now = f.store.order(b).await.expect("reads").expect("stored");
    assert_eq!(now.order.stage, Stage::Reserving);
}

async fn an_order_with_sold_lines_cannot_fail(f: Fixture) {
    let f = shop(f).await;
    let a = placed(&f, &[("mug", 2)]).await;
    reserve(&f, a, "mug", 2).await;
    to_stage(&f, a, Stage::Paying).await.expect("paying");
    f.store.sell(a).await.expect("sells");
    let err = to_stage(&f, a, Stage::Failed).await.expect_err("refused");
    assert!(refused(&err, Rule::SoldCannotFail), "{err}");
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
        match t.expect("task") {
            Ok(Reservation::Held { .. }) => held += 1,
            Err(StoreError::OutOfStock { .. }) => {}
            other => panic!("neither held nor out of stock: {other:?}"),
        }
    }
    assert_eq!(held, 10);
    assert!(audit_of(&f, "mug").await.balanced());
}

async fn an_order_sold_by_one_node_while_another_fails_it_ends_sold_or_failed_never_both(
    f: Fixture,
) {
    let f = shop(f).await;
    let plenty = [
        entry("cup", "Cup", "tea", 500, 100),
        entry("saucer", "Saucer", "tea", 300, 100),
    ];
    f.store.seed(&plenty).await.expect("seeds");
    let other = f.second().await;
    for _round in 0..5 {
        let mut orders = Vec::new();
        for _ in 0..4 {
            let a = placed(&f, &[("cup", 1), ("saucer", 1)]).await;
            reserve(&f, a, "cup", 1).await;
            reserve(&f, a, "saucer", 1).await;
            to_stage(&f, a, Stage::Paying).await.expect("paying");
            orders.push(a);
        }
        let mut tasks = Vec::new();
        for &id in &orders {
            let seller = other.clone();
            tasks.push(tokio::spawn(async move {
                seller.sell(id).await.expect("no store error");
            }));
            let failer = f.store.clone();
            tasks.push(tokio::spawn(async move {
                let cur = failer.order(id).await.expect("reads").expect("stored");
                let failed = failer
                    .advance(&cur, Stage::Failed, &me(), Some("raced"))
                    .await;
                if let Err(e) = failed {
                    assert!(refused(&e, Rule::SoldCannotFail), "{e}");
                }
            }));
        }
        for t in futures::future::join_all(tasks).await {
            t.expect("task");
        }
        for id in orders {
            let stage = f.store.order(id).await.expect("reads").expect("stored");
            let holds = f.store.holds(id).await.expect("reads");
            let states: Vec<HoldState> = holds.iter().map(|(_, s)| *s).collect();
            match stage.order.stage {
                Stage::Failed => assert_eq!(states, [HoldState::Released; 2]),
                Stage::Paying => assert_eq!(states, [HoldState::Sold; 2]),
                other => panic!("unexpected stage {other}"),
            }
        }
        f.store
            .release(OrderId::random(), &p("mug"))
            .await
            .expect("no-op");
        for product in ["mug", "teapot"] {
            let books = audit_of(&f, product).await;
            assert!(books.balanced() && books.held == 0, "{product}: {books:?}");
        }
    }
}

async fn finishing_sells_and_moves_to_done_or_says_which_line_is_unsold(f: Fixture) {
    use crate::store::Finish;
    let f = shop(f).await;
    // Every line held: sold and done in one call.
    let a = placed(&f, &[("mug", 2), ("teapot", 1)]).await;
    reserve(&f, a, "mug", 2).await;
    reserve(&f, a, "teapot", 1).await;
    to_stage(&f, a, Stage::Paying).await.expect("paying");
    let cur = f.store.order(a).await.expect("reads").expect("stored");
    match f.store.finish(&cur, &me()).await.expect("no store error") {
        Finish::Done(done) => {
            assert_eq!(done.order.stage, Stage::Done);
            assert_eq!(done.version, cur.version + 1);
        }
        other => panic!("expected done, got {other:?}"),
    }
    let mug = audit_of(&f, "mug").await;
    assert_eq!((mug.left, mug.sold, mug.held, mug.done_units), (8, 2, 0, 2));
    // A line released: nothing sold, the order stays paying, and the holds say which.
    let b = placed(&f, &[("mug", 1), ("teapot", 1)]).await;
    reserve(&f, b, "mug", 1).await;
    reserve(&f, b, "teapot", 1).await;
    assert!(f.store.release(b, &p("teapot")).await.expect("released"));
    to_stage(&f, b, Stage::Paying).await.expect("paying");
    let cur = f.store.order(b).await.expect("reads").expect("stored");
    match f.store.finish(&cur, &me()).await.expect("no store error") {
        Finish::Unsold(holds) => {
            assert!(
                holds.contains(&(p("teapot"), HoldState::Released)),
                "{holds:?}"
            );
            assert!(holds.contains(&(p("mug"), HoldState::Held)), "{holds:?}");
        }
        other => panic!("expected unsold, got {other:?}"),
    }
    let now = f.store.order(b).await.expect("reads").expect("stored");
    assert_eq!((now.order.stage, now.version), (Stage::Paying, cur.version));
    // Moved meanwhile (another version): this call does not move it.
    let c = placed(&f, &[("mug", 1)]).await;
    reserve(&f, c, "mug", 1).await;
    to_stage(&f, c, Stage::Paying).await.expect("paying");
    let mut stale = f.store.order(c).await.expect("reads").expect("stored");
    stale.version -= 1;
    assert_eq!(
        f.store.finish(&stale, &me()).await.expect("no store error"),
        Finish::Moved
    );
    let now = f.store.order(c).await.expect("reads").expect("stored");
    assert_eq!(
        now.order.stage,
        Stage::Paying,
        "the stale call moved nothing"
    );
    assert!(audit_of(&f, "mug").await.balanced());
}

/// Whether `err` is the store's refusal for breaking `rule`.
fn refused(err: &StoreError, rule: Rule) -> bool {
    matches!(err, StoreError::Refused { rule: r, .. } if *r == rule)
}

/// Order moves made at the same moment (a backend may write them together, in one statement:
/// PostgreSQL does) are each answered their own: one from a stale version does not take, one a
/// rule refuses is refused, and the others move, whatever the refused one did to a group.
async fn moves_made_at_once_are_each_answered_their_own(f: Fixture) {
    let f = shop(f).await;
    let ids = [
        placed(&f, &[("mug", 1)]).await,
        placed(&f, &[("mug", 1)]).await,
        placed(&f, &[("mug", 1)]).await,
        placed(&f, &[("mug", 1)]).await,
    ];
    let [to_reserving, stale, unsold, to_fail] = ids;
    // `stale` moves on once before the group, which then moves it from its old version.
    let old = f.store.order(stale).await.expect("reads").expect("stored");
    to_stage(&f, stale, Stage::Reserving).await.expect("moves");
    // `unsold` is paying without a hold: its move to done is refused.
    to_stage(&f, unsold, Stage::Reserving)
        .await
        .expect("reserving");
    to_stage(&f, unsold, Stage::Paying).await.expect("paying");
    let f = &f;
    let read = |id| async move { f.store.order(id).await.expect("reads").expect("stored") };
    let (a, c, d) = (
        read(to_reserving).await,
        read(unsold).await,
        read(to_fail).await,
    );
    let (me, store) = (me(), &f.store);
    let moves = futures::future::join_all([
        store.advance(&a, Stage::Reserving, &me, None),
        store.advance(&old, Stage::Paying, &me, None),
        store.advance(&c, Stage::Done, &me, None),
        store.advance(&d, Stage::Failed, &me, Some("changed my mind")),
    ])
    .await;
    let moved = |i: usize| match &moves[i] {
        Ok(Some(m)) => m.clone(),
        other => panic!("move {i} should have taken: {other:?}"),
    };
    assert_eq!(moved(0).order.stage, Stage::Reserving);
    assert_eq!(moved(0).version, a.version + 1);
    assert!(
        matches!(moves[1], Ok(None)),
        "a stale version does not take: {:?}",
        moves[1]
    );
    assert!(
        matches!(
            moves[2],
            Err(StoreError::Refused {
                rule: Rule::DoneOnlyWhenSold,
                ..
            })
        ),
        "done without a sale is refused: {:?}",
        moves[2]
    );
    assert_eq!(moved(3).order.stage, Stage::Failed);
    assert_eq!(moved(3).order.reason.as_deref(), Some("changed my mind"));
    // What the store has is what each was told.
    let stages = [
        (to_reserving, Stage::Reserving),
        (stale, Stage::Reserving),
        (unsold, Stage::Paying),
        (to_fail, Stage::Failed),
    ];
    for (id, stage) in stages {
        assert_eq!(read(id).await.order.stage, stage, "order {id}");
    }
}
