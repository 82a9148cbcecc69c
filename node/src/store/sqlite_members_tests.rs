use super::*;
use crate::store::Store;
use std::net::SocketAddr;

fn n(name: &str) -> NodeId {
    NodeId::new(name).expect("valid")
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Joins `name` at 127.0.0.1:`port` at time `now`, taking over names silent since `stale`.
async fn join(store: &SqliteStore, name: &str, port: u16, now: Millis, stale: Millis) -> Joined {
    store
        .join(&n(name), addr(port), now, stale)
        .await
        .expect("joins")
}

async fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("t.db"))
        .await
        .expect("opens");
    (dir, store)
}

#[tokio::test]
async fn a_join_bumps_the_epoch_and_lists_the_member_active() {
    let (_dir, store) = fresh().await;
    assert_eq!(store.epoch().await.expect("epoch"), 0);
    let joined = join(&store, "n1", 7001, 1_000, 0).await;
    assert_eq!(joined.incarnation, 1);
    let m = store.membership(1_250).await.expect("members");
    assert_eq!(m.epoch, 1);
    assert_eq!(m.members.len(), 1);
    assert_eq!(m.members[0].status, MemberStatus::Active);
    assert_eq!(m.members[0].addr, addr(7001));
    assert_eq!(m.members[0].heartbeat_age, Duration::from_millis(250));
}

#[tokio::test]
async fn a_live_name_is_refused_naming_its_holder() {
    let (_dir, store) = fresh().await;
    join(&store, "n1", 7001, 10_000, 0).await;
    let err = store
        .join(&n("n1"), addr(7009), 10_300, 10_300 - 2_000)
        .await
        .expect_err("taken");
    let text = err.to_string();
    assert!(matches!(err, StoreError::NameTaken { .. }));
    assert!(
        text.contains("n1") && text.contains("127.0.0.1:7001") && text.contains("300 ms"),
        "{text}"
    );
    assert_eq!(
        store.epoch().await.expect("epoch"),
        1,
        "a refusal changes nothing"
    );
}

#[tokio::test]
async fn a_stale_or_departed_name_can_be_taken_with_a_new_incarnation() {
    let (_dir, store) = fresh().await;
    join(&store, "n1", 7001, 10_000, 0).await;
    let again = store
        .join(&n("n1"), addr(7002), 13_000, 11_000)
        .await
        .expect("stale holder");
    assert_eq!(again.incarnation, 2);
    assert!(
        store
            .set_status(&n("n1"), 2, MemberStatus::Left)
            .await
            .expect("leaves")
    );
    let third = store
        .join(&n("n1"), addr(7003), 13_100, 11_100)
        .await
        .expect("left holder");
    assert_eq!(third.incarnation, 3);
}

#[tokio::test]
async fn heartbeats_of_an_old_incarnation_are_refused() {
    let (_dir, store) = fresh().await;
    join(&store, "n1", 7001, 10_000, 0).await;
    assert!(store.heartbeat(&n("n1"), 1, 10_500).await.expect("beats"));
    assert!(!store.heartbeat(&n("n1"), 7, 10_500).await.expect("answers"));
    assert!(store.mark_dead(&n("n1"), 1).await.expect("voted dead"));
    assert!(
        !store.heartbeat(&n("n1"), 1, 11_000).await.expect("answers"),
        "dead stays dead"
    );
}

#[tokio::test]
async fn reap_marks_only_silent_members_dead_and_bumps_the_epoch() {
    let (_dir, store) = fresh().await;
    join(&store, "n1", 7001, 10_000, 0).await;
    join(&store, "n2", 7002, 10_000, 0).await;
    store.heartbeat(&n("n2"), 1, 12_000).await.expect("beats");
    let before = store.epoch().await.expect("epoch");
    let reaped = store.reap(12_000 - 1_500).await.expect("reaps");
    assert_eq!(reaped, vec![n("n1")]);
    assert_eq!(store.epoch().await.expect("epoch"), before + 1);
    assert!(
        store.reap(12_000 - 1_500).await.expect("reaps").is_empty(),
        "idempotent"
    );
}

#[tokio::test]
async fn every_change_is_logged_once_with_its_epoch_so_a_member_can_replay_them() {
    let (_dir, store) = fresh().await;
    join(&store, "n1", 7001, 10_000, 0).await;
    join(&store, "n2", 7002, 10_000, 0).await;
    store.heartbeat(&n("n1"), 1, 10_400).await.expect("beats");
    store
        .set_status(&n("n2"), 1, MemberStatus::Leaving)
        .await
        .expect("leaves");
    store
        .set_status(&n("n2"), 1, MemberStatus::Left)
        .await
        .expect("left");
    let changes = store.changes_since(0, 100).await.expect("log");
    let seen: Vec<(u64, &str, MemberStatus)> = changes
        .iter()
        .map(|c| (c.epoch, c.name.as_str(), c.status))
        .collect();
    assert_eq!(
        seen,
        [
            (1, "n1", MemberStatus::Active),
            (2, "n2", MemberStatus::Active),
            (3, "n2", MemberStatus::Leaving),
            (4, "n2", MemberStatus::Left),
        ],
        "a heartbeat is not a change"
    );
    assert_eq!(store.changes_since(2, 1).await.expect("log").len(), 1);
    assert_eq!(store.epoch().await.expect("epoch"), 4);
}

#[tokio::test]
async fn acknowledgements_only_move_forward_and_a_rejoin_starts_them_again() {
    let (_dir, store) = fresh().await;
    join(&store, "n1", 7001, 10_000, 0).await;
    assert!(store.ack(&n("n1"), 1, 5).await.expect("acks"));
    assert!(store.ack(&n("n1"), 1, 3).await.expect("acks"));
    let acked = |m: &Membership| m.members[0].acked_epoch;
    assert_eq!(acked(&store.membership(10_000).await.expect("m")), 5);
    assert!(
        !store.ack(&n("n1"), 9, 6).await.expect("answers"),
        "another incarnation"
    );
    store.mark_dead(&n("n1"), 1).await.expect("dead");
    let again = store
        .join(&n("n1"), addr(7001), 11_000, 0)
        .await
        .expect("rejoins");
    assert_eq!(again.incarnation, 2);
    assert_eq!(acked(&store.membership(11_000).await.expect("m")), 0);
}

#[tokio::test]
async fn heartbeats_never_go_back_in_time() {
    let (_dir, store) = fresh().await;
    join(&store, "n1", 7001, 10_000, 0).await;
    store.heartbeat(&n("n1"), 1, 12_000).await.expect("beats");
    store.heartbeat(&n("n1"), 1, 11_000).await.expect("beats");
    let m = store.membership(12_500).await.expect("members");
    assert_eq!(m.members[0].heartbeat_age, Duration::from_millis(500));
}

#[tokio::test]
async fn a_member_is_dead_only_once_enough_members_voted_within_the_window() {
    let (_dir, store) = fresh().await;
    for (i, name) in ["n1", "n2", "n3"].iter().enumerate() {
        store
            .join(&n(name), addr(7001 + i as u16), 10_000, 0)
            .await
            .expect("joins");
    }
    assert!(
        !store
            .vote(&n("n3"), 1, &n("n1"), 10_000, 5_000, 2)
            .await
            .expect("votes")
    );
    assert!(
        !store
            .vote(&n("n3"), 1, &n("n1"), 10_100, 5_000, 2)
            .await
            .expect("votes"),
        "one voter twice is one vote"
    );
    assert!(
        !store
            .vote(&n("n3"), 1, &n("n2"), 16_000, 5_000, 2)
            .await
            .expect("votes"),
        "n1's vote has run out"
    );
    assert!(
        store
            .vote(&n("n3"), 1, &n("n1"), 16_100, 5_000, 2)
            .await
            .expect("votes")
    );
    let m = store.membership(16_100).await.expect("members");
    let n3 = m
        .members
        .iter()
        .find(|m| m.name.as_str() == "n3")
        .expect("n3");
    assert_eq!(n3.status, MemberStatus::Dead);
}
