//! Membership timings on real node processes sharing one database (printed, not asserted:
//! the tests hold the limits, this says where we are). It runs the built release node, so:
//! `cargo build --release -p ringshop-node && cargo bench -p ringshop-tests --bench membership`.
//!
//! - join: from spawning a node process until a following client's ring contains it;
//! - death: from SIGKILL until a client sees the member DEAD, with no client traffic (only the
//!   other nodes' heartbeat reaping finds it);
//! - suspect: from SIGKILL until a request for one of its ids is answered (the client asks the
//!   next node to probe it; its ids move once the cluster declares it dead and its lease has
//!   run out, since from outside a killed node and a paused one look the same);
//! - moved: the fraction of 10,000 ids that change owner when a 4th node joins (ideal 1/4).

use std::time::{Duration, Instant};

use ringshop_shared::MemberStatus;
use ringshop_tests::{TestCluster, name};

const ROUNDS: usize = 5;

fn main() {
    let runtime = ringshop_tests::bench_runtime();
    runtime.block_on(bench());
}

async fn wait_for(limit: Duration, check: impl FnMut() -> bool) -> Option<Duration> {
    ringshop_tests::within(limit, Duration::from_millis(2), check).await
}

fn summary(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let list: Vec<String> = samples.iter().map(|d| format!("{:.0}", ms(*d))).collect();
    println!(
        "{label:<8} median {:>6.0} ms   max {:>6.0} ms   ({} rounds: {} ms)",
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1]),
        samples.len(),
        list.join(", ")
    );
}

async fn bench() {
    let ttl = Duration::from_secs(30);
    let (mut joins, mut deaths, mut suspects, mut moved) = (vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        let mut cluster = TestCluster::processes(3, ttl);
        let client = cluster.client().await;
        let before = client.ring();

        let started = Instant::now();
        cluster.add_process(name(4));
        let n4 = name(4);
        wait_for(Duration::from_secs(5), || client.ring().contains(&n4))
            .await
            .expect("n4 seen");
        joins.push(started.elapsed());
        let after = client.ring();
        let changed = (0..10_000u64)
            .filter(|id| before.owner(id) != after.owner(id))
            .count();
        moved.push(changed as f64 / 10_000.0);

        let n2 = name(2);
        cluster.kill(&n2).await;
        let dead = wait_for(Duration::from_secs(6), || {
            client
                .members()
                .iter()
                .any(|m| m.name == n2 && m.status == MemberStatus::Dead)
        })
        .await
        .expect("n2 declared dead");
        deaths.push(dead);

        // Now with traffic: kill n3 and ask at once for one of its ids.
        let n3 = name(3);
        let id = (0..10_000u64)
            .find(|id| client.owner(id).as_ref() == Some(&n3))
            .expect("n3 owns ids");
        cluster.kill(&n3).await;
        let killed = Instant::now();
        client.request(id).await.expect("answered after the kill");
        suspects.push(killed.elapsed());
    }
    println!("membership timings, real node processes, heartbeat 500 ms, suspicion 2 s\n");
    summary("join", joins);
    summary("death", deaths);
    summary("suspect", suspects);
    let mean = moved.iter().sum::<f64>() / moved.len() as f64;
    println!(
        "moved    {:.1}% of 10,000 ids on a 4th join (ideal 25.0%), all to the new node",
        mean * 100.0
    );
}
