//! The cluster across hosts: each node in a network namespace of its own (a test host, made by
//! `scripts/hosts.sh`), all over one PostgreSQL server in another, every connection mutual TLS,
//! the tests' clients in a client namespace. Three hosts join one cluster; sixty buyers on three
//! hosts never oversell; a partitioned host is declared dead, its ids are answered elsewhere
//! without a failed call, and it comes back under a new incarnation after the heal; the chaos
//! checker's four properties hold with partitions among the faults; strangers are refused across
//! the bridge.
//!
//! Each test is an outer `#[test]` that makes the hosts and an inner, ignored one that runs inside
//! them (see `ringshop_tests::hosts`). Skipped, loudly, without root, `ip netns` or PostgreSQL's
//! binaries, unless `RINGSHOP_REQUIRE_HOSTS=1` (CI).

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ringshop_node::certs;
use ringshop_shared::transport::{self, DEFAULT_CONNECT_TIMEOUT, Role};
use ringshop_shared::{MemberStatus, NodeId};
use ringshop_tests::chaos::{self, Fault, Settings, Step};
use ringshop_tests::hosts::{Hosts, run_inside};
use ringshop_tests::tls::{not_a_peer, raw_tls_client, refused, still_serves};
use ringshop_tests::{CLIENT_CERT, TestCluster, main_binary, name};
use ringshop_tui::Cluster;

const CATALOG: &str = "\
lamp,Desk lamp,home,4500,10
mug,Mug,tea,1200,500
";

/// A cluster of `size` child-process nodes on the hosts this inner test runs among.
fn cluster_on_hosts(size: usize) -> TestCluster {
    let payment = ringshop_tests::paying(Duration::from_millis(100));
    let mut cluster =
        TestCluster::shop(Duration::from_secs(5), CATALOG, payment).on_hosts(Hosts::inside());
    tokio::task::block_in_place(|| {
        for i in 1..=size {
            cluster.add_process(name(i));
        }
    });
    cluster
}

/// Waits (at most `limit`) until `client` lists `count` active members.
async fn until_active(client: &Cluster, count: usize, limit: Duration) {
    let started = Instant::now();
    loop {
        let _ = client.refresh().await;
        let active = client
            .members()
            .iter()
            .filter(|m| m.status == MemberStatus::Active)
            .count();
        if active == count {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "{active} of {count} active after {limit:?}: {:?}",
            client.members()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn three_hosts_join_one_cluster_over_postgres() {
    run_inside("inner_three_hosts_join", 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the inside of three_hosts_join_one_cluster_over_postgres"]
async fn inner_three_hosts_join() {
    let cluster = cluster_on_hosts(3);
    let hosts = cluster.hosts().clone();
    let client = cluster.client().await;
    until_active(&client, 3, Duration::from_secs(10)).await;
    // Each member is listed at its own host's address: the one it advertised, dialled across
    // the bridge.
    for member in client.members() {
        let host = hosts.host_of(&member.name);
        assert_eq!(member.addr.ip(), hosts.ip(host), "{member:?}");
    }
    // Every node reads the same membership from the one server, across the bridge over TLS.
    let listings = cluster.listings().await;
    assert!(
        listings.iter().all(|l| l.members.len() == 3),
        "{listings:?}"
    );
    let epochs: BTreeSet<u64> = listings.iter().map(|l| l.epoch).collect();
    assert_eq!(epochs.len(), 1, "epochs {epochs:?}");
    // Ids are spread over the three hosts, each answered by its owner.
    let mut answered_by = BTreeSet::new();
    for id in 0..60u64 {
        let answer = client.request(id).await.expect("answered");
        assert_eq!(Some(&answer.report.node), client.owner(&id).as_ref());
        answered_by.insert(answer.report.node);
    }
    assert_eq!(answered_by.len(), 3, "{answered_by:?}");
}

#[test]
fn sixty_buyers_on_three_hosts_buy_exactly_the_ten_lamps() {
    run_inside("inner_sixty_buyers", 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the inside of sixty_buyers_on_three_hosts_buy_exactly_the_ten_lamps"]
async fn inner_sixty_buyers() {
    let cluster = cluster_on_hosts(3);
    let hosts = cluster.hosts().clone();
    until_active(&cluster.client().await, 3, Duration::from_secs(10)).await;
    let seeds: Vec<String> = cluster.addrs().iter().map(|a| a.to_string()).collect();
    // Twenty `ringshop buy lamp` processes on each host, all at once, each with the client
    // certificate, each dialling the nodes across the bridge.
    let mut buyers = Vec::new();
    for host in 1..=3 {
        for j in 0..20 {
            let child = Command::new("ip")
                .args(["netns", "exec", &hosts.namespace(host)])
                .arg(main_binary())
                .args(["--nodes", &seeds.join(",")])
                .arg("--certs")
                .arg(cluster.certs_dir())
                .args(["--color", "never", "buy", "lamp", "--yes"])
                .args(["--customer", &format!("h{host}-{j}")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starts a buyer");
            buyers.push(child);
        }
    }
    let outcomes = tokio::task::block_in_place(|| {
        buyers
            .into_iter()
            .map(|b| b.wait_with_output().expect("a buyer ends"))
            .collect::<Vec<_>>()
    });
    let mut by_code: BTreeMap<Option<i32>, usize> = BTreeMap::new();
    for out in &outcomes {
        *by_code.entry(out.status.code()).or_default() += 1;
    }
    let others: Vec<String> = outcomes
        .iter()
        .filter(|o| !matches!(o.status.code(), Some(0) | Some(5)))
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .take(3)
        .collect();
    eprintln!("sixty buyers on three hosts: exit codes {by_code:?}");
    // 0: bought; 5: refused (out of stock). Nothing else: no buyer lost a call.
    assert_eq!(by_code.get(&Some(0)), Some(&10), "{by_code:?} {others:?}");
    assert_eq!(by_code.get(&Some(5)), Some(&50), "{by_code:?} {others:?}");
    let books = cluster.audit().await;
    let lamp = &books["lamp"];
    assert_eq!(
        (lamp.left, lamp.sold, lamp.held, lamp.done_units),
        (0, 10, 0, 10),
        "{lamp:?}"
    );
}

#[test]
fn a_partitioned_host_is_declared_dead_its_ids_answered_elsewhere_and_it_comes_back() {
    run_inside("inner_partition", 3);
}

/// What the load saw of one call.
struct Seen {
    id: u64,
    node: Option<NodeId>,
    start: Instant,
    end: Instant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the inside of a_partitioned_host_is_declared_dead_its_ids_answered_elsewhere_and_it_comes_back"]
async fn inner_partition() {
    let cluster = cluster_on_hosts(3);
    let client = cluster.client().await;
    until_active(&client, 3, Duration::from_secs(10)).await;
    let victim = name(2);
    let ids: Vec<u64> = (0..300).collect();
    let owned: BTreeSet<u64> = ids
        .iter()
        .copied()
        .filter(|id| client.owner(id).as_ref() == Some(&victim))
        .collect();
    assert!(!owned.is_empty());
    // Eight workers call every id in turn until told to stop.
    let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = tokio_util::sync::CancellationToken::new();
    let mut workers = Vec::new();
    for w in 0..8usize {
        let (client, seen, failures, stop) =
            (client.clone(), seen.clone(), failures.clone(), stop.clone());
        let ids = ids.clone();
        workers.push(tokio::spawn(async move {
            let mut i = w;
            while !stop.is_cancelled() {
                let id = ids[i % ids.len()];
                i += 8;
                let start = Instant::now();
                let answer = client.request(id).await;
                let end = Instant::now();
                let node = match answer {
                    Ok(a) => Some(a.report.node),
                    Err(e) => {
                        failures.lock().expect("lock").push(format!("{id}: {e}"));
                        None
                    }
                };
                seen.lock().expect("lock").push(Seen {
                    id,
                    node,
                    start,
                    end,
                });
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cut = Instant::now();
    cluster.partition(&victim);
    // Declared dead, as the client sees it.
    let dead_at = loop {
        if client
            .members()
            .iter()
            .any(|m| m.name == victim && m.status == MemberStatus::Dead)
        {
            break Instant::now();
        }
        assert!(
            cut.elapsed() < Duration::from_secs(15),
            "{victim} was not declared dead: {:?}",
            client.members()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Each of the victim's ids answered by another node: when that first happened.
    let moved_at = {
        let seen = seen.lock().expect("lock");
        let mut first: BTreeMap<u64, Instant> = BTreeMap::new();
        for s in seen.iter().filter(|s| s.start >= cut) {
            if owned.contains(&s.id) && s.node.as_ref().is_some_and(|n| n != &victim) {
                let at = first.entry(s.id).or_insert(s.end);
                *at = (*at).min(s.end);
            }
        }
        assert_eq!(
            first.len(),
            owned.len(),
            "every id {victim} owned was answered elsewhere"
        );
        first.values().copied().max().expect("some ids")
    };
    let healed = Instant::now();
    cluster.heal(&victim);
    // Back under a new incarnation, and answering for its ids again.
    let back_at = loop {
        let _ = client.refresh().await;
        let back = client
            .members()
            .iter()
            .any(|m| m.name == victim && m.status == MemberStatus::Active && m.incarnation >= 2);
        if back {
            break Instant::now();
        }
        assert!(
            healed.elapsed() < Duration::from_secs(20),
            "{victim} did not come back: {:?}",
            client.members()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let answers_again = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.cancel();
    for worker in workers {
        worker.await.expect("a worker ends");
    }
    let seen = seen.lock().expect("lock");
    let failures = failures.lock().expect("lock");
    let calls = seen.len();
    let own_again = seen
        .iter()
        .filter(|s| s.start >= answers_again && owned.contains(&s.id))
        .filter(|s| s.node.as_ref() == Some(&victim))
        .count();
    let slowest = seen
        .iter()
        .map(|s| s.end - s.start)
        .max()
        .unwrap_or_default();
    eprintln!(
        "partition of {victim}'s host: declared dead after {} ms, its {} ids answered elsewhere \
         after {} ms; heal: back as incarnation 2 after {} ms; {calls} calls, {} failed, \
         slowest {} ms",
        (dead_at - cut).as_millis(),
        owned.len(),
        (moved_at - cut).as_millis(),
        (back_at - healed).as_millis(),
        failures.len(),
        slowest.as_millis()
    );
    assert!(failures.is_empty(), "failed calls: {:?}", &failures[..]);
    assert!(own_again > 0, "{victim} answers for its ids again");
}

#[test]
fn the_chaos_checker_holds_on_hosts_with_partitions() {
    run_inside("inner_chaos", 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the inside of the_chaos_checker_holds_on_hosts_with_partitions"]
async fn inner_chaos() {
    let mut settings = Settings::short();
    settings.nodes = 3;
    settings.steps.push(Step {
        after: Duration::from_secs(4),
        fault: Fault::Partition(Duration::from_secs(3)),
    });
    settings.steps.push(Step {
        after: Duration::from_secs(3),
        fault: Fault::CutClient(Duration::from_secs(3)),
    });
    let cluster = settings.cluster().on_hosts(Hosts::inside());
    let outcome = chaos::run_on(cluster, &settings).await;
    let report = &outcome.report;
    eprintln!("{report}");
    let partitions = outcome
        .history
        .events
        .iter()
        .filter(|e| e.kind == chaos::history::EventKind::Partition)
        .count();
    assert_eq!(partitions, 1, "the partition step ran");
    let cuts = outcome
        .history
        .events
        .iter()
        .filter(|e| e.kind == chaos::history::EventKind::CutClient)
        .count();
    assert_eq!(cuts, 1, "the client-cut step ran");
    report.assert_holds();
}

#[test]
fn strangers_are_refused_across_the_bridge() {
    run_inside("inner_strangers", 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the inside of strangers_are_refused_across_the_bridge"]
async fn inner_strangers() {
    let cluster = cluster_on_hosts(1);
    let addr = cluster.addrs()[0];
    assert!(!addr.ip().is_loopback(), "{addr}");
    let ca = cluster.certs_dir().join(certs::CA_CERT);
    refused("no client certificate", || raw_tls_client(addr, &ca, None)).await;
    let other = TestCluster::empty(Duration::from_secs(5)).with_tls();
    let cert_name = NodeId::new(CLIENT_CERT).expect("a valid name");
    let theirs = (
        certs::cert_path(other.certs_dir(), Role::Client, &cert_name),
        certs::key_path(other.certs_dir(), Role::Client, &cert_name),
    );
    refused("another CA's client certificate", || {
        raw_tls_client(addr, &ca, Some(theirs))
    })
    .await;
    let main = transport::connect_shard(addr, DEFAULT_CONNECT_TIMEOUT, &cluster.security())
        .await
        .expect("connects with the client certificate");
    not_a_peer(&main, &name(1)).await;
    still_serves(&cluster, addr).await;
}

#[test]
fn a_client_cut_from_one_live_node_reaches_it_through_another_without_a_failed_call() {
    run_inside("inner_client_cut", 3);
}

/// Calls every id in turn with `workers` workers for `length`: each call's end, how long it
/// took and whether it was relayed; the failures.
async fn load_for(
    client: &Cluster,
    workers: usize,
    length: Duration,
) -> (Vec<(Instant, Duration, bool)>, Vec<String>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let until = Instant::now() + length;
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (client, seen, failures) = (client.clone(), seen.clone(), failures.clone());
            tokio::spawn(async move {
                let mut id = w as u64;
                while Instant::now() < until {
                    let start = Instant::now();
                    match client.request(id % 300).await {
                        Ok(a) => seen.lock().expect("lock").push((
                            Instant::now(),
                            start.elapsed(),
                            a.report.via.is_some(),
                        )),
                        Err(e) => failures.lock().expect("lock").push(format!("{id}: {e}")),
                    }
                    id += workers as u64;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a worker ends");
    }
    let seen = std::mem::take(&mut *seen.lock().expect("lock"));
    let failures = std::mem::take(&mut *failures.lock().expect("lock"));
    (seen, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the inside of a_client_cut_from_one_live_node_reaches_it_through_another_without_a_failed_call"]
async fn inner_client_cut() {
    let cluster = cluster_on_hosts(3);
    let client = cluster.client().await;
    until_active(&client, 3, Duration::from_secs(10)).await;
    let victim = name(2);
    let host = cluster.hosts().host_of(&victim);
    let (uncut, failures) = load_for(&client, 8, Duration::from_secs(2)).await;
    assert!(failures.is_empty(), "before the cut: {failures:?}");
    cluster.hosts().cut_client(host);
    let cut_at = Instant::now();
    let (cut, failures) = load_for(&client, 8, Duration::from_secs(5)).await;
    // Buys whose orders and products land anywhere, the cut node's among them.
    let mut bought = 0;
    for _ in 0..9 {
        let order = ringshop_tests::new_order("cut", &[("mug", 1)]);
        let placed = client
            .checkout(&order)
            .await
            .expect("placed during the cut");
        let end = ringshop_tests::follow_until(
            &client,
            placed.value,
            ringshop_shared::Stage::Done,
            Duration::from_secs(30),
        )
        .await;
        bought += usize::from(end.stage == ringshop_shared::Stage::Done);
    }
    cluster.hosts().mend_client(host);
    let relayed = cut.iter().filter(|(_, _, via)| *via).count();
    let slowest = cut
        .iter()
        .map(|(_, took, _)| *took)
        .max()
        .unwrap_or_default();
    // Calls per second uncut, and in the cut's last 2.5 s (the first calls on the cut
    // connection wait out one deadline before the client turns to a relay).
    let late = cut_at + Duration::from_millis(2_500);
    let per_s_uncut = uncut.len() as f64 / 2.0;
    let per_s_cut = cut.iter().filter(|(end, _, _)| *end >= late).count() as f64 / 2.5;
    println!(
        "client cut from {victim}: {:.0} calls/s before, {:.0} calls/s during the cut ({:.0}%), \
         {relayed} relayed, slowest call {slowest:?}, {bought} of 9 buys bought",
        per_s_uncut,
        per_s_cut,
        100.0 * per_s_cut / per_s_uncut.max(1.0)
    );
    assert!(failures.is_empty(), "during the cut: {failures:?}");
    assert!(relayed > 0, "no call went through a relay");
    assert_eq!(bought, 9, "every buy during the cut was bought");
    // Never the 10 s patience per call that made a cut-off client collapse.
    assert!(
        slowest < Duration::from_secs(5),
        "a call waited {slowest:?} during the cut"
    );
    let status = client
        .members()
        .into_iter()
        .find(|m| m.name == victim)
        .map(|m| m.status);
    assert_eq!(
        status,
        Some(MemberStatus::Active),
        "{victim} stays a member: only this client was cut from it"
    );
}

#[test]
fn checkouts_across_a_cut_between_two_nodes_reserve_through_a_third() {
    run_inside("inner_node_cut", 3);
}

/// Buys `n` mugs one after another, each in an order whose id `owner` owns (so its checkout
/// runs there), and follows each to its end: how long each took to be bought.
async fn buy_each(client: &Cluster, n: usize, owner: &NodeId, customer: &str) -> Vec<Duration> {
    let mut took = Vec::new();
    for _ in 0..n {
        let order = loop {
            let order = ringshop_tests::new_order(customer, &[("mug", 1)]);
            if client.owner(&order.id).as_ref() == Some(owner) {
                break order;
            }
        };
        let started = Instant::now();
        let placed = client.checkout(&order).await.expect("placed");
        let end = ringshop_tests::follow_until(
            client,
            placed.value,
            ringshop_shared::Stage::Done,
            Duration::from_secs(40),
        )
        .await;
        assert_eq!(end.stage, ringshop_shared::Stage::Done, "{end:?}");
        took.push(started.elapsed());
    }
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the inside of checkouts_across_a_cut_between_two_nodes_reserve_through_a_third"]
async fn inner_node_cut() {
    let cluster = cluster_on_hosts(3);
    let client = cluster.client().await;
    until_active(&client, 3, Duration::from_secs(10)).await;
    // Every checkout crosses the cut: its order's owner on one side, the mug's on the other.
    let mug = ringshop_tests::product("mug");
    let seller = client.owner(&mug).expect("the mug has an owner");
    let buyer = [name(1), name(2), name(3)]
        .into_iter()
        .find(|n| *n != seller)
        .expect("another node");
    let normal = buy_each(&client, 6, &buyer, "before").await;
    let (a, b) = (
        cluster.hosts().host_of(&buyer),
        cluster.hosts().host_of(&seller),
    );
    cluster.hosts().cut(a, b);
    let cut = buy_each(&client, 8, &buyer, "during").await;
    cluster.hosts().mend(a, b);
    let slowest = |t: &[Duration]| t.iter().max().copied().unwrap_or_default();
    let mean = |t: &[Duration]| t.iter().sum::<Duration>() / t.len().max(1) as u32;
    println!(
        "node cut {buyer}-{seller}: checkouts took {:?} mean, {:?} at most before; {:?} mean, {:?} at most during the cut",
        mean(&normal),
        slowest(&normal),
        mean(&cut),
        slowest(&cut)
    );
    // Waiting out the cut took ~28 s per checkout before relays.
    assert!(
        slowest(&cut) < Duration::from_secs(8),
        "a checkout took {:?} during the cut",
        slowest(&cut)
    );
    let members = client.members();
    for node in [name(1), name(2), name(3)] {
        let status = members.iter().find(|m| m.name == node).map(|m| m.status);
        assert_eq!(status, Some(MemberStatus::Active), "{node}: {members:?}");
    }
}
