//! Death, both ways, on paused time: two members on one store in memory whose clock follows
//! tokio's, so suspicion, probe periods and polls run at their real lengths in microseconds.
//! A member silent for the suspicion time is reaped; a member that heartbeats but answers no
//! probe is voted dead after `MISSED_PROBES_LIMIT` periods, and fences itself.

use std::net::SocketAddr;
use std::sync::Arc;

use ringshop_shared::transport::{Dialer, Security};

use super::*;
use crate::membership::Timing;
use crate::store::{Clock, MemoryStore, Store};

#[test]
fn death_needs_min_of_two_and_half_the_other_live_members() {
    assert_eq!(votes_needed(1), 1);
    assert_eq!(votes_needed(2), 1);
    assert_eq!(votes_needed(3), 1);
    assert_eq!(votes_needed(4), 2);
    assert_eq!(votes_needed(9), 2);
}

/// An address where nothing answers: a port that was free a moment ago.
fn nobody() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound")
}

fn name(n: &str) -> NodeId {
    NodeId::new(n).expect("valid")
}

/// n1 and n2 joined on one store (tables shared, each on the same tokio-driven clock).
async fn two_members() -> (Members, Members) {
    let clock = Clock::on_tokio_time();
    let tables = MemoryStore::new().with_clock(clock.clone());
    let store = |t: &MemoryStore| -> Arc<dyn Store> { Arc::new(t.another(clock.clone())) };
    let n1 = Members::join(store(&tables), name("n1"), nobody(), Timing::default(), 16)
        .await
        .expect("n1 joins");
    let n2 = Members::join(store(&tables), name("n2"), nobody(), Timing::default(), 16)
        .await
        .expect("n2 joins");
    n1.refresh().await.expect("n1 reads the members");
    (n1, n2)
}

/// Each member heartbeating and reading the members until the token is cancelled.
fn heartbeating(members: &[&Members]) -> CancellationToken {
    let shutdown = CancellationToken::new();
    for m in members {
        tokio::spawn((*m).clone().heartbeats(shutdown.clone()));
        tokio::spawn((*m).clone().poll(shutdown.clone()));
    }
    shutdown
}

/// Connections to peers, made on first use (every peer here is an address where nothing
/// answers).
fn no_peers() -> Arc<Peers> {
    Arc::new(Peers::new(
        Dialer::default(),
        Duration::from_millis(100),
        Security::Plain,
    ))
}

fn in_ring(members: &Members, n: &str) -> bool {
    members.with_view(|v| v.ring.contains(&name(n)))
}

#[tokio::test(start_paused = true)]
async fn a_member_silent_for_the_suspicion_time_is_reaped() {
    let (n1, _n2) = two_members().await;
    let shutdown = heartbeating(&[&n1]);
    let timing = Timing::default();
    assert!(in_ring(&n1, "n2"), "joined");
    tokio::time::sleep(timing.suspicion - timing.poll).await;
    assert!(
        in_ring(&n1, "n2"),
        "silent for less than the suspicion time"
    );
    tokio::time::sleep(timing.poll * 4).await;
    assert!(
        !in_ring(&n1, "n2"),
        "reaped within the suspicion time and a poll or two"
    );
    assert!(n1.serving().is_ok(), "n1 heartbeats: its lease holds");
    shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_member_that_heartbeats_but_answers_no_probe_is_voted_dead_and_fences_itself() {
    let (n1, n2) = two_members().await;
    let shutdown = heartbeating(&[&n1, &n2]);
    tokio::spawn(Detector::new(n1.clone(), no_peers()).run(shutdown.clone()));
    // The first probe goes at once, then one a period: the limit's misses take that many
    // periods less one.
    tokio::time::sleep(PROBE_PERIOD * (MISSED_PROBES_LIMIT - 1) - PROBE_PERIOD / 2).await;
    assert!(
        in_ring(&n1, "n2"),
        "fewer misses than the limit: no vote yet"
    );
    assert!(n2.serving().is_ok(), "n2 heartbeats and holds its lease");
    tokio::time::sleep(PROBE_PERIOD * 2).await;
    assert!(
        !in_ring(&n1, "n2"),
        "voted dead after {MISSED_PROBES_LIMIT} missed probes"
    );
    assert!(
        n2.serving().is_err(),
        "n2 found itself declared dead and answers for nothing"
    );
    shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn of_two_members_that_lose_each_other_only_the_first_by_name_votes() {
    let (n1, n2) = two_members().await;
    n2.refresh().await.expect("n2 reads the members");
    let shutdown = heartbeating(&[&n1, &n2]);
    // n2 probes n1 at an address where nothing answers: it misses every probe, but with no
    // third member to ask it leaves the verdict to n1.
    tokio::spawn(Detector::new(n2.clone(), no_peers()).run(shutdown.clone()));
    tokio::time::sleep(PROBE_PERIOD * (MISSED_PROBES_LIMIT + 3)).await;
    assert!(in_ring(&n2, "n1"), "n2 voted n1 dead: both could go");
    assert!(n1.serving().is_ok(), "n1 holds its lease");
    shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_probe_waits_longer_after_each_miss_and_less_after_each_answer() {
    let (n1, _n2) = two_members().await;
    let detector = Detector::new(n1, no_peers());
    let n2 = name("n2");
    assert_eq!(detector.timeout_for(&n2), PROBE_TIMEOUT);
    let mut waited = Vec::new();
    for _ in 0..4 {
        let t = detector.timeout_for(&n2);
        waited.push(t);
        detector.adapt(&n2, t, false);
    }
    assert_eq!(
        waited,
        [
            PROBE_TIMEOUT,
            PROBE_TIMEOUT * 2,
            MAX_PROBE_TIMEOUT,
            MAX_PROBE_TIMEOUT
        ],
        "doubled after each miss, up to the cap"
    );
    detector.adapt(&n2, MAX_PROBE_TIMEOUT, true);
    let after_one = detector.timeout_for(&n2);
    assert!(
        after_one < MAX_PROBE_TIMEOUT && after_one > PROBE_TIMEOUT,
        "{after_one:?}"
    );
    for _ in 0..40 {
        let t = detector.timeout_for(&n2);
        detector.adapt(&n2, t, true);
    }
    assert_eq!(
        detector.timeout_for(&n2),
        PROBE_TIMEOUT,
        "back to the start after answers"
    );
}

#[tokio::test(start_paused = true)]
async fn a_member_the_cluster_declared_dead_does_not_vote() {
    let (n1, n2) = two_members().await;
    // n1 was declared dead (cut off itself, its probes of n2 fail): it must not count itself
    // out of the ring and then vote n2, the member that is still whole, dead as the last one.
    n1.store()
        .mark_dead(n1.me(), n1.incarnation())
        .await
        .expect("marked dead");
    let view = n1.refresh().await.expect("n1 reads the members");
    let n2_member = view.member(&name("n2")).cloned().expect("n2 listed");
    let detector = Detector::new(n1.clone(), no_peers());
    for _ in 0..MISSED_PROBES_LIMIT + 2 {
        detector.check(&n2_member).await;
        tokio::time::sleep(PROBE_PERIOD + Duration::from_millis(1)).await;
    }
    n2.refresh().await.expect("n2 reads the members");
    assert!(in_ring(&n2, "n2"), "n1, declared dead, voted n2 dead");
}

#[tokio::test(start_paused = true)]
async fn suspects_of_one_member_at_once_share_one_check() {
    let (n1, _n2) = two_members().await;
    let detector = Detector::new(n1, no_peers());
    // Fifty calls on n2 missed their deadline at once, and each caller asks this witness.
    let asks = (0..50).map(|_| {
        let detector = detector.clone();
        async move { detector.suspect(&name("n2")).await }
    });
    let answers = futures::future::join_all(asks).await;
    assert!(
        answers.iter().all(|a| matches!(a, Ok(false))),
        "one miss keeps n2 in the ring, for every asker: {answers:?}"
    );
    assert_eq!(
        detector.suspect_checks(),
        1,
        "one probe of n2 for fifty askers"
    );
    // Once that check is over, the next suspect checks again.
    assert!(matches!(detector.suspect(&name("n2")).await, Ok(false)));
    assert_eq!(detector.suspect_checks(), 2);
}
