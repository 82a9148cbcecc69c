//! The main recovers by itself from any cluster state (TUI.md 22a): once every node is down,
//! a long-lived `Cluster` lists no member up, and when one node is back on its old address (a
//! new incarnation) the same `Cluster` lists it up and answers again within a few seconds,
//! with nothing from its caller but polling; a member that joined on a new address while every
//! known node was down is found through the old address that came back. In the TUI's mode
//! (`connect_or_wait`) a client opened with nothing up waits and finds the first node to start
//! at an address it was given. (A member whose address was never given nor seen cannot be found
//! while no known address answers: nothing can tell the client where it is.)

use std::time::{Duration, Instant};

use ringshop_shared::NodeId;
use ringshop_tests::{TestCluster, name, within};
use ringshop_tui::Cluster;
use ringshop_tui::client::Embedded;

const TTL: Duration = Duration::from_secs(30);
/// How long a member may still look up after its node was killed.
const SEES_DOWN_WITHIN: Duration = Duration::from_secs(5);
/// How long the client may take, from the restart, to list the node up and answer again.
const RECOVERS_WITHIN: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_lived_client_recovers_when_a_process_node_restarts_on_its_old_address() {
    let mut cluster = TestCluster::processes(3, TTL);
    let client = cluster.client().await;
    let n1 = name(1);
    let before = kill_every_node(&mut cluster, &client, &n1).await;

    let addr = tokio::task::block_in_place(|| cluster.restart_process_in_place(&n1));
    assert_eq!(addr, cluster.node(&n1).addr);
    let took = answers_again(&client, &n1, before).await;
    eprintln!(
        "process node restarted: listed up after {:?}, answered after {:?}",
        took.0, took.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_lived_client_recovers_when_an_in_process_node_restarts_on_its_old_address() {
    let mut cluster = TestCluster::in_process(3, TTL).await;
    let client = cluster.client().await;
    let n1 = name(1);
    let before = kill_every_node(&mut cluster, &client, &n1).await;

    // The store refuses the name while its old row still looks alive (2 s of suspicion).
    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster.restart_in_process(&n1).await;
    let took = answers_again(&client, &n1, before).await;
    eprintln!(
        "in-process node restarted: listed up after {:?}, answered after {:?}",
        took.0, took.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_cluster_starts_a_node_again_where_its_clients_find_it() {
    let mut embedded = Embedded::start(3, TTL)
        .await
        .expect("the embedded cluster starts");
    let client = Cluster::connect(&embedded.addrs(), ringshop_tui::ClusterConfig::default())
        .await
        .expect("connects");
    let n1 = name(1);
    let all_up = within(SEES_DOWN_WITHIN, Duration::from_millis(20), || {
        client.members().iter().filter(|m| m.up).count() == 3
    })
    .await;
    assert!(all_up.is_some(), "not all up: {:?}", client.members());
    let (before, old_addr) = client
        .members()
        .into_iter()
        .find(|m| m.name == n1)
        .map(|m| (m.incarnation, m.addr))
        .expect("n1 is listed");
    for i in 1..=3 {
        embedded.kill(&name(i)).await.expect("running");
    }
    let seen = within(SEES_DOWN_WITHIN, Duration::from_millis(20), || {
        client.members().iter().all(|m| !m.up)
    })
    .await;
    assert!(seen.is_some(), "the client lists {:?} up", up(&client));
    // The store refuses the name while its old row still looks alive (2 s of suspicion).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let addr = embedded
        .start_node(n1.clone())
        .await
        .expect("n1 starts again");
    assert_eq!(addr, old_addr, "started again where it listened before");
    let took = answers_again(&client, &n1, before).await;
    eprintln!(
        "embedded node started again: listed up after {:?}, answered after {:?}",
        took.0, took.1
    );
    embedded.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_joined_elsewhere_while_every_known_node_was_down_is_found_through_an_old_address()
 {
    let mut cluster = TestCluster::processes(3, TTL);
    let client = cluster.client().await;
    let n1 = name(1);
    let before = kill_every_node(&mut cluster, &client, &n1).await;
    // n4 joins on an address this client has never seen; nothing it knows answers.
    let n4 = name(4);
    let n4_addr = tokio::task::block_in_place(|| cluster.add_process(n4.clone()));
    assert!(!client.searching().contains(&n4_addr));
    assert!(client.searching().contains(&cluster.node(&n1).addr));

    tokio::task::block_in_place(|| cluster.restart_process_in_place(&n1));
    let started = Instant::now();
    let found = within(RECOVERS_WITHIN, Duration::from_millis(20), || {
        let up = up(&client);
        up.contains(&n4) && up.contains(&n1)
    })
    .await;
    assert!(
        found.is_some(),
        "n1 came back at its old address {RECOVERS_WITHIN:?} ago, yet the client lists {:?}",
        client.members()
    );
    assert!(client.searching().is_empty(), "it looks no more");
    let n1_now = client.members().into_iter().find(|m| m.name == n1);
    assert!(n1_now.is_some_and(|m| m.incarnation > before));
    // n4 answers for its ids.
    let id = (0..1_000u64)
        .find(|id| client.owner(id).as_ref() == Some(&n4))
        .expect("n4 owns some id");
    let answer = tokio::time::timeout(RECOVERS_WITHIN, client.request(id))
        .await
        .expect("answers in time")
        .expect("answers");
    assert_eq!(answer.report.node, n4);
    eprintln!(
        "n4 (joined while every known node was down) found {:?} after n1 came back",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_opened_in_the_tuis_mode_with_nothing_up_waits_and_finds_the_first_node() {
    let mut cluster = TestCluster::empty(TTL);
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port"); // dropped: nothing listens there
    let client = Cluster::connect_or_wait(&[free], ringshop_tests::test_config())
        .await
        .expect("opens with nothing up");
    assert!(client.members().is_empty());
    assert_eq!(client.searching(), vec![free]);
    let err = client.request(1).await.expect_err("nothing to ask yet");
    assert!(
        err.to_string()
            .contains("no member is up: this client knows of no active member"),
        "{err}"
    );
    let n1 = name(1);
    cluster
        .add_in_process_with(n1.clone(), |mut config| {
            config.listen = free;
            config
        })
        .await;
    let started = Instant::now();
    let took = answers_again(&client, &n1, 0).await;
    assert!(client.searching().is_empty());
    eprintln!(
        "first node found {:?} after it started (listed after {:?})",
        started.elapsed(),
        took.0
    );
}

/// Kills every node once the client lists them all up; `node`'s incarnation before. The
/// client must then list none up.
async fn kill_every_node(cluster: &mut TestCluster, client: &Cluster, node: &NodeId) -> u64 {
    let all_up = within(SEES_DOWN_WITHIN, Duration::from_millis(20), || {
        client.members().iter().filter(|m| m.up).count() == 3
    })
    .await;
    assert!(all_up.is_some(), "not all up: {:?}", client.members());
    client.request(0).await.expect("the cluster answers");
    let before = client
        .members()
        .into_iter()
        .find(|m| &m.name == node)
        .map(|m| m.incarnation)
        .expect("the node is listed");
    for n in cluster.names() {
        cluster.kill(&n).await;
    }
    let seen = within(SEES_DOWN_WITHIN, Duration::from_millis(20), || {
        client.members().iter().all(|m| !m.up)
    })
    .await;
    let up: Vec<NodeId> = up(client);
    assert!(
        seen.is_some(),
        "every node was killed {SEES_DOWN_WITHIN:?} ago, yet the client lists {up:?} up"
    );
    before
}

/// Waits, polling `members()` only, for the client to list `node` up under a new
/// incarnation, then asks it for ids: how long until it was listed, and until it answered.
/// Fails past `RECOVERS_WITHIN`.
async fn answers_again(client: &Cluster, node: &NodeId, before: u64) -> (Duration, Duration) {
    let started = Instant::now();
    let listed = within(RECOVERS_WITHIN, Duration::from_millis(20), || {
        client
            .members()
            .iter()
            .any(|m| &m.name == node && m.up && m.incarnation > before)
    })
    .await;
    let Some(listed) = listed else {
        panic!(
            "{node} was restarted {RECOVERS_WITHIN:?} ago, yet the client lists {:?}",
            client.members()
        )
    };
    for id in 0..3u64 {
        let left = RECOVERS_WITHIN.saturating_sub(started.elapsed());
        let answer = tokio::time::timeout(left, client.request(id))
            .await
            .unwrap_or_else(|_| panic!("id {id} got no answer within {RECOVERS_WITHIN:?}"))
            .unwrap_or_else(|e| panic!("id {id} failed after {node} was back: {e}"));
        assert_eq!(&answer.report.node, node, "only {node} is running");
    }
    assert_eq!(up(client), vec![node.clone()], "only {node} is up");
    (listed, started.elapsed())
}

fn up(client: &Cluster) -> Vec<NodeId> {
    client
        .members()
        .into_iter()
        .filter(|m| m.up)
        .map(|m| m.name)
        .collect()
}
