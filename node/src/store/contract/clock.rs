//! Time is the store's own: with no clock set by hand, heartbeats, silences and hold ages are
//! stamped and measured inside the store (the machine's clock for SQLite, the server's `now()`
//! for PostgreSQL), never passed in by a node.

use std::net::SocketAddr;
use std::time::Duration;

use ringshop_shared::NodeId;

use super::super::test_support::{Fixture, contract_tests, p};
use super::{placed, shop};

contract_tests!(
    heartbeat_ages_and_silences_are_measured_on_the_stores_own_clock,
    a_hold_turns_stray_only_once_older_than_asked_on_the_stores_own_clock,
);

async fn heartbeat_ages_and_silences_are_measured_on_the_stores_own_clock(f: Fixture) {
    let store = f.on_own_clock().await;
    let n1 = NodeId::new("n1").expect("valid");
    let addr = SocketAddr::from(([127, 0, 0, 1], 7001));
    store
        .join(&n1, addr, Duration::from_secs(60))
        .await
        .expect("joins");
    let age = |m: ringshop_shared::wire::Membership| m.members[0].heartbeat_age;
    let fresh = age(store.membership().await.expect("members"));
    assert!(fresh < Duration::from_secs(1), "just joined: {fresh:?}");
    assert!(
        store
            .reap(Duration::from_secs(60))
            .await
            .expect("reaps")
            .is_empty(),
        "heard from just now"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = age(store.membership().await.expect("members"));
    assert!(
        later >= Duration::from_millis(300),
        "300 ms later: {later:?}"
    );
    assert_eq!(
        store.reap(Duration::from_millis(100)).await.expect("reaps"),
        vec![n1.clone()],
        "silent for 300 ms, past a 100 ms suspicion"
    );
    assert!(store.heartbeat(&n1, 1).await.is_ok_and(|live| !live));
}

async fn a_hold_turns_stray_only_once_older_than_asked_on_the_stores_own_clock(f: Fixture) {
    let f = shop(f).await;
    let store = f.on_own_clock().await;
    let order = placed(&f, &[("mug", 1)]).await;
    store.reserve(order, &p("mug"), 1).await.expect("held");
    f.fail_keeping_holds(order).await;
    let strays = |older: Duration| {
        let store = store.clone();
        async move { store.stray_holds(older, 10).await.expect("lists").len() }
    };
    assert_eq!(strays(Duration::from_secs(3600)).await, 0, "held just now");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(strays(Duration::from_millis(10)).await, 1, "held 50 ms ago");
}
