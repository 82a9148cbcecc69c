//! Joining under a name whose last holder's heartbeat is still fresh, on paused time: a node
//! restarted right after it crashed waits for its old self to age out; a live holder keeps
//! the name.

use std::net::SocketAddr;

use super::*;
use crate::store::roster::Roster;
use crate::store::{Clock, Joined, MemoryStore};

fn addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9))
}

fn n1() -> NodeId {
    NodeId::new("n1").expect("valid")
}

/// A store on paused time where a first n1 has just joined (its heartbeat fresh).
async fn n1_held() -> (Clock, MemoryStore, Timing, Joined) {
    let clock = Clock::on_tokio_time();
    let tables = MemoryStore::new().with_clock(clock.clone());
    let timing = Timing::default();
    let first = tables
        .join(&n1(), addr(), timing.suspicion)
        .await
        .expect("the first n1 joins");
    (clock, tables, timing, first)
}

/// Found by simulator seed 9212: n1 crashed and was restarted 215 ms later; its old heartbeat
/// was 315 ms old, so the name counted as held by a live node and the restart gave up at once
/// (and with the other members gone later, no member was left).
#[tokio::test(start_paused = true)]
async fn a_node_restarted_right_after_a_crash_joins_once_its_old_heartbeat_is_stale() {
    let (clock, tables, timing, crashed) = n1_held().await;
    tokio::time::advance(Duration::from_millis(300)).await;
    let started = clock::now();
    let store: Arc<dyn Store> = Arc::new(tables.another(clock.clone()));
    let members = Members::join(store, n1(), addr(), timing.clone(), 16)
        .await
        .expect("the restarted n1 joins");
    assert_eq!(members.incarnation(), crashed.incarnation + 1);
    let waited = started.elapsed();
    assert!(
        waited >= timing.suspicion - Duration::from_millis(300) && waited <= timing.suspicion,
        "waited {waited:?}: until the old heartbeat was older than the suspicion time"
    );
}

#[tokio::test(start_paused = true)]
async fn a_name_whose_holder_keeps_heartbeating_is_refused_after_one_wait() {
    let (clock, tables, timing, holder) = n1_held().await;
    let beating = tables.another(clock.clone());
    let heartbeats = tokio::spawn(async move {
        loop {
            let _ = beating.heartbeat(&n1(), holder.incarnation).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let started = clock::now();
    let store: Arc<dyn Store> = Arc::new(tables.another(clock.clone()));
    let refused = Members::join(store, n1(), addr(), timing.clone(), 16).await;
    heartbeats.abort();
    assert!(
        matches!(refused, Err(StoreError::NameTaken { .. })),
        "a live holder keeps its name"
    );
    assert!(
        started.elapsed() <= timing.suspicion + NAME_MARGIN,
        "one wait, no more"
    );
}
