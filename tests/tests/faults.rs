//! Failure detection the Orleans way, against real node processes: a node that is only slow
//! (paused for less than the suspicion time) is never declared dead, however impatient its
//! clients are; a node frozen past it is declared dead, and when it runs again it rejoins
//! under a new incarnation by itself and serves again, with no restart. A checkout waiting on
//! a frozen member tells its buyer which one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ringshop_shared::transport::Security;
use ringshop_shared::{MemberStatus, NodeId, ShardError, Stage, Unavailable, transport};
use ringshop_tests::{TestCluster, name, test_config, until_fenced, until_served};
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

/// A member asked to probe a frozen one (a main could not reach it) answers by the caller's
/// deadline, with its view as it is then (still a member), instead of letting its probes
/// (direct, then through another member: 1.5 s here) run past it: the main then reads a fresh
/// view and goes on, where it waited out a deadline per witness (found by the simulator,
/// seed 452).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_answers_a_suspicion_by_the_callers_deadline() {
    let mut cluster = TestCluster::processes(3, Duration::from_secs(30));
    let witness = transport::connect_shard(
        cluster.node(&name(1)).addr,
        Duration::from_secs(1),
        &Security::Plain,
    )
    .await
    .expect("connects");
    let n2 = name(2);
    cluster.pause(&n2);
    let asked = Instant::now();
    let answer = witness
        .suspect(transport::context(Duration::from_millis(700)), n2.clone())
        .await;
    let took = asked.elapsed();
    cluster.resume(&n2);
    assert!(
        matches!(answer, Ok(Ok(false))),
        "a frozen member the cluster has not declared dead is still in the ring: {answer:?}"
    );
    assert!(took < Duration::from_millis(700), "answered after {took:?}");
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

/// A one-node cluster that answered once, then lost every heartbeat (a trigger refuses them
/// until `DROP TRIGGER fault`): the node, and how long it took to refuse as fenced (None: it
/// kept answering for 4 s).
async fn a_lone_node_losing_its_lease()
-> (TestCluster, ringshop_shared::ShardClient, Option<Duration>) {
    let cluster = TestCluster::in_process(1, Duration::from_secs(30)).await;
    let node =
        transport::connect_shard(cluster.addrs()[0], Duration::from_secs(1), &Security::Plain)
            .await
            .expect("connects");
    let ask = || node.request(transport::context(Duration::from_millis(500)), 7, 0);
    let first = ask().await.expect("an answer").expect("served").value;
    // Every heartbeat fails from now on: the lease runs out within the suspicion time.
    cluster
        .sql(
            "CREATE TRIGGER fault BEFORE UPDATE OF heartbeat_ms ON members
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
        )
        .await;
    let fenced = until_fenced(ask, first, Duration::from_secs(4)).await;
    (cluster, node, fenced)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_renew_its_lease_answers_unavailable_until_it_does() {
    let (cluster, node, fenced) = a_lone_node_losing_its_lease().await;
    let ask = || node.request(transport::context(Duration::from_millis(500)), 7, 0);
    let fenced = fenced.expect("the node kept answering without a lease");
    assert!(
        fenced <= Duration::from_secs(2),
        "fenced only after {fenced:?}"
    );
    let stats = node
        .stats(transport::context(Duration::from_secs(1)))
        .await
        .expect("stats still answer");
    assert!(stats.fenced >= 1, "the refusal is counted");

    cluster.sql("DROP TRIGGER fault;").await;
    let back = until_served(ask, Duration::from_secs(5)).await.is_some();
    assert!(back, "the node never answered again once heartbeats landed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_started_at_the_same_instant_on_a_fresh_store_all_come_up() {
    for round in 0..6 {
        let cluster = TestCluster::empty(Duration::from_secs(5));
        let starts: Vec<std::process::Child> = (1..=3)
            .map(|i| {
                std::process::Command::new(ringshop_tests::node_binary())
                    .args(["--name", &format!("n{i}"), "--listen", "127.0.0.1:0"])
                    .arg("--db")
                    .arg(cluster.db())
                    .env("RUST_LOG", "error")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("starts")
            })
            .collect();
        for mut child in starts {
            let out = child.stdout.take().expect("piped");
            let line = tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line);
                line
            });
            let line = tokio::time::timeout(Duration::from_secs(20), line)
                .await
                .expect("prints its address in time")
                .expect("reads");
            let _ = child.kill();
            let output = child.wait_with_output().expect("exits");
            assert!(
                line.contains("listening on"),
                "round {round}: a node did not come up: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

/// A node whose process was paused for longer than a heartbeat (1 s: under the suspicion, so
/// the cluster keeps it) notices when it runs again and answers for no id until a heartbeat
/// sent after the pause has landed; then it serves on under its first incarnation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_paused_longer_than_a_heartbeat_renews_before_it_answers_again() {
    let mut cluster = TestCluster::empty(Duration::from_secs(30)).with_node_log(name(1), "info");
    tokio::task::block_in_place(|| {
        cluster.add_process(name(1));
        cluster.add_process(name(2));
    });
    let client = Cluster::connect(&cluster.addrs(), test_config())
        .await
        .expect("connects");
    let ids = owned_by(&client, &name(1), 20);
    for id in &ids {
        client.request(*id).await.expect("served before the pause");
    }
    cluster.pause(&name(1));
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.resume(&name(1));
    for id in &ids {
        client.request(*id).await.expect("served after the pause");
    }
    let log = cluster.node_log(&name(1));
    assert!(
        log.contains("this process was paused"),
        "n1 did not notice its pause: {log}"
    );
    assert_eq!(
        member(&client, &name(1)),
        Some((MemberStatus::Active, 1)),
        "paused under the suspicion, it stays a member"
    );
}

/// A checkout whose product's owner is frozen: the buyer following it is told, within about a
/// second, which member it waits on; once the cluster declares that member dead the product
/// moves, the wait ends (the buyer is told that too) and the order is bought, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_waiting_on_a_frozen_member_names_it_to_the_buyer_then_goes_on() {
    let catalog = "mug,Mug,tea,1200,40\n";
    let payment = ringshop_tests::paying(Duration::from_millis(100));
    let mut cluster = TestCluster::shop(Duration::from_secs(30), catalog, payment);
    for i in 1..=3 {
        cluster.add_process(name(i));
    }
    let client = cluster.client().await;
    let seller = client
        .owner(&ringshop_tests::product("mug"))
        .expect("the mug has an owner");
    let order = loop {
        let order = ringshop_tests::new_order("waiting", &[("mug", 1)]);
        if client.owner(&order.id).is_some_and(|o| o != seller) {
            break order;
        }
    };
    cluster.pause(&seller);
    let placed = client.checkout(&order).await.expect("acknowledged").value;
    let mut progress = vec![placed.progress()];
    let mut current = placed.clone();
    let mut stream = client.follow_order(placed);
    let started = Instant::now();
    while !current.stage.is_final() && started.elapsed() < Duration::from_secs(20) {
        match tokio::time::timeout(Duration::from_secs(20), stream.next()).await {
            Ok(Some(Ok(next))) => {
                current = next.value;
                println!("{:?}: {:?}", started.elapsed(), current.progress());
                progress.push(current.progress());
            }
            Ok(Some(Err(e))) => println!("watch failed: {e}"),
            Ok(None) | Err(_) => break,
        }
    }
    cluster.resume(&seller);
    assert_eq!(current.stage, Stage::Done, "{current:?} after {progress:?}");
    let waited = progress
        .iter()
        .position(|p| p.waiting.as_ref() == Some(&seller))
        .unwrap_or_else(|| panic!("the buyer was never told it waits on {seller}: {progress:?}"));
    assert_eq!(progress[waited].stage, Stage::Reserving, "{progress:?}");
    assert!(
        progress[waited..].iter().any(|p| p.waiting.is_none()),
        "the wait ended and the buyer heard so: {progress:?}"
    );
    assert!(current.waiting.is_none(), "{current:?}");
    assert!(
        progress
            .iter()
            .all(|p| p.waiting.as_ref() != Some(&current.node)),
        "never told it waits on {}, the node running it: {progress:?}",
        current.node
    );
    let audit = cluster.audit().await;
    let mug = audit.get("mug").expect("the mug is audited");
    assert_eq!((mug.sold, mug.held), (1, 0), "{mug:?}");
}

/// The one ownership rule (node/src/server/state.rs): an order's RPCs, like every other RPC
/// about an id, are not answered by a node that may not answer for the id now. A node without
/// a lease takes no order: `Unavailable { Fenced }`, nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_renew_its_lease_takes_no_order_until_it_does() {
    let (cluster, node, fenced) = a_lone_node_losing_its_lease().await;
    let ask = || node.request(transport::context(Duration::from_millis(500)), 7, 0);
    fenced.expect("the node kept answering without a lease");

    let order = ringshop_tests::new_order("fenced", &[("mug", 1)]);
    let placed = node
        .checkout(transport::context(Duration::from_secs(2)), order.clone(), 0)
        .await
        .expect("an answer");
    assert!(
        matches!(
            placed,
            Err(ShardError::Unavailable {
                reason: Unavailable::Fenced,
                ..
            })
        ),
        "a fenced node took an order: {placed:?}"
    );
    let stored = node
        .order(transport::context(Duration::from_secs(1)), order.id)
        .await
        .expect("an answer");
    assert!(
        matches!(stored, Err(ShardError::UnknownOrder { .. })),
        "{stored:?}"
    );

    cluster.sql("DROP TRIGGER fault;").await;
    until_served(ask, Duration::from_secs(5))
        .await
        .expect("the node never answered again once heartbeats landed");
    let placed = node
        .checkout(transport::context(Duration::from_secs(2)), order, 0)
        .await
        .expect("an answer");
    assert!(placed.is_ok(), "{placed:?}");
}
