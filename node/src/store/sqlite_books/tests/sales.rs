//! Selling is all or nothing; an order is done only when sold and fails only when unsold.

use super::*;

#[tokio::test]
async fn selling_moves_every_held_line_to_sold_and_keeps_the_accounts() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 4), ("teapot", 1)]).await;
    reserve(&store, a, "mug", 4).await;
    reserve(&store, a, "teapot", 1).await;
    to_stage(&store, a, Stage::Paying).await.expect("paying");
    assert_eq!(store.sell(a).await.expect("ok"), 2);
    assert_eq!(store.sell(a).await.expect("ok"), 0, "once");
    let mug = audit_of(&store, "mug").await;
    assert_eq!((mug.left, mug.sold, mug.held), (6, 4, 0));
    assert!(mug.balanced());
}

#[tokio::test]
async fn selling_an_order_with_a_released_line_sells_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 2), ("teapot", 1)]).await;
    reserve(&store, a, "mug", 2).await;
    reserve(&store, a, "teapot", 1).await;
    to_stage(&store, a, Stage::Paying).await.expect("paying");
    store.release(a, &p("teapot")).await.expect("released");
    assert_eq!(store.sell(a).await.expect("ok"), 0);
    assert_eq!(
        store.holds(a).await.expect("reads"),
        vec![
            (p("mug"), HoldState::Held),
            (p("teapot"), HoldState::Released)
        ]
    );
    assert_eq!(audit_of(&store, "mug").await.sold, 0);
}

#[tokio::test]
async fn selling_an_order_with_a_line_never_held_sells_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 2), ("teapot", 1)]).await;
    reserve(&store, a, "mug", 2).await;
    to_stage(&store, a, Stage::Paying).await.expect("paying");
    assert_eq!(store.sell(a).await.expect("ok"), 0);
    assert_eq!(audit_of(&store, "mug").await.sold, 0);
}

#[tokio::test]
async fn selling_before_the_order_is_paying_sells_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 2)]).await;
    reserve(&store, a, "mug", 2).await;
    assert_eq!(store.sell(a).await.expect("ok"), 0);
    assert_eq!(audit_of(&store, "mug").await.held, 2);
}

#[tokio::test]
async fn an_order_is_done_only_with_every_line_sold() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 2)]).await;
    reserve(&store, a, "mug", 2).await;
    to_stage(&store, a, Stage::Paying).await.expect("paying");
    let err = to_stage(&store, a, Stage::Done)
        .await
        .expect_err("refused while only held");
    assert!(err.to_string().contains("every line is sold"), "{err}");
    store.sell(a).await.expect("sells");
    to_stage(&store, a, Stage::Done)
        .await
        .expect("done once sold");
}

#[tokio::test]
async fn an_order_with_sold_lines_cannot_fail() {
    let dir = tempfile::tempdir().expect("dir");
    let store = seeded(&dir).await;
    let a = placed(&store, &[("mug", 2)]).await;
    reserve(&store, a, "mug", 2).await;
    to_stage(&store, a, Stage::Paying).await.expect("paying");
    store.sell(a).await.expect("sells");
    let err = to_stage(&store, a, Stage::Failed)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("cannot fail"), "{err}");
}

#[tokio::test]
async fn two_stores_on_one_file_racing_never_oversell() {
    let dir = tempfile::tempdir().expect("dir");
    let one = Arc::new(seeded(&dir).await);
    let two = Arc::new(
        SqliteStore::open(&dir.path().join("s.db"))
            .await
            .expect("opens"),
    );
    let mut orders = Vec::new();
    for _ in 0..50 {
        orders.push(placed(&one, &[("mug", 1)]).await);
    }
    let tries = orders.into_iter().enumerate().map(|(i, id)| {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        tokio::spawn(async move { store.reserve(id, &p("mug"), 1, T0).await })
    });
    let mut held = 0;
    for t in futures::future::join_all(tries).await {
        if let Reservation::Held { .. } = t.expect("task").expect("no store error") {
            held += 1;
        }
    }
    assert_eq!(held, 10);
    assert!(audit_of(&one, "mug").await.balanced());
}
