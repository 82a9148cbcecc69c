//! The cost of the full request path against a bare tarpc echo, measured side by side in one
//! run, over the same loopback TCP, frames and codec (`ringshop_shared::transport`).
//!
//! - echo: a one-RPC tarpc service that returns its argument, nothing else;
//! - node: a bare `ShardClient::request(id)` on one connection: the node's side of the path
//!   (registry, the actor's mailbox, the `Served` answer) without the client's;
//! - cluster: `Cluster::request(id)` on warm ids (every answer a hit): ring lookup, deadline,
//!   failover bookkeeping and the report, on top of the node's side.
//!
//! Each is run at 1 and at 64 calls in flight, in interleaved rounds (the machine is shared and
//! noisy); the median round of each path is shown, and the ratio is the median of the
//! per-round ratios (each round's cluster run against the echo run just before it). Run with `cargo bench -p ringshop-tui`.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringshop_node::{Config, serve};
use ringshop_shared::NodeId;
use ringshop_shared::transport::{self, DEFAULT_CONNECT_TIMEOUT, Security};
use ringshop_tui::{Cluster, ClusterConfig};
use tarpc::server::{BaseChannel, Channel};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[tarpc::service]
trait Echo {
    async fn echo(x: u64) -> u64;
}

#[derive(Clone)]
struct EchoServer;

impl Echo for EchoServer {
    async fn echo(self, _: tarpc::context::Context, x: u64) -> u64 {
        x
    }
}

const ROUNDS: usize = 5;
const MEASURE: Duration = Duration::from_millis(1000);
const WARM_IDS: u64 = 1024;

#[derive(Clone, Copy)]
struct Figures {
    calls_per_s: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs `call` from `in_flight` tasks for `MEASURE`; calls/s and latency percentiles.
async fn measure<F, Fut>(in_flight: usize, call: F) -> Figures
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let stop = Instant::now() + MEASURE;
    let counter = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..in_flight)
        .map(|_| {
            let (call, counter) = (call.clone(), counter.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(1 << 16);
                while Instant::now() < stop {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    call(n % WARM_IDS).await;
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("bench task"));
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let pick = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Figures {
        calls_per_s: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

fn median(mut runs: Vec<Figures>) -> Figures {
    runs.sort_by(|a, b| a.calls_per_s.total_cmp(&b.calls_per_s));
    runs[runs.len() / 2]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let localhost = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));

    // The bare echo service, served exactly as a node serves Shard.
    let listener = tokio::net::TcpListener::bind(localhost)
        .await
        .expect("bind");
    let echo_addr = listener.local_addr().expect("addr");
    let (stop, tracker) = (CancellationToken::new(), TaskTracker::new());
    let (s, t) = (stop.clone(), tracker.clone());
    tokio::spawn(transport::accept_loop(
        listener,
        Security::Plain,
        stop.clone(),
        tracker.clone(),
        move |framed, _| {
            let requests = BaseChannel::with_defaults(framed).execute(EchoServer.serve());
            t.spawn(transport::run_requests(requests, s.clone(), t.clone()));
        },
    ));
    let echo = {
        let conn = transport::connect::<EchoRequest, EchoResponse>(
            echo_addr,
            DEFAULT_CONNECT_TIMEOUT,
            &Security::Plain,
        )
        .await
        .expect("echo connects");
        EchoClient::new(tarpc::client::Config::default(), conn).spawn()
    };

    // One real node, and the full client path to it; every id warmed so each call is a hit.
    let name = NodeId::new("b1").expect("valid");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = Config::new(name, localhost)
        .with_ttl(Duration::from_secs(3600))
        .with_db(dir.path().join("bench.db"));
    let node = serve(config).await.expect("node starts");
    let cluster = Cluster::connect(&[node.addr()], ClusterConfig::default())
        .await
        .expect("cluster connects");
    for id in 0..WARM_IDS {
        cluster.request(id).await.expect("warm");
    }
    let shard = transport::connect_shard(node.addr(), DEFAULT_CONNECT_TIMEOUT, &Security::Plain)
        .await
        .expect("node connects");

    println!("request path vs bare tarpc echo: loopback TCP, bincode, 1 MiB frames, 2 workers");
    println!(
        "{ROUNDS} interleaved rounds of {} ms each; median round shown; ratio = median of per-round ratios\n",
        MEASURE.as_millis()
    );
    println!(
        "{:>9}  {:<8} {:>10} {:>8} {:>8}",
        "in flight", "path", "calls/s", "p50", "p99"
    );
    for in_flight in [1usize, 64] {
        let (mut e, mut n, mut c) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let client = echo.clone();
            e.push(
                measure(in_flight, move |x| {
                    let client = client.clone();
                    async move {
                        let ctx = transport::context(Duration::from_secs(5));
                        client.echo(ctx, x).await.expect("echo answers");
                    }
                })
                .await,
            );
            let raw = shard.clone();
            let epoch = cluster.epoch();
            n.push(
                measure(in_flight, move |id| {
                    let raw = raw.clone();
                    async move {
                        let ctx = transport::context(Duration::from_secs(5));
                        let a = raw
                            .request(ctx, id, epoch)
                            .await
                            .expect("answers")
                            .expect("served");
                        assert!(a.hit, "warm ids are hits");
                    }
                })
                .await,
            );
            let cl = cluster.clone();
            c.push(
                measure(in_flight, move |id| {
                    let cl = cl.clone();
                    async move {
                        let a = cl.request(id).await.expect("request answers");
                        assert!(a.value.hit, "warm ids are hits");
                    }
                })
                .await,
            );
        }
        let mut ratios: Vec<f64> = e
            .iter()
            .zip(&c)
            .map(|(e, c)| c.calls_per_s / e.calls_per_s)
            .collect();
        ratios.sort_by(f64::total_cmp);
        let ratio = ratios[ratios.len() / 2];
        let (e, n, c) = (median(e), median(n), median(c));
        for (path, f) in [("echo", e), ("node", n), ("cluster", c)] {
            println!(
                "{:>9}  {:<8} {:>10.0} {:>8} {:>8}",
                in_flight,
                path,
                f.calls_per_s,
                us(f.p50),
                us(f.p99)
            );
        }
        let verdict = if ratio >= 0.9 { "meets" } else { "misses" };
        let spread = format!("{:.2}..{:.2}", ratios[0], ratios[ratios.len() - 1]);
        println!(
            "{in_flight:>9}  ratio cluster/echo = {ratio:.2} (rounds {spread}; {verdict} the 0.9 target)\n"
        );
    }
    let stats = cluster.stats().await;
    for (n, s) in stats {
        if let Ok(s) = s {
            println!(
                "node {n}: {} requests, {} misses (the warm-up)",
                s.requests, s.misses
            );
        }
    }
    stop.cancel();
    node.shutdown().await;
}
