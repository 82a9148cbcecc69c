//! Shop throughput and recovery, printed (the tests hold correctness; this says how fast).
//! Run with `cargo bench -p ringshop-tests --bench shop`.
//!
//! - orders/s: a 3-node cluster, payment delay 0, 64 buyers at once, each placing one-line
//!   orders and following each to `done`; counted over a fixed number of orders. On SQLite
//!   (one file, WAL, synchronous=NORMAL) three rounds each of in-process nodes and of node
//!   processes (the built binary), interleaved, with the median (a closed loop: at saturation);
//!   then the time per order at a given load, orders offered at 1,500/s and 2,000/s; then, in
//!   process, on a throwaway PostgreSQL server on this machine, with `synchronous_commit` off (the same durability class as SQLite's
//!   NORMAL: a crash of the machine may lose the last commits, never corrupt) and on (every
//!   commit flushed), side by side. PostgreSQL is skipped, saying so, without its binaries.
//! - resume: node processes, payment 1 s; kill the node running an order during payment and
//!   time until its order moves on another node (the client is watching and asks for a probe;
//!   the order moves once the cluster declares the node dead and its lease has run out), and
//!   until it is bought.

use std::time::{Duration, Instant};

use ringshop_node::Db;
use ringshop_node::shop::checkout::Payment;
use ringshop_shared::{NewOrder, Order, OrderId, OrderLine, ProductId, Stage};
use ringshop_tests::{TestCluster, name};
use ringshop_tui::Cluster;

const CATALOG: &str =
    "mug,Mug,tea,1200,100000\nlamp,Lamp,home,4500,100000\npen,Pen,books,900,100000\n";
/// Orders per throughput run; `RINGSHOP_SHOP_ORDERS` sets another count (a longer run to
/// profile).
fn orders() -> usize {
    std::env::var("RINGSHOP_SHOP_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}
const IN_FLIGHT: usize = 64;
/// Rounds of the SQLite checkout throughput, per side.
const ROUNDS: usize = 3;
/// The fixed rates (orders/s) at which the time per order is measured as well.
const PACED: [f64; 2] = [1_500.0, 2_000.0];

/// Where the bench's three nodes run.
#[derive(Clone, Copy, Debug)]
enum Nodes {
    InProcess,
    Processes,
}

impl std::fmt::Display for Nodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Nodes::InProcess => "3 in-process nodes",
            Nodes::Processes => "3 node processes",
        })
    }
}

/// One throughput run.
#[derive(Clone, Copy, Debug)]
struct Run {
    orders: f64,
    p99_ms: f64,
}

fn main() {
    let runtime = ringshop_tests::bench_runtime();
    // `RINGSHOP_SHOP_BENCH=postgres`: only the PostgreSQL runs (after the anchor), to work on
    // that backend without the SQLite rounds' minutes.
    let only_postgres = std::env::var("RINGSHOP_SHOP_BENCH").is_ok_and(|v| v == "postgres");
    runtime.block_on(async {
        let shop = || TestCluster::shop(Duration::from_secs(5), CATALOG, payment_now());
        let raw = sqlite_writes_per_s().await;
        if only_postgres {
            println!("anchor: SQLite, one connection: {raw:.0} single-statement writes/s\n");
            postgres(shop).await;
            return;
        }
        println!(
            "anchor: SQLite on this machine, one connection, WAL, synchronous=NORMAL: {raw:.0} \
             single-statement writes/s\n"
        );
        // In-process nodes and node processes (the built binary, as users run it), in
        // interleaved rounds: this machine is shared, so one round says little.
        let mut sides = [(Nodes::InProcess, Vec::new()), (Nodes::Processes, Vec::new())];
        for _ in 0..ROUNDS {
            for (nodes, runs) in sides.iter_mut() {
                let label = format!("SQLite (WAL, synchronous=NORMAL), {nodes}");
                runs.push(throughput(&label, *nodes, shop(), None).await);
            }
        }
        for (nodes, runs) in &mut sides {
            runs.sort_by(|a, b| a.orders.total_cmp(&b.orders));
            let median = runs[runs.len() / 2];
            let p99s: Vec<String> = runs.iter().map(|r| format!("{:.1}", r.p99_ms)).collect();
            println!(
                "SQLite, {nodes}, median of {ROUNDS}: {:.0} orders/s (runs {:.0}..{:.0}), p99 per order {} ms",
                median.orders,
                runs[0].orders,
                runs[runs.len() - 1].orders,
                p99s.join(" / ")
            );
            println!(
                "  = {:.1} raw single-statement writes' time per order ({:.3} of the raw rate)",
                raw / median.orders,
                median.orders / raw
            );
        }
        println!();
        // The time per order at a given load rather than at saturation: the same cluster and
        // buyers, orders offered at a fixed rate.
        for rate in PACED {
            for nodes in [Nodes::InProcess, Nodes::Processes] {
                let label = format!("SQLite (WAL, synchronous=NORMAL), {nodes}");
                throughput(&label, nodes, shop(), Some(rate)).await;
            }
        }
        postgres(shop).await;
        resume().await;
    });
}

/// The closed loop on PostgreSQL, in process, with `synchronous_commit` off and on.
async fn postgres(shop: impl Fn() -> TestCluster) {
    for (label, commit) in [
        ("PostgreSQL (synchronous_commit=off)", "off"),
        ("PostgreSQL (synchronous_commit=on)", "on"),
    ] {
        let settings = ringshop_testpg::Settings::of(&[
            ("max_connections", "300"),
            ("synchronous_commit", commit),
        ]);
        match ringshop_testpg::Server::start_with(&settings) {
            Ok(server) => {
                let db = server.create_database("bench").expect("a database");
                let url = server.url(&db);
                let before = transactions(&url).await;
                let cluster = shop().with_database(Db::postgres(url.clone()));
                throughput(label, Nodes::InProcess, cluster, None).await;
                // The nodes are gone (their connections closed, which flushes each
                // backend's counts): what the server ran for the run, per order.
                tokio::time::sleep(Duration::from_secs(1)).await;
                let ran = transactions(&url).await.saturating_sub(before);
                println!(
                    "  = {:.1} transactions per order on the server ({ran} in all, the nodes' \
                     start-up and heartbeats included)\n",
                    ran as f64 / orders() as f64
                );
            }
            Err(why) => println!("{label}: {why}\n"),
        }
    }
}

/// The transactions the server has run in the database at `url` (committed and rolled back).
async fn transactions(url: &str) -> u64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connects");
    let n: i64 = sqlx::query_scalar(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await
    .expect("reads the server's counts");
    u64::try_from(n).unwrap_or(0)
}

fn new_order(i: usize) -> NewOrder {
    let product = ["mug", "lamp", "pen"][i % 3];
    NewOrder {
        id: OrderId::random(),
        customer: "bench".into(),
        lines: vec![OrderLine {
            product: ProductId::new(product).expect("valid"),
            qty: 1,
        }],
    }
}

/// Follows an order to its end (at most a minute: a bench that hangs is a failed bench).
async fn until_final(client: &Cluster, o: Order) -> Order {
    ringshop_tests::follow_until(client, o, Stage::Done, Duration::from_secs(60)).await
}

fn payment_now() -> Payment {
    Payment {
        delay: Duration::ZERO,
        failure_rate: 0.0,
    }
}

/// The anchor: how many one-statement write transactions a second SQLite takes here, one
/// connection, the nodes' settings (WAL, synchronous=NORMAL), rows like an order's.
async fn sqlite_writes_per_s() -> f64 {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    const WRITES: usize = 20_000;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut conn = SqliteConnectOptions::new()
        .filename(dir.path().join("raw.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .connect()
        .await
        .expect("opens");
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, customer TEXT, lines TEXT, stage TEXT)")
        .execute(&mut conn)
        .await
        .expect("creates");
    let started = Instant::now();
    for i in 0..WRITES {
        sqlx::query("INSERT INTO t (id, customer, lines, stage) VALUES (?, 'bench', '[[\"mug\",1]]', 'accepted')")
            .bind(i as i64)
            .execute(&mut conn)
            .await
            .expect("writes");
    }
    WRITES as f64 / started.elapsed().as_secs_f64()
}

/// Orders/s of `cluster` (3 nodes) under `IN_FLIGHT` buyers, printed; returned with the p99.
/// With a `rate`, order `i` is placed at `i / rate` s after the start (or as soon as a buyer is
/// free after that) and its time counts from then, so a queue behind busy buyers is counted
/// too; without one, each buyer places its next order as soon as the last is bought (a closed
/// loop at saturation, where the mean time per order is `IN_FLIGHT` / throughput).
async fn throughput(store: &str, nodes: Nodes, mut cluster: TestCluster, rate: Option<f64>) -> Run {
    let orders = orders();
    for i in 1..=3 {
        match nodes {
            Nodes::InProcess => drop(cluster.add_in_process(name(i)).await),
            Nodes::Processes => drop(cluster.add_process(name(i))),
        }
    }
    let client = cluster.client().await;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let buyers = (0..IN_FLIGHT).map(|_| {
        let (client, next) = (client.clone(), next.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= orders {
                    return latencies;
                }
                let t = match rate {
                    Some(rate) => {
                        let at = started + Duration::from_secs_f64(i as f64 / rate);
                        tokio::time::sleep_until(at.into()).await;
                        at
                    }
                    None => Instant::now(),
                };
                let accepted = client.checkout(&new_order(i)).await.expect("accepted");
                let done = until_final(&client, accepted.value).await;
                assert_eq!(done.stage, Stage::Done);
                latencies.push(t.elapsed());
            }
        })
    });
    let mut all = Vec::new();
    for b in futures::future::join_all(buyers).await {
        all.extend(b.expect("buyer"));
    }
    let took = started.elapsed();
    all.sort();
    let pct = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    let offered = match rate {
        Some(rate) => format!("orders offered at {rate:.0}/s to"),
        None => "closed loop of".into(),
    };
    println!("checkout throughput on {store}: payment delay 0, {offered} {IN_FLIGHT} buyers");
    println!(
        "  {orders} orders bought in {:.2} s = {:.0} orders/s; per order p50 {:.1} ms, p99 {:.1} ms\n",
        took.as_secs_f64(),
        orders as f64 / took.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
    Run {
        orders: orders as f64 / took.as_secs_f64(),
        p99_ms: pct(0.99).as_secs_f64() * 1e3,
    }
}

async fn resume() {
    let mut moved = Vec::new();
    let mut bought = Vec::new();
    for _ in 0..3 {
        let payment = Payment {
            delay: Duration::from_secs(1),
            failure_rate: 0.0,
        };
        let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, payment);
        for i in 1..=3 {
            cluster.add_process(name(i));
        }
        let client = cluster.client().await;
        let placed = client
            .checkout(&new_order(0))
            .await
            .expect("accepted")
            .value;
        let o =
            ringshop_tests::follow_until(&client, placed, Stage::Paying, Duration::from_secs(60))
                .await;
        let victim = o.node.clone();
        let id = o.id;
        cluster.kill(&victim).await;
        let killed = Instant::now();
        // The buyer keeps watching (as `ringshop buy` does); meanwhile, read the stored order
        // until another node has claimed it.
        let watcher = {
            let client = client.clone();
            tokio::spawn(async move { until_final(&client, o).await })
        };
        loop {
            let stored = client.order(id).await.expect("readable");
            if stored.node != victim {
                moved.push(killed.elapsed());
                break;
            }
            assert!(killed.elapsed() < Duration::from_secs(10), "never resumed");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let done = watcher.await.expect("watched");
        assert_eq!(done.stage, Stage::Done);
        bought.push(killed.elapsed());
    }
    let ms = |v: &[Duration]| {
        v.iter()
            .map(|d| format!("{:.0}", d.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("resume after SIGKILL during payment (payment 1 s, node processes, client watching):");
    println!(
        "  kill -> order claimed by its new owner:   {} ms",
        ms(&moved)
    );
    println!(
        "  kill -> bought on the new owner:          {} ms",
        ms(&bought)
    );
}
