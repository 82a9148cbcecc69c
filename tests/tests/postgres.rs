//! The cluster over PostgreSQL (`--db postgres://...`): nodes join one cluster through the
//! server, stock is never oversold by concurrent buyers, a node that loses the database fences
//! itself and answers again once the server is back, and the chaos checker's four properties
//! hold. Each test runs on a throwaway server (ringshop-testpg) and is skipped, loudly, where
//! the PostgreSQL binaries are missing, unless `RINGSHOP_REQUIRE_PG=1` (CI) makes that a
//! failure.

use std::time::{Duration, Instant};

use ringshop_node::Db;
use ringshop_shared::transport::Security;
use ringshop_shared::{MemberStatus, transport};
use ringshop_tests::chaos::{self, Settings};
use ringshop_tests::{TestCluster, name, until_fenced, until_served};

const CATALOG: &str = "\
lamp,Desk lamp,home,4500,10
mug,Mug,tea,1200,500
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_node_processes_join_one_cluster_over_postgres_and_share_the_ids() {
    let Some(mut cluster) = TestCluster::empty(Duration::from_secs(30)).over_postgres("three_join")
    else {
        return;
    };
    assert!(matches!(cluster.database(), Db::Postgres(_)));
    tokio::task::block_in_place(|| {
        for i in 1..=3 {
            cluster.add_process(name(i));
        }
    });
    let client = cluster.client().await;
    let active = |client: &ringshop_tui::Cluster| {
        client
            .members()
            .iter()
            .filter(|m| m.status == MemberStatus::Active)
            .count()
    };
    let started = Instant::now();
    while active(&client) < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "members: {:?}",
            client.members()
        );
        client.refresh().await.expect("lists the members");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every node reads the same membership from the server.
    let listings = cluster.listings().await;
    assert!(
        listings.iter().all(|l| l.members.len() == 3),
        "{listings:?}"
    );
    let epochs: Vec<u64> = listings.iter().map(|l| l.epoch).collect();
    assert!(epochs.iter().all(|e| *e == epochs[0]), "epochs {epochs:?}");
    // Ids are spread over the three, each answered by its owner.
    let mut answered_by = std::collections::BTreeSet::new();
    for id in 0..60u64 {
        let answer = client.request(id).await.expect("answered");
        assert_eq!(Some(&answer.report.node), client.owner(&id).as_ref());
        answered_by.insert(answer.report.node);
    }
    assert_eq!(answered_by.len(), 3, "{answered_by:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_concurrent_buyers_of_ten_lamps_over_postgres_exactly_ten_succeed() {
    let payment = ringshop_tests::paying(Duration::from_millis(100));
    let Some(mut cluster) =
        TestCluster::shop(Duration::from_secs(5), CATALOG, payment).over_postgres("sixty_buyers")
    else {
        return;
    };
    for i in 1..=3 {
        cluster.add_in_process(name(i)).await;
    }
    let client = cluster.client().await;
    let done = ringshop_tests::buy_one_each(&client, 60, "lamp", "pg").await;
    assert_eq!(done, 10, "exactly the ten lamps were bought");
    let audit = cluster.audit().await;
    let lamp = &audit["lamp"];
    assert_eq!((lamp.left, lamp.sold, lamp.held), (0, 10, 0));
    for (id, a) in &audit {
        assert!(a.settled(), "{id}: {a:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_fences_itself_while_postgres_is_down_and_answers_again_when_it_returns() {
    let Some(server) = ringshop_testpg::own_server("fence") else {
        return;
    };
    let db = server.create_database("fence").expect("a database");
    let mut cluster =
        TestCluster::empty(Duration::from_secs(30)).with_database(Db::postgres(server.url(&db)));
    cluster.add_in_process(name(1)).await;
    let node =
        transport::connect_shard(cluster.addrs()[0], Duration::from_secs(1), &Security::Plain)
            .await
            .expect("connects");
    let ask = || node.request(transport::context(Duration::from_millis(500)), 7, 0);
    let first = ask().await.expect("an answer").expect("served").value;

    tokio::task::block_in_place(|| server.stop()).expect("the server stops");
    let fenced = until_fenced(ask, first, Duration::from_secs(6)).await;
    let fenced = fenced.expect("the node kept answering without its database");
    assert!(
        fenced <= Duration::from_secs(3),
        "fenced only {fenced:?} after the database went"
    );

    tokio::task::block_in_place(|| server.start_again()).expect("the server starts again");
    let answered = until_served(ask, Duration::from_secs(15)).await;
    let answered = answered.expect("the node never answered again once the database was back");
    println!(
        "fenced {fenced:?} after PostgreSQL stopped; answering {answered:?} after it came back"
    );
    let members = cluster.store().await.membership().await.expect("lists");
    assert_eq!(members.members.len(), 1);
    assert_eq!(members.members[0].status, MemberStatus::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chaos_checkers_four_properties_hold_over_postgres() {
    let settings = Settings::short();
    let Some(cluster) = settings.cluster().over_postgres("chaos") else {
        return;
    };
    let outcome = chaos::run_on(cluster, &settings).await;
    let report = &outcome.report;
    println!("{report}");
    report.assert_holds();
}
