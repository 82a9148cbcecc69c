//! The store failing under the shop, on real nodes: a full disk (a small tmpfs filled to the
//! last byte) refuses buys with the typed store-full error and loses no acknowledged order;
//! once space returns the shop serves again by itself.

use std::time::{Duration, Instant};

use ringshop_node::store::Db;
use ringshop_shared::{ShardError, Stage, StoreHealth};
use ringshop_tests::{TestCluster, follow, name, new_order, paying};
use ringshop_tui::ClusterError;

const CATALOG: &str = "mug,Mug,tea,1200,100000\n";

/// Follows each acknowledged order to its end: every one must exist and finish.
async fn every_order_ends(client: &ringshop_tui::Cluster, acked: &[ringshop_shared::Order]) {
    for o in acked {
        let (end, _) = follow(client, o.clone(), Stage::Done, Duration::from_secs(40)).await;
        assert!(
            end.stage.is_final(),
            "acknowledged order {} did not end: {:?}",
            o.id,
            end.stage
        );
        let stored = client.order(o.id).await;
        assert!(
            stored.is_ok(),
            "acknowledged order {} is not stored: {stored:?}",
            o.id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_buys_as_store_full_loses_no_acknowledged_order_and_recovers() {
    let Some(disk) = ringshop_testpg::SmallDisk::mount("the full-disk shop test", 16) else {
        return;
    };
    let mut cluster = TestCluster::shop(
        Duration::from_secs(5),
        CATALOG,
        paying(Duration::from_millis(300)),
    )
    .with_database(Db::Sqlite(disk.path().join("cluster.db")));
    for i in 1..=3 {
        cluster.add_in_process(name(i)).await;
    }
    let client = cluster.client().await;
    // Orders placed while there is space, still paying when the disk fills.
    let mut acked = Vec::new();
    for _ in 0..6 {
        let placed = client.checkout(&new_order("early", &[("mug", 1)])).await;
        acked.push(placed.expect("placed while there is space").value);
    }
    disk.fill();
    // Full for longer than the suspicion time: heartbeats fail too, every node fences.
    let (mut full, mut other) = (0, Vec::new());
    let filled = Instant::now();
    while filled.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        match client.checkout(&new_order("full", &[("mug", 1)])).await {
            Ok(answer) => acked.push(answer.value),
            Err(ClusterError::Shard {
                error: ShardError::StoreFull { .. },
                ..
            }) => full += 1,
            Err(e) => other.push(e.to_string()),
        }
    }
    assert!(
        full > 0,
        "the disk was full, yet no buy was refused as store-full"
    );
    // The buyer's verb says so with its own exit code (6) and JSON kind.
    let join: Vec<String> = cluster.addrs().iter().map(|a| a.to_string()).collect();
    let buy = tokio::task::spawn_blocking(move || {
        std::process::Command::new(ringshop_tests::main_binary())
            .args(["buy", "mug", "--yes", "--json", "--join", &join.join(",")])
            .output()
    })
    .await
    .expect("the verb's thread")
    .expect("ringshop runs");
    let stderr = String::from_utf8_lossy(&buy.stderr);
    assert_eq!(buy.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("\"kind\":\"store_full\""), "{stderr}");
    // `ringshop cluster` shows it: every node's heartbeat writes found the disk full.
    let health: Vec<_> = ringshop_tests::node_stats(&client)
        .await
        .into_iter()
        .map(|(n, s)| (n, s.store))
        .collect();
    assert!(
        health.iter().all(|(_, h)| *h == StoreHealth::Full),
        "{health:?}"
    );
    assert!(other.is_empty(), "buys failed otherwise: {other:?}");
    disk.free();
    let freed = Instant::now();
    let back = loop {
        match client.checkout(&new_order("after", &[("mug", 1)])).await {
            Ok(answer) => {
                acked.push(answer.value);
                break freed.elapsed();
            }
            Err(e) if freed.elapsed() < Duration::from_secs(10) => {
                eprintln!("not yet: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("still refused 10 s after space returned: {e}"),
        }
    };
    eprintln!(
        "{} acknowledged, {full} refused as store-full; buys back {back:?} after space returned",
        acked.len()
    );
    assert!(
        back <= Duration::from_secs(2),
        "buys came back {back:?} after space returned"
    );
    every_order_ends(&client, &acked).await;
    let health = ringshop_tests::node_stats(&client).await;
    assert!(
        health.iter().all(|(_, s)| s.store == StoreHealth::Ok),
        "{health:?}"
    );
    let audit = cluster.audit().await;
    let mug = &audit["mug"];
    assert_eq!(mug.initial, mug.left + mug.sold + mug.held, "{mug:?}");
}

/// Every kind of store failure, injected at random into the writes and reads of three nodes
/// while buyers buy: a buy is either acknowledged (and then its order exists and ends) or
/// refused with a typed store error; transient failures (busy, lost connection, lost after
/// its commit) are tried again inside the call and never reach the buyer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_store_faults_are_retried_or_typed_and_lose_no_acknowledged_order() {
    use ringshop_node::store::faulty::{Access, Fault, Faults, FaultyStore, Rule};
    let faults = Faults::new();
    let mut cluster = TestCluster::shop(
        Duration::from_secs(5),
        "mug,Mug,tea,1200,100000\nlamp,Desk lamp,home,4500,10\n",
        paying(Duration::from_millis(200)),
    );
    for i in 1..=3 {
        let faults = faults.clone();
        cluster
            .add_in_process_on(name(i), move |store| {
                std::sync::Arc::new(FaultyStore::new(store, faults))
            })
            .await;
    }
    let client = cluster.client().await;
    faults.set(vec![
        Rule::writes(Fault::Full, 0.02),
        Rule::writes(Fault::Io, 0.02),
        Rule::writes(Fault::Busy, 0.04),
        Rule::writes(Fault::Lost, 0.04),
        Rule::writes(Fault::LostAfter, 0.04),
        Rule {
            method: None,
            access: Some(Access::Read),
            fault: Fault::Lost,
            rate: 0.04,
        },
        Rule::writes(Fault::Slow(Duration::from_millis(30)), 0.1),
    ]);
    let buys = (0..80).map(|i| {
        let client = client.clone();
        let product = if i % 4 == 0 { "lamp" } else { "mug" };
        tokio::spawn(async move {
            client
                .checkout(&new_order("faulty", &[(product, 1)]))
                .await
                .map(|a| a.value)
        })
    });
    let (mut acked, mut typed, mut other) = (Vec::new(), 0, Vec::new());
    for buy in futures::future::join_all(buys).await {
        match buy.expect("a buyer's task ends") {
            Ok(order) => acked.push(order),
            Err(ClusterError::Shard {
                error: ShardError::StoreFull { .. },
                ..
            }) => typed += 1,
            // A disk I/O error is not worth retrying; a busy lock or a lost connection is, and
            // must not reach the buyer.
            Err(ClusterError::Shard {
                error: ShardError::Store { reason, .. },
                ..
            }) if reason.contains("disk I/O error") => typed += 1,
            Err(ClusterError::Shard {
                error: ShardError::OutOfStock { .. },
                ..
            }) => {}
            Err(e) => other.push(e.to_string()),
        }
    }
    assert!(other.is_empty(), "buys failed untyped: {other:?}");
    assert!(!acked.is_empty(), "no buy went through");
    // The checkout jobs run under the same faults.
    every_order_ends(&client, &acked).await;
    let injected = faults.injected();
    faults.heal();
    eprintln!(
        "{} acknowledged, {typed} refused with a typed store error, {injected} faults injected",
        acked.len()
    );
    assert!(
        injected > 0,
        "no fault was injected: the test tested nothing"
    );
    let audit = cluster.audit().await;
    for (id, a) in &audit {
        assert_eq!(a.initial, a.left + a.sold + a.held, "{id}: {a:?}");
    }
    assert!(
        audit["lamp"].sold <= 10,
        "lamps oversold: {:?}",
        audit["lamp"]
    );
}
