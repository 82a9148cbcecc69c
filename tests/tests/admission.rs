//! Admission on a real node (invariant 10): under a heavy client's overload the node answers
//! `Busy` at once to that client, never to a light one, and the routing client waits a `Busy`
//! out instead of failing. (How fast the light client stays is a benchmark's question; the
//! figures are printed here, not asserted.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringshop_node::admission::Limits;
use ringshop_shared::{ShardError, transport};
use ringshop_tests::{TestCluster, name, node_stats, test_config};
use ringshop_tui::Cluster;

/// Small bounds, so a test's load is an overload on two cores.
const LIMITS: Limits = Limits {
    soft: 16,
    hard: 64,
    fair: 4,
};

fn ctx() -> tarpc::context::Context {
    transport::context(Duration::from_secs(5))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_node_pushes_back_the_heavy_client_only() {
    let mut cluster = TestCluster::empty(Duration::from_secs(30));
    let addr = cluster
        .add_in_process_with(name(1), |c| c.with_admission(LIMITS))
        .await;
    let plain = transport::Security::Plain;
    let open = || transport::connect_shard(addr, Duration::from_secs(1), &plain);
    let heavy = open().await.expect("connects");
    let light = open().await.expect("connects");
    let stop = Arc::new(AtomicBool::new(false));
    let (heavy_busy, heavy_ok) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    // The heavy client: 512 calls in flight on one connection, again and again.
    let flood = {
        let (stop, busy, ok) = (stop.clone(), heavy_busy.clone(), heavy_ok.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let calls = (0..512u64).map(|id| heavy.request(ctx(), id % 5_000, 0));
                for answer in futures::future::join_all(calls).await {
                    match answer {
                        Ok(Ok(_)) => ok.fetch_add(1, Ordering::Relaxed),
                        Ok(Err(ShardError::Busy { .. })) => busy.fetch_add(1, Ordering::Relaxed),
                        other => panic!("the heavy client got {other:?}"),
                    };
                }
            }
        })
    };
    // A light client (one call at a time on its own connection), and the routing client.
    let client = Cluster::connect(&[addr], test_config())
        .await
        .expect("connects");
    let mut light_took = Vec::new();
    let mut routed_failures = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let t = Instant::now();
        match light.request(ctx(), 7, 0).await {
            Ok(Ok(_)) => light_took.push(t.elapsed()),
            other => panic!("the light client got {other:?}"),
        }
        if let Err(e) = client.request(light_took.len() as u64).await {
            routed_failures.push(e.to_string());
        }
    }
    stop.store(true, Ordering::Relaxed);
    flood.await.expect("the flood ends");
    light_took.sort();
    let p99 = light_took[light_took.len() * 99 / 100];
    let (busy, ok) = (
        heavy_busy.load(Ordering::Relaxed),
        heavy_ok.load(Ordering::Relaxed),
    );
    println!(
        "heavy: {ok} answered, {busy} busy; light: {} calls, p50 {:?}, p99 {p99:?}",
        light_took.len(),
        light_took[light_took.len() / 2]
    );
    assert!(busy > 0, "the heavy client was never pushed back");
    assert!(ok > 0, "the heavy client was never served");
    assert!(routed_failures.is_empty(), "{routed_failures:?}");
    let refused: u64 = node_stats(&client).await.iter().map(|(_, s)| s.busy).sum();
    assert_eq!(refused, busy, "the node counts what it refused");
}
