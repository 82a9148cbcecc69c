//! Overload, printed: one node process (the release binary) under a heavy client 8× its
//! admission bound (16 connections × 256 calls in flight = 4,096), and a light client (one
//! call at a time on its own connection) meanwhile: the light client's p50/p99, and what the
//! heavy one got (answers, `Busy`, anything else). The light client runs on a thread and
//! runtime of its own; the machine's two cores are shared by all three. The heavy client is
//! raw calls that resend a `Busy` at once (hostile), then the routing `Cluster` client, which
//! waits a `Busy` out as every ringshop client does (its `Busy`s are not seen here: counted
//! by the node). Side by side in one run, rounds
//! interleaved: the node with its default admission (`--max-in-flight 512`) and with
//! admission out of the way (`--max-in-flight 100000000`).
//!
//! Run with `cargo build --release -p ringshop-node && cargo bench -p ringshop-tests --bench
//! overload`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringshop_shared::transport::{self, Security};
use ringshop_shared::{ShardClient, ShardError};
use ringshop_tests::{TestCluster, name};
use ringshop_tui::Cluster;

const HEAVY_CONNECTIONS: usize = 16;
const HEAVY_IN_FLIGHT: usize = 256;
const LIGHT_CALLS: usize = 2_000;
const ROUNDS: usize = 2;

fn ctx() -> tarpc::context::Context {
    transport::context(Duration::from_secs(10))
}

async fn connect(addr: std::net::SocketAddr) -> ShardClient {
    transport::connect_shard(addr, Duration::from_secs(1), &Security::Plain)
        .await
        .expect("connects")
}

/// `light` on a thread and runtime of its own (a client in another process would not share
/// the heavy client's runtime queue; this one does not either).
async fn light_apart(addr: std::net::SocketAddr) -> (Duration, Duration) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let measured = runtime.block_on(async {
            let client = connect(addr).await;
            light(&client).await
        });
        let _ = tx.send(measured);
    });
    rx.await.expect("the light client's thread answers")
}

/// `LIGHT_CALLS` calls one after another: p50 and p99.
async fn light(client: &ShardClient) -> (Duration, Duration) {
    let mut took = Vec::with_capacity(LIGHT_CALLS);
    for i in 0..LIGHT_CALLS {
        let t = Instant::now();
        match client.request(ctx(), (i % 100) as u64, 0).await {
            Ok(Ok(_)) => took.push(t.elapsed()),
            other => panic!("the light client got {other:?}"),
        }
    }
    took.sort();
    (took[took.len() / 2], took[took.len() * 99 / 100])
}

struct Heavy {
    ok: AtomicU64,
    busy: AtomicU64,
    other: AtomicU64,
}

/// How the heavy client behaves.
#[derive(Clone, Copy, Debug)]
enum Heaviness {
    /// Raw calls: a `Busy` is counted and the call is sent again at once (a hostile client).
    Raw,
    /// The routing client (`Cluster`): a `Busy` is waited out as the client does.
    Routing,
}

async fn round(flags: &[&str], heaviness: Heaviness) -> String {
    let mut cluster = TestCluster::empty(Duration::from_secs(60)).with_node_flags(name(1), flags);
    let addr = tokio::task::block_in_place(|| cluster.add_process(name(1)));
    light_apart(addr).await; // warm: the ids' actors exist
    let alone = light_apart(addr).await;
    let stop = Arc::new(AtomicBool::new(false));
    let heavy = Arc::new(Heavy {
        ok: AtomicU64::new(0),
        busy: AtomicU64::new(0),
        other: AtomicU64::new(0),
    });
    let mut tasks = Vec::new();
    for c in 0..HEAVY_CONNECTIONS {
        let (stop, heavy) = (stop.clone(), heavy.clone());
        let id = move |i: usize| (c * HEAVY_IN_FLIGHT + i) as u64 % 10_000;
        match heaviness {
            Heaviness::Raw => {
                let client = connect(addr).await;
                tasks.push(tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let calls = (0..HEAVY_IN_FLIGHT).map(|i| client.request(ctx(), id(i), 0));
                        for answer in futures::future::join_all(calls).await {
                            let counter = match answer {
                                Ok(Ok(_)) => &heavy.ok,
                                Ok(Err(ShardError::Busy { .. })) => &heavy.busy,
                                _ => &heavy.other,
                            };
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
            Heaviness::Routing => {
                let client = Cluster::connect(&[addr], ringshop_tests::test_config())
                    .await
                    .expect("connects");
                tasks.push(tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let calls = (0..HEAVY_IN_FLIGHT).map(|i| client.request(id(i)));
                        for answer in futures::future::join_all(calls).await {
                            let counter = if answer.is_ok() {
                                &heavy.ok
                            } else {
                                &heavy.other
                            };
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let loaded = light_apart(addr).await;
    let secs = started.elapsed().as_secs_f64();
    let (ok0, busy0) = (
        heavy.ok.load(Ordering::Relaxed),
        heavy.busy.load(Ordering::Relaxed),
    );
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("a heavy connection ends");
    }
    format!(
        "{:<8} {:<26} light alone p50 {:>7.2} ms p99 {:>7.2} ms | under load p50 {:>7.2} ms p99 {:>7.2} ms | heavy {:>7.0} answered/s, {:>7.0} busy/s, {} other errors",
        format!("{heaviness:?}"),
        flags.join(" "),
        ms(alone.0),
        ms(alone.1),
        ms(loaded.0),
        ms(loaded.1),
        ok0 as f64 / secs,
        busy0 as f64 / secs,
        heavy.other.load(Ordering::Relaxed)
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!(
        "overload: {HEAVY_CONNECTIONS} connections x {HEAVY_IN_FLIGHT} calls in flight against one node process; a light client, one call at a time"
    );
    for heaviness in [Heaviness::Raw, Heaviness::Routing] {
        for _ in 0..ROUNDS {
            for flags in [
                &["--max-in-flight", "512"][..],
                &["--max-in-flight", "100000000"][..],
            ] {
                println!("{}", round(flags, heaviness).await);
            }
        }
    }
}
