//! What live ids cost a node, measured as users run it: the built `ringshop-node` in its own
//! process (SQLite, one node), filled with distinct ids over real connections, its resident
//! memory read from /proc/PID/status.
//!
//! Two phases, each on a fresh node:
//! 1. 250,000 live ids: bytes per live id (RSS after filling minus RSS before, over the ids),
//!    then, once every value has retired and the sweeper has run (`live_actors` 0), how much of
//!    that memory went back to the system;
//! 2. 1,000,000 live ids: RSS, misses/s while filling, hits/s reading them all again.
//!
//! Run with `cargo bench -p ringshop-node --bench memory` (Linux: it reads /proc). Targets
//! (issue 11): ≤ 512 bytes per live id, ≥ 90 % returned after the TTL.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringshop_shared::ShardClient;
use ringshop_shared::transport::{self, DEFAULT_CONNECT_TIMEOUT, Security};

/// Connections the load spreads over, and requests in flight on each.
const CONNECTIONS: usize = 4;
const IN_FLIGHT: usize = 128;

struct Node {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start(ttl: Duration) -> Node {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ringshop-node"))
            .args(["--name", "m1", "--listen", "127.0.0.1:0"])
            .arg("--db")
            .arg(dir.path().join("cluster.db"))
            .args(["--ttl", &format!("{}ms", ttl.as_millis())])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the node starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reads the node's first line");
        let addr = line
            .trim()
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("the node printed {line:?}"));
        Node {
            child,
            addr,
            _dir: dir,
        }
    }

    /// Resident memory, bytes.
    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("reads /proc/PID/status (Linux)");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .expect("VmRSS")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ctx() -> tarpc::context::Context {
    transport::context(Duration::from_secs(30))
}

async fn connect(addr: SocketAddr) -> Vec<ShardClient> {
    let mut clients = Vec::new();
    for _ in 0..CONNECTIONS {
        clients.push(
            transport::connect_shard(addr, DEFAULT_CONNECT_TIMEOUT, &Security::Plain)
                .await
                .expect("connects"),
        );
    }
    clients
}

/// Requests ids `0..ids` once each over every connection's `IN_FLIGHT` workers; (requests/s,
/// how many were hits).
async fn sweep_ids(clients: &[ShardClient], ids: u64) -> (f64, u64) {
    let next = Arc::new(AtomicU64::new(0));
    let hits = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for client in clients {
        for _ in 0..IN_FLIGHT {
            let (client, next, hits) = (client.clone(), next.clone(), hits.clone());
            workers.push(tokio::spawn(async move {
                loop {
                    let id = next.fetch_add(1, Ordering::Relaxed);
                    if id >= ids {
                        return;
                    }
                    let answer = client
                        .request(ctx(), id, 0)
                        .await
                        .expect("the node answers")
                        .expect("the node serves the id");
                    if answer.hit {
                        hits.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    for worker in workers {
        worker.await.expect("a worker ends");
    }
    (
        ids as f64 / started.elapsed().as_secs_f64(),
        hits.load(Ordering::Relaxed),
    )
}

async fn live_actors(client: &ShardClient) -> u64 {
    client.stats(ctx()).await.expect("answers").live_actors
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

async fn phase_per_id(ids: u64, ttl: Duration) {
    let node = Node::start(ttl);
    let clients = connect(node.addr).await;
    // Warm the connections and the node's first allocations.
    sweep_ids(&clients, 1_000).await;
    tokio::time::sleep(ttl + Duration::from_secs(2)).await;
    let base = node.rss();
    let filled_at = Instant::now();
    let (misses_per_s, _) = sweep_ids(&clients, ids).await;
    let full = node.rss();
    let live = live_actors(&clients[0]).await;
    // Every value retires one TTL after it was made; the sweeper runs at most 1 s later.
    let wait = ttl.saturating_sub(filled_at.elapsed()) + Duration::from_secs(3);
    tokio::time::sleep(wait).await;
    let left = live_actors(&clients[0]).await;
    let after = node.rss();
    let grown = full.saturating_sub(base);
    let returned = full.saturating_sub(after);
    println!(
        "{ids} live ids (live_actors {live}), filled at {misses_per_s:.0} misses/s: RSS {} -> {} \
         ({} bytes per live id; target <= 512)",
        mib(base),
        mib(full),
        grown / live.max(1),
    );
    println!(
        "after the TTL (live_actors {left}): RSS {} -> {}: {:.0} % of the growth returned \
         (target >= 90 %)",
        mib(full),
        mib(after),
        100.0 * returned as f64 / grown.max(1) as f64
    );
}

async fn phase_million(ids: u64, ttl: Duration) {
    let node = Node::start(ttl);
    let clients = connect(node.addr).await;
    sweep_ids(&clients, 1_000).await;
    let base = node.rss();
    let (misses_per_s, _) = sweep_ids(&clients, ids).await;
    // More reading rounds on request (to profile the node meanwhile); the last one counts.
    let rounds: usize = std::env::var("RINGSHOP_BENCH_HIT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let mut read = (0.0, 0);
    for _ in 0..rounds.max(1) {
        read = sweep_ids(&clients, ids).await;
    }
    let (hits_per_s, hits) = read;
    let full = node.rss();
    let live = live_actors(&clients[0]).await;
    println!(
        "{ids} live ids (live_actors {live}): RSS {} -> {} ({} bytes per live id); \
         {misses_per_s:.0} misses/s filling, {hits_per_s:.0} hits/s reading them again \
         ({hits} hits)",
        mib(base),
        mib(full),
        full.saturating_sub(base) / live.max(1),
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo test --benches` lists targets; nothing to list here.
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        println!(
            "ringshop-node in its own process (SQLite, 1 node); {CONNECTIONS} connections x \
             {IN_FLIGHT} requests in flight"
        );
        if std::env::var_os("RINGSHOP_BENCH_SKIP_PER_ID").is_none() {
            phase_per_id(250_000, Duration::from_secs(15)).await;
        }
        phase_million(1_000_000, Duration::from_secs(60)).await;
    });
}
