//! A dead node is taken out of the ring: its ids are answered by their ring successors (the
//! report says failover), no other id moves, and it is put back when it answers again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ringshop_shared::NodeId;
use ringshop_tests::{TestCluster, name};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_ids_go_to_their_successors_and_no_other_id_moves() {
    let mut cluster = TestCluster::processes(3, Duration::from_secs(30));
    let client = cluster.client().await;
    let ring = client.ring();
    let ids: Vec<u64> = (0..300).collect();
    let before: BTreeMap<u64, NodeId> = ids
        .iter()
        .map(|id| (*id, ring.owner(id).cloned().expect("owned")))
        .collect();
    let victim = before[&0].clone();
    cluster.kill(&victim).await;

    let first = client.request(0).await.expect("answered despite the kill");
    assert!(first.report.failed_over(), "the report says failover");
    assert_eq!(first.report.failover_from, vec![victim.clone()]);

    for id in &ids {
        let answer = client.request(*id).await.expect("every id is answered");
        let old = ring.successors(id);
        if old[0] == &victim {
            assert_eq!(
                &answer.report.node, old[1],
                "id {id} goes to its ring successor"
            );
        } else {
            assert_eq!(answer.report.node, before[id], "id {id} stays where it was");
        }
    }
    let view = client.members();
    let down: Vec<&NodeId> = view.iter().filter(|m| !m.up).map(|m| &m.name).collect();
    assert_eq!(down, vec![&victim]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_comes_back_owns_its_ids_again() {
    let ttl = Duration::from_secs(30);
    let mut cluster = TestCluster::in_process(3, ttl).await;
    let client = cluster.client().await;
    let n2 = name(2);
    let id = (0u64..)
        .find(|id| client.owner(id).as_ref() == Some(&n2))
        .expect("n2 owns some id");
    cluster.kill(&n2).await;
    let during = client.request(id).await.expect("answered by another node");
    assert_ne!(during.report.node, n2);

    cluster.restart_in_process(&n2).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.owner(&id).as_ref() != Some(&n2) {
        assert!(Instant::now() < deadline, "n2 was not put back within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = client.request(id).await.expect("answered");
    assert_eq!(after.report.node, n2);
    assert!(!after.report.failed_over());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_node_dead_a_call_fails_with_a_clear_error() {
    let mut cluster = TestCluster::in_process(2, Duration::from_secs(5)).await;
    let client = cluster.client().await;
    cluster.kill(&name(1)).await;
    cluster.kill(&name(2)).await;
    let started = Instant::now();
    let err = client.request(9).await.expect_err("nobody is up");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("no member is up"), "{err}");
}
