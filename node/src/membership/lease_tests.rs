//! The lease on paused time: its length counted from the heartbeat's sending, and a pause of
//! the process (tokio's clock jumping past the watcher's tick) ending it until a heartbeat
//! sent after the pause lands.

use std::sync::Arc;

use super::*;

const LENGTH: Duration = Duration::from_secs(4);
const HEARTBEAT: Duration = Duration::from_secs(1);

fn me() -> NodeId {
    NodeId::new("n1").expect("valid")
}

#[tokio::test(start_paused = true)]
async fn a_lease_holds_for_its_length_from_when_the_heartbeat_was_sent() {
    let lease = Lease::new();
    assert!(!lease.holds(), "not begun");
    let sent = clock::now();
    // The store took 300 ms to answer: the lease still counts from the sending.
    tokio::time::advance(Duration::from_millis(300)).await;
    lease.renew(sent, LENGTH);
    tokio::time::advance(LENGTH - Duration::from_millis(301)).await;
    assert!(lease.holds(), "a millisecond before its end");
    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(!lease.holds(), "over at sent + length");
}

#[tokio::test(start_paused = true)]
async fn an_older_heartbeat_never_shortens_a_lease() {
    let lease = Lease::new();
    let early = clock::now();
    tokio::time::advance(Duration::from_secs(1)).await;
    lease.renew(clock::now(), LENGTH);
    lease.renew(early, LENGTH);
    tokio::time::advance(LENGTH - Duration::from_millis(1)).await;
    assert!(lease.holds(), "the later heartbeat's lease");
}

#[tokio::test(start_paused = true)]
async fn an_ended_lease_holds_again_after_the_next_heartbeat() {
    let lease = Lease::new();
    lease.renew(clock::now(), LENGTH);
    lease.end();
    assert!(!lease.holds(), "declared dead");
    lease.renew(clock::now(), LENGTH);
    assert!(lease.holds(), "rejoined");
}

#[tokio::test(start_paused = true)]
async fn a_paused_process_answers_for_nothing_until_a_heartbeat_sent_after_the_pause() {
    let lease = Arc::new(Lease::new());
    let shutdown = CancellationToken::new();
    let watcher = tokio::spawn({
        let (lease, shutdown) = (lease.clone(), shutdown.clone());
        async move { lease.watch_pauses(&me(), HEARTBEAT, shutdown).await }
    });
    // Ticks on time: the lease stands.
    lease.renew(clock::now(), LENGTH);
    tokio::time::sleep(HEARTBEAT * 2).await;
    assert!(lease.holds(), "no pause seen");
    // A heartbeat renews it until 4 s from now; then the whole process stops for 3 s
    // (SIGSTOP, a frozen VM): the clock jumps, and the watcher's next tick comes late.
    let before = clock::now();
    lease.renew(before, LENGTH);
    tokio::time::advance(Duration::from_secs(3)).await;
    tokio::task::yield_now().await;
    assert!(
        !lease.holds(),
        "the pause ended the lease 1 s before its end"
    );
    lease.renew(before, LENGTH);
    assert!(
        !lease.holds(),
        "a heartbeat sent before the pause does not renew it"
    );
    lease.renew(clock::now(), LENGTH);
    assert!(lease.holds(), "one sent after it does");
    shutdown.cancel();
    watcher.await.expect("the watcher ends");
}

#[tokio::test(start_paused = true)]
async fn ticks_a_little_late_are_not_a_pause() {
    let lease = Arc::new(Lease::new());
    let shutdown = CancellationToken::new();
    let watcher = tokio::spawn({
        let (lease, shutdown) = (lease.clone(), shutdown.clone());
        async move { lease.watch_pauses(&me(), HEARTBEAT, shutdown).await }
    });
    lease.renew(clock::now(), LENGTH);
    for _ in 0..5 {
        tokio::time::advance(HEARTBEAT / 2).await;
        tokio::task::yield_now().await;
    }
    assert!(lease.holds(), "late by less than a heartbeat: no pause");
    shutdown.cancel();
    watcher.await.expect("the watcher ends");
}
