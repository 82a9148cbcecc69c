//! Placement is a pure function of (members, id): every client, and every node process, places
//! every id the same way, and each id is served by the owner the ring names.

use std::time::Duration;

use ringshop_shared::NodeId;
use ringshop_shared::transport::{self, DEFAULT_CONNECT_TIMEOUT};
use ringshop_tests::TestCluster;

const IDS: u64 = 10_000;

fn owners(ring: &ringshop_shared::Ring) -> Vec<NodeId> {
    (0..IDS)
        .map(|id| ring.owner(&id).cloned().expect("ring has members"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_independent_clients_place_ten_thousand_ids_identically() {
    let cluster = TestCluster::in_process(3, Duration::from_secs(5)).await;
    let a = cluster.client().await;
    let mut reversed = cluster.addrs();
    reversed.reverse();
    let b = ringshop_tui::Cluster::connect(&reversed, ringshop_tests::test_config())
        .await
        .expect("connects");
    let (pa, pb) = (owners(&a.ring()), owners(&b.ring()));
    assert_eq!(pa, pb);
    for node in ["n1", "n2", "n3"] {
        let share = pa.iter().filter(|n| n.as_str() == node).count();
        assert!(share > 2_000, "{node} owns only {share} of {IDS}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_in_another_process_places_ids_as_the_clients_do() {
    let cluster = TestCluster::processes(3, Duration::from_secs(5));
    let client = cluster.client().await;
    let ring = client.ring();
    let members: Vec<NodeId> = ring.members().cloned().collect();
    let ids: Vec<u64> = (0..IDS).collect();
    for addr in cluster.addrs() {
        let node = transport::connect_shard(addr, DEFAULT_CONNECT_TIMEOUT)
            .await
            .expect("connects");
        let theirs = node
            .placement(
                transport::context(Duration::from_secs(5)),
                members.clone(),
                ring.vnodes(),
                ids.clone(),
            )
            .await
            .expect("answers")
            .expect("a valid question");
        assert_eq!(theirs, owners(&ring), "node at {addr} disagrees");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_id_is_served_by_the_owner_the_ring_names() {
    let cluster = TestCluster::processes(3, Duration::from_secs(5));
    let client = cluster.client().await;
    let ring = client.ring();
    for id in (0..IDS).step_by(37) {
        let answer = client.request(id).await.expect("answered");
        let owner = ring.owner(&id).expect("ring has members");
        assert_eq!(&answer.report.node, owner, "id {id}");
        assert_eq!(&answer.value.node, owner, "id {id}: the node names itself");
        assert_eq!(answer.report.addr, cluster.node(owner).addr);
        assert!(!answer.report.failed_over());
    }
}
