//! What only the memory backend has: a clock a simulator drives.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use ringshop_shared::NodeId;

use super::MemoryStore;
use crate::store::{Clock, Roster};

#[tokio::test]
async fn a_driven_clock_stamps_and_measures_on_the_drivers_time() {
    let sim = Arc::new(AtomicI64::new(5_000));
    let time = sim.clone();
    let store = MemoryStore::new().with_clock(Clock::driven(move || time.load(Ordering::Relaxed)));
    let n1 = NodeId::new("n1").expect("valid");
    let addr = SocketAddr::from(([127, 0, 0, 1], 7001));
    store
        .join(&n1, addr, Duration::from_secs(2))
        .await
        .expect("joins");
    sim.store(7_000, Ordering::Relaxed);
    let m = store.membership().await.expect("members");
    assert_eq!(m.members[0].heartbeat_age, Duration::from_millis(2_000));
    let reaped = store
        .reap(Duration::from_millis(1_500))
        .await
        .expect("reaps");
    assert_eq!(reaped, vec![n1], "silent for 2 s of the driver's time");
}
