//! Handoff at scale (issue 23 item 3), printed, not asserted: three node processes (the built
//! release binary, SQLite) holding `IDS` live ids between them (TTL 10 min), under a load that
//! asks random ids (one client, 32 in flight):
//!
//! - leave: n2 leaves gracefully (SIGTERM): how long until its process is gone, entries handed
//!   per second, how many of n2's ids were recomputed instead of handed (each asked once after
//!   the leave: a miss is a recompute), the load's hit rate while n2 was leaving;
//! - join: on a fresh cluster, n4 joins: how long from its start until it has adopted every
//!   id it owns, the same counts.
//!
//! `cargo build --release -p ringshop-node && cargo bench -p ringshop-tests --bench handoff`
//! (`RINGSHOP_HANDOFF_IDS`, default 900,000 for the leave: n2 holds about 300,000; the join
//! runs on 1,000,000).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ringshop_tests::{TestCluster, name, node_stats, total};
use ringshop_tui::Cluster;

const IN_FLIGHT: usize = 256;

fn main() {
    let runtime = ringshop_tests::bench_runtime();
    runtime.block_on(bench());
}

fn ids() -> u64 {
    std::env::var("RINGSHOP_HANDOFF_IDS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(900_000)
}

async fn bench() {
    leave(ids()).await;
    join(1_000_000).await;
}

/// Three node processes holding ids 0..count live; the cluster and a client.
async fn filled(count: u64) -> (TestCluster, Cluster) {
    let cluster = TestCluster::processes(3, Duration::from_secs(600));
    let client = cluster.client().await;
    let filled = Instant::now();
    let misses = futures::stream::iter(0..count)
        .map(|id| {
            let client = &client;
            async move { client.request(id).await.map(|a| !a.value.hit) }
        })
        .buffer_unordered(IN_FLIGHT)
        .fold(0u64, |n, answer| async move {
            n + u64::from(answer.expect("answered while filling"))
        })
        .await;
    let fill = filled.elapsed();
    let live: Vec<String> = node_stats(&client)
        .await
        .iter()
        .map(|(n, s)| format!("{n} {}", s.live_actors))
        .collect();
    println!(
        "filled {count} ids in {:.1} s ({:.0}/s, {misses} misses); live actors: {}",
        fill.as_secs_f64(),
        count as f64 / fill.as_secs_f64(),
        live.join(", ")
    );
    (cluster, client)
}

/// Random ids of 0..count, 32 in flight, until `stop`: (calls answered, hits) so far.
struct Load {
    stop: Arc<AtomicBool>,
    hits: Arc<AtomicU64>,
    asked: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    async fn start(cluster: &TestCluster, count: u64) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let (hits, asked) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (client, stop2, hits2, asked2) = (
            cluster.client().await,
            stop.clone(),
            hits.clone(),
            asked.clone(),
        );
        let (stop_handle, hits_handle, asked_handle) = (stop, hits, asked);
        let (stop, hits, asked) = (stop2, hits2, asked2);
        let task = tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(7);
            let ids: Vec<u64> = (0..1_000_000).map(|_| rng.u64(0..count)).collect();
            futures::stream::iter(ids)
                .take_while(|_| {
                    let go = !stop.load(Ordering::Relaxed);
                    async move { go }
                })
                .for_each_concurrent(32, |id| {
                    let (client, hits, asked) = (&client, &hits, &asked);
                    async move {
                        if let Ok(a) = client.request(id).await {
                            asked.fetch_add(1, Ordering::Relaxed);
                            hits.fetch_add(u64::from(a.value.hit), Ordering::Relaxed);
                        }
                    }
                })
                .await;
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        Load {
            stop: stop_handle,
            hits: hits_handle,
            asked: asked_handle,
            task,
        }
    }

    fn now(&self) -> (u64, u64) {
        (
            self.asked.load(Ordering::Relaxed),
            self.hits.load(Ordering::Relaxed),
        )
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
    }
}

/// Asks each of `ids` once: how many were misses (recomputed, not handed over).
async fn recomputed(client: &Cluster, ids: &[u64]) -> u64 {
    futures::stream::iter(ids.iter().copied())
        .map(|id| async move { client.request(id).await.map(|a| !a.value.hit) })
        .buffer_unordered(IN_FLIGHT)
        .fold(0u64, |n, answer| async move {
            n + u64::from(answer.expect("answered after the move"))
        })
        .await
}

fn report(
    what: &str,
    took: Duration,
    held: usize,
    adopted: u64,
    recomputed: u64,
    load: ((u64, u64), (u64, u64)),
) {
    let ((asked0, hits0), (asked1, hits1)) = load;
    let during = asked1 - asked0;
    println!(
        "{what} in {:.2} s, {held} ids moving: {adopted} adopted ({:.0} entries/s, {:.2} s per \
         100,000), {recomputed} recomputed; the load meanwhile: {during} calls ({:.0}/s; {asked0} \
         in the second before), hit rate {:.1}%",
        took.as_secs_f64(),
        adopted as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 100_000.0 / held.max(1) as f64,
        during as f64 / took.as_secs_f64(),
        100.0 * (hits1 - hits0) as f64 / during.max(1) as f64,
    );
}

async fn leave(count: u64) {
    let (mut cluster, client) = filled(count).await;
    let n2 = name(2);
    let ring = client.ring();
    let of_n2: Vec<u64> = (0..count)
        .filter(|id| ring.owner(id) == Some(&n2))
        .collect();
    let adopted_before = total(&client, |s| s.adopted).await;
    let load = Load::start(&cluster, count).await;
    let during = load.now();
    let pid = cluster.pid(&n2).to_string();
    let started = Instant::now();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    let left = loop {
        if !cluster.is_running(&n2) {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "n2 still leaving after 300 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let during = (during, load.now());
    load.stop().await;
    client.refresh().await.expect("the membership without n2");
    let adopted = total(&client, |s| s.adopted).await - adopted_before;
    let recomputed = recomputed(&client, &of_n2).await;
    report(
        "leave: n2 left",
        left,
        of_n2.len(),
        adopted,
        recomputed,
        during,
    );
}

async fn join(count: u64) {
    let (mut cluster, client) = filled(count).await;
    let load = Load::start(&cluster, count).await;
    let during = load.now();
    let n4 = name(4);
    let started = Instant::now();
    cluster.add_process(n4.clone());
    let mut ring = client.ring();
    let mut of_n4: Vec<u64> = Vec::new();
    let joined = loop {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "n4 still joining after 300 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
        if !ring.contains(&n4) {
            ring = client.ring();
            if !ring.contains(&n4) {
                continue;
            }
            of_n4 = (0..count)
                .filter(|id| ring.owner(id) == Some(&n4))
                .collect();
        }
        let adopted = node_stats(&client)
            .await
            .into_iter()
            .find(|(n, _)| n == &n4)
            .map_or(0, |(_, s)| s.adopted);
        if adopted >= of_n4.len() as u64 {
            break (started.elapsed(), adopted);
        }
    };
    let during = (during, load.now());
    load.stop().await;
    let recomputed = recomputed(&client, &of_n4).await;
    report(
        "join: n4 joined and adopted",
        joined.0,
        of_n4.len(),
        joined.1,
        recomputed,
        during,
    );
}
