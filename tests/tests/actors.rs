//! One serial choke point per id: concurrent misses compute once, values are kept for the TTL
//! and then replaced, and a retiring actor never turns a request into an error.

use std::time::Duration;

use ringshop_tests::{TestCluster, total};
use ringshop_tui::Cluster;

async fn total_live_actors(client: &Cluster) -> u64 {
    total(client, |s| s.live_actors).await
}

/// Ten mains with a thousand requests each in flight (a connection takes at most
/// `MAX_IN_FLIGHT_PER_CONNECTION`), all for one cold id at once.
const MAINS: usize = 10;
const EACH: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_requests_for_one_cold_id_compute_once() {
    let cluster = TestCluster::in_process(3, Duration::from_secs(30)).await;
    let mut mains = Vec::new();
    for _ in 0..MAINS {
        mains.push(cluster.client().await);
    }
    let id = 77u64;
    let asks = mains
        .iter()
        .flat_map(|client| (0..EACH).map(move |_| client.request(id)));
    let answers = futures::future::join_all(asks).await;
    let values: Vec<u32> = answers
        .into_iter()
        .map(|a| a.expect("every request is answered").value.value)
        .collect();
    assert_eq!(values.len(), MAINS * EACH);
    assert!(
        values.iter().all(|v| *v == values[0]),
        "one value for one id"
    );
    let client = &mains[0];
    let owner = client.owner(&id).expect("has an owner");
    let stats = client.stats().await;
    let (_, owner_stats) = stats
        .iter()
        .find(|(n, _)| *n == owner)
        .expect("owner answers");
    let owner_stats = owner_stats.as_ref().expect("stats");
    assert_eq!(owner_stats.misses, 1, "exactly one computation");
    assert_eq!(owner_stats.hits, (MAINS * EACH - 1) as u64);
    for (node, s) in &stats {
        if *node != owner {
            assert_eq!(
                s.as_ref().expect("stats").requests,
                0,
                "{node} served nothing"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn within_the_ttl_hits_after_it_a_new_value_and_no_actor_left() {
    // Long enough that a slow machine still asks twice within it.
    let ttl = Duration::from_millis(1000);
    let cluster = TestCluster::in_process(3, ttl).await;
    let client = cluster.client().await;
    let ids = [1u64, 2, 3, 4];
    let mut first = Vec::new();
    for id in ids {
        let a = client.request(id).await.expect("answered");
        assert!(!a.value.hit, "id {id}: cold is a miss");
        first.push(a);
    }
    for (id, before) in ids.iter().zip(&first) {
        let a = client.request(*id).await.expect("answered");
        assert!(a.value.hit, "id {id}: within the TTL is a hit");
        assert_eq!(a.value.value, before.value.value);
        assert_eq!(a.report.node, before.report.node);
        assert!(a.value.age > Duration::ZERO && a.value.ttl_left < ttl);
    }
    assert_eq!(total_live_actors(&client).await, 4);
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    assert_eq!(total_live_actors(&client).await, 0, "every actor retired");
    for (id, before) in ids.iter().zip(&first) {
        let a = client.request(*id).await.expect("answered");
        assert!(!a.value.hit, "id {id}: after the TTL is a miss");
        assert!(
            a.value.created_at > before.value.created_at,
            "id {id}: a new value"
        );
    }
    let retired = total(&client, |s| s.retirements).await;
    assert_eq!(retired, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_id_hammered_across_many_ttls_never_errors() {
    let ttl = Duration::from_millis(30);
    let cluster = TestCluster::in_process(3, ttl).await;
    let client = cluster.client().await;
    let workers = (0..8).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            let mut errors = Vec::new();
            for _ in 0..400 {
                if let Err(e) = client.request(5).await {
                    errors.push(e.to_string());
                }
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
            errors
        })
    });
    let mut errors = Vec::new();
    for w in futures::future::join_all(workers).await {
        errors.extend(w.expect("worker finished"));
    }
    assert!(errors.is_empty(), "errors: {errors:?}");
    let stats = client.stats().await;
    let misses: u64 = stats
        .iter()
        .map(|(_, s)| s.as_ref().expect("stats").misses)
        .sum();
    let requests: u64 = stats
        .iter()
        .map(|(_, s)| s.as_ref().expect("stats").requests)
        .sum();
    assert_eq!(requests, 3200);
    assert!(misses >= 5, "the id lived through only {misses} TTLs");
}
