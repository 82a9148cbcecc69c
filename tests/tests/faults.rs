//! Failure detection the Orleans way, against real node processes: a node that is only slow
//! (paused for less than the suspicion time) is never declared dead, however impatient its
//! clients are; a node frozen past it is declared dead, and when it runs again it rejoins
//! under a new incarnation by itself and serves again, with no restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringshop_shared::{MemberStatus, NodeId};
use ringshop_tests::{TestCluster, name, test_config};
use ringshop_tui::{Cluster, ClusterConfig};

fn member(client: &Cluster, node: &NodeId) -> Option<(MemberStatus, u64)> {
    client
        .members()
        .into_iter()
        .find(|m| &m.name == node)
        .map(|m| (m.status, m.incarnation))
}

/// Ids `node` owns in `client`'s ring.
fn owned_by(client: &Cluster, node: &NodeId, how_many: usize) -> Vec<u64> {
    let ring = client.ring();
    (0..100_000u64)
        .filter(|id| ring.owner(id) == Some(node))
        .take(how_many)
        .collect()
}

/// Calls `ids` round and round until `stop`; (calls, failures).
fn load(
    client: Cluster,
    ids: Vec<u64>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(u64, u64)> {
    tokio::spawn(async move {
        let (calls, failures) = (AtomicU64::new(0), AtomicU64::new(0));
        for id in ids.iter().cycle() {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            calls.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = client.request(*id).await {
                eprintln!("id {id}: {e}");
                failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        (calls.into_inner(), failures.into_inner())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_paused_below_the_suspicion_time_stays_up_under_its_first_incarnation() {
    let mut cluster = TestCluster::processes(3, Duration::from_secs(30));
    let impatient = Cluster::connect(
        &cluster.addrs(),
        ClusterConfig {
            deadline: Duration::from_millis(700),
            ..test_config()
        },
    )
    .await
    .expect("connects");
    let n2 = name(2);
    let ids = owned_by(&impatient, &n2, 20);
    let stop = Arc::new(AtomicBool::new(false));
    let calls = load(impatient.clone(), ids, stop.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.pause(&n2);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    cluster.resume(&n2);
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let (calls, failures) = calls.await.expect("the load ran");
    impatient.refresh().await.expect("lists the members");
    assert_eq!(
        member(&impatient, &n2),
        Some((MemberStatus::Active, 1)),
        "n2 was declared dead for a pause shorter than the suspicion time"
    );
    assert!(calls > 20, "only {calls} calls were made");
    assert_eq!(failures, 0, "{failures} of {calls} calls failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_node_is_declared_dead_and_rejoins_by_itself_when_it_runs_again() {
    let mut cluster = TestCluster::processes(3, Duration::from_secs(30));
    let client = cluster.client().await;
    let n2 = name(2);
    let id = owned_by(&client, &n2, 1)[0];
    assert_eq!(client.request(id).await.expect("answered").report.node, n2);

    cluster.pause(&n2);
    let frozen = Instant::now();
    let mut dead = None;
    while frozen.elapsed() < Duration::from_secs(6) {
        client.refresh().await.expect("lists the members");
        if member(&client, &n2).is_some_and(|(s, _)| s == MemberStatus::Dead) {
            dead = Some(frozen.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dead = dead.expect("n2 was never declared dead");
    assert!(
        dead <= Duration::from_secs(3),
        "declared dead after {dead:?}"
    );
    let during = client
        .request(id)
        .await
        .expect("another node answers meanwhile");
    assert_ne!(during.report.node, n2);

    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.resume(&n2);
    let resumed = Instant::now();
    let mut back = None;
    while resumed.elapsed() < Duration::from_secs(6) {
        client.refresh().await.expect("lists the members");
        if member(&client, &n2) == Some((MemberStatus::Active, 2))
            && client.request(id).await.is_ok_and(|a| a.report.node == n2)
        {
            back = Some(resumed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let back = back.expect("n2 never served again under a new incarnation");
    assert!(
        back <= Duration::from_secs(2),
        "served again {back:?} after SIGCONT"
    );
    assert!(cluster.is_running(&n2), "the same process, never restarted");
}
