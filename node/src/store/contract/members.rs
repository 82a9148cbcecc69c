//! Membership: joins, incarnations, heartbeats, reaping, the change log, acknowledgements and
//! votes, all on the store's clock (set by hand here).

use std::net::SocketAddr;
use std::time::Duration;

use ringshop_shared::NodeId;
use ringshop_shared::wire::{ClusterTiming, MemberStatus, Membership};

use super::super::test_support::{Fixture, contract_tests};
use super::super::{Joined, Millis, StoreError};

contract_tests!(
    a_join_bumps_the_epoch_and_lists_the_member_active,
    a_live_name_is_refused_naming_its_holder,
    a_stale_or_departed_name_can_be_taken_with_a_new_incarnation,
    heartbeats_of_an_old_incarnation_are_refused,
    reap_marks_only_silent_members_dead_and_bumps_the_epoch,
    every_change_is_logged_once_with_its_epoch_so_a_member_can_replay_them,
    acknowledgements_only_move_forward_and_a_rejoin_starts_them_again,
    heartbeats_never_go_back_in_time,
    a_member_is_dead_only_once_enough_members_voted_within_the_window,
    nodes_joining_at_once_get_one_epoch_and_one_log_row_each,
    the_first_live_node_sets_the_timings_and_later_ones_run_on_them,
);

const SUSPICION: Duration = Duration::from_secs(2);

fn n(name: &str) -> NodeId {
    NodeId::new(name).expect("valid")
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Joins `name` at 127.0.0.1:`port` at time `now`.
async fn join(f: &Fixture, name: &str, port: u16, now: Millis) -> Joined {
    f.at(now)
        .store
        .join(&n(name), addr(port), SUSPICION)
        .await
        .expect("joins")
}

async fn a_join_bumps_the_epoch_and_lists_the_member_active(f: Fixture) {
    assert_eq!(f.store.epoch().await.expect("epoch"), 0);
    let joined = join(&f, "n1", 7001, 1_000).await;
    assert_eq!(joined.incarnation, 1);
    let m = f.at(1_250).store.membership().await.expect("members");
    assert_eq!(m.epoch, 1);
    assert_eq!(m.members.len(), 1);
    assert_eq!(m.members[0].status, MemberStatus::Active);
    assert_eq!(m.members[0].addr, addr(7001));
    assert_eq!(m.members[0].heartbeat_age, Duration::from_millis(250));
}

async fn a_live_name_is_refused_naming_its_holder(f: Fixture) {
    join(&f, "n1", 7001, 10_000).await;
    let err = f
        .at(10_300)
        .store
        .join(&n("n1"), addr(7009), SUSPICION)
        .await
        .expect_err("taken");
    let text = err.to_string();
    assert!(matches!(err, StoreError::NameTaken { .. }));
    assert!(
        text.contains("n1") && text.contains("127.0.0.1:7001") && text.contains("300 ms"),
        "{text}"
    );
    assert_eq!(
        f.store.epoch().await.expect("epoch"),
        1,
        "a refusal changes nothing"
    );
}

async fn a_stale_or_departed_name_can_be_taken_with_a_new_incarnation(f: Fixture) {
    join(&f, "n1", 7001, 10_000).await;
    let again = join(&f, "n1", 7002, 13_000).await;
    assert_eq!(
        again.incarnation, 2,
        "silent for 3 s, past the 2 s suspicion"
    );
    assert!(
        f.store
            .set_status(&n("n1"), 2, MemberStatus::Left)
            .await
            .expect("leaves")
    );
    let third = join(&f, "n1", 7003, 13_100).await;
    assert_eq!(third.incarnation, 3, "a member that left is not live");
}

async fn heartbeats_of_an_old_incarnation_are_refused(f: Fixture) {
    join(&f, "n1", 7001, 10_000).await;
    f.at(10_500);
    assert!(f.store.heartbeat(&n("n1"), 1).await.expect("beats"));
    assert!(!f.store.heartbeat(&n("n1"), 7).await.expect("answers"));
    assert!(f.store.mark_dead(&n("n1"), 1).await.expect("voted dead"));
    assert!(
        !f.at(11_000)
            .store
            .heartbeat(&n("n1"), 1)
            .await
            .expect("answers"),
        "dead stays dead"
    );
}

async fn reap_marks_only_silent_members_dead_and_bumps_the_epoch(f: Fixture) {
    join(&f, "n1", 7001, 10_000).await;
    join(&f, "n2", 7002, 10_000).await;
    f.at(12_000)
        .store
        .heartbeat(&n("n2"), 1)
        .await
        .expect("beats");
    let before = f.store.epoch().await.expect("epoch");
    let silence = Duration::from_millis(1_500);
    let reaped = f.store.reap(silence).await.expect("reaps");
    assert_eq!(reaped, vec![n("n1")]);
    assert_eq!(f.store.epoch().await.expect("epoch"), before + 1);
    assert!(
        f.store.reap(silence).await.expect("reaps").is_empty(),
        "idempotent"
    );
}

async fn every_change_is_logged_once_with_its_epoch_so_a_member_can_replay_them(f: Fixture) {
    join(&f, "n1", 7001, 10_000).await;
    join(&f, "n2", 7002, 10_000).await;
    f.at(10_400)
        .store
        .heartbeat(&n("n1"), 1)
        .await
        .expect("beats");
    f.store
        .set_status(&n("n2"), 1, MemberStatus::Leaving)
        .await
        .expect("leaves");
    f.store
        .set_status(&n("n2"), 1, MemberStatus::Left)
        .await
        .expect("left");
    let changes = f.store.changes_since(0, 100).await.expect("log");
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
    assert_eq!(f.store.changes_since(2, 1).await.expect("log").len(), 1);
    assert_eq!(f.store.epoch().await.expect("epoch"), 4);
}

async fn acknowledgements_only_move_forward_and_a_rejoin_starts_them_again(f: Fixture) {
    join(&f, "n1", 7001, 10_000).await;
    assert!(f.store.ack(&n("n1"), 1, 5).await.expect("acks"));
    assert!(f.store.ack(&n("n1"), 1, 3).await.expect("acks"));
    let acked = |m: &Membership| m.members[0].acked_epoch;
    assert_eq!(acked(&f.store.membership().await.expect("m")), 5);
    assert!(
        !f.store.ack(&n("n1"), 9, 6).await.expect("answers"),
        "another incarnation"
    );
    f.store.mark_dead(&n("n1"), 1).await.expect("dead");
    let again = join(&f, "n1", 7001, 11_000).await;
    assert_eq!(again.incarnation, 2);
    assert_eq!(acked(&f.store.membership().await.expect("m")), 0);
}

async fn heartbeats_never_go_back_in_time(f: Fixture) {
    join(&f, "n1", 7001, 10_000).await;
    f.at(12_000)
        .store
        .heartbeat(&n("n1"), 1)
        .await
        .expect("beats");
    f.at(11_000)
        .store
        .heartbeat(&n("n1"), 1)
        .await
        .expect("beats");
    let m = f.at(12_500).store.membership().await.expect("members");
    assert_eq!(m.members[0].heartbeat_age, Duration::from_millis(500));
}

async fn a_member_is_dead_only_once_enough_members_voted_within_the_window(f: Fixture) {
    for (i, name) in ["n1", "n2", "n3"].iter().enumerate() {
        join(&f, name, 7001 + i as u16, 10_000).await;
    }
    let window = Duration::from_secs(5);
    let vote = |voter: &'static str, at: Millis| {
        let f = &f;
        async move {
            f.at(at)
                .store
                .vote(&n("n3"), 1, &n(voter), window, 2)
                .await
                .expect("votes")
        }
    };
    assert!(!vote("n1", 10_000).await);
    assert!(!vote("n1", 10_100).await, "one voter twice is one vote");
    assert!(!vote("n2", 16_000).await, "n1's vote has run out");
    assert!(vote("n1", 16_100).await);
    let m = f.store.membership().await.expect("members");
    let n3 = m
        .members
        .iter()
        .find(|m| m.name.as_str() == "n3")
        .expect("n3");
    assert_eq!(n3.status, MemberStatus::Dead);
}

async fn nodes_joining_at_once_get_one_epoch_and_one_log_row_each(f: Fixture) {
    f.at(10_000);
    let mut stores = vec![f.store.clone()];
    for _ in 0..3 {
        stores.push(f.second().await);
    }
    let joins = stores.iter().enumerate().map(|(i, store)| {
        let store = store.clone();
        tokio::spawn(async move {
            let name = n(&format!("n{i}"));
            store.join(&name, addr(7000 + i as u16), SUSPICION).await
        })
    });
    for j in futures::future::join_all(joins).await {
        assert_eq!(j.expect("task").expect("joins").incarnation, 1);
    }
    let epochs: Vec<u64> = f
        .store
        .changes_since(0, 100)
        .await
        .expect("log")
        .iter()
        .map(|c| c.epoch)
        .collect();
    assert_eq!(
        epochs,
        [1, 2, 3, 4],
        "one epoch per join, no gap, no repeat"
    );
    assert_eq!(f.store.membership().await.expect("members").epoch, 4);
}

fn timing(heartbeat_ms: u64, suspicion_ms: u64) -> ClusterTiming {
    ClusterTiming {
        heartbeat: Duration::from_millis(heartbeat_ms),
        suspicion: Duration::from_millis(suspicion_ms),
    }
}

async fn the_first_live_node_sets_the_timings_and_later_ones_run_on_them(f: Fixture) {
    join(&f, "n1", 7001, 1_000).await;
    let first = f.store.settle_timing(&n("n1"), timing(250, 2_000)).await;
    assert_eq!(first.expect("settles"), timing(250, 2_000));
    // n1 is live: n2's other timings are not written, it is told the cluster's.
    join(&f, "n2", 7002, 1_500).await;
    let second = f.store.settle_timing(&n("n2"), timing(250, 10_000)).await;
    assert_eq!(second.expect("settles"), timing(250, 2_000));
    // n1 alone again (n2 left), proposing anew, is the only live member: its own proposal.
    let inc = f.store.membership().await.expect("members").members[1].incarnation;
    f.store
        .set_status(&n("n2"), inc, MemberStatus::Left)
        .await
        .expect("leaves");
    let again = f.store.settle_timing(&n("n1"), timing(100, 1_000)).await;
    assert_eq!(again.expect("settles"), timing(100, 1_000));
    // Once everyone is silent past the stored suspicion, a newcomer sets them.
    join(&f, "n3", 7003, 9_000).await;
    let fresh = f.store.settle_timing(&n("n3"), timing(300, 3_000)).await;
    assert_eq!(fresh.expect("settles"), timing(300, 3_000));
    let late = f.store.settle_timing(&n("n1"), timing(250, 2_000)).await;
    assert_eq!(late.expect("settles"), timing(300, 3_000));
}
