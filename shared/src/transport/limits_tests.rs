use std::sync::atomic::AtomicUsize;
use std::task::Wake;

use super::*;
use crate::clock;

fn peer(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn limits(max_connections: usize, unfinished_bytes: usize) -> Limits {
    Limits {
        max_connections,
        unfinished_bytes,
        ..Limits::default()
    }
}

struct Wakes(AtomicUsize);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn reservations_stay_within_the_bound_and_come_back() {
    let connections = Connections::new(limits(10, 300));
    let (mut a, mut b) = (connections.open(peer(1)), connections.open(peer(2)));
    assert!(a.reserve(200));
    assert!(!b.reserve(101), "200 + 101 is past 300");
    assert_eq!(b.reserved(), 0, "a refused reservation holds nothing");
    assert!(b.reserve(100));
    assert_eq!(connections.unfinished_bytes(), 300);
    a.release();
    assert_eq!(connections.unfinished_bytes(), 100);
    drop(b);
    assert_eq!(
        connections.unfinished_bytes(),
        0,
        "a dropped ticket gives its bytes back"
    );
    assert_eq!(connections.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn at_the_cap_the_least_recently_active_connection_is_closed() {
    let connections = Connections::new(limits(3, 0));
    let tickets: Vec<Ticket> = (1..=3).map(|p| connections.open(peer(p))).collect();
    let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
    let waker = std::task::Waker::from(wakes.clone());
    for t in &tickets {
        assert!(!t.evicted(&waker));
    }
    tokio::time::advance(Duration::from_secs(1)).await;
    tickets[0].touch(clock::now());
    tickets[2].touch(clock::now());
    let newest = connections.open(peer(4));
    assert_eq!(connections.len(), 3);
    let evicted: Vec<SocketAddr> = tickets
        .iter()
        .filter(|t| t.evicted(&waker))
        .map(Ticket::peer)
        .collect();
    assert_eq!(evicted, vec![peer(2)], "the one that read least recently");
    assert_eq!(
        wakes.0.load(Ordering::SeqCst),
        1,
        "and it was woken to notice"
    );
    assert!(!newest.evicted(&waker));
    drop(tickets);
    assert_eq!(connections.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn evict_one_frees_a_place_and_says_whether_it_could() {
    let connections = Connections::new(Limits::default());
    assert!(!connections.evict_one());
    let _a = connections.open(peer(1));
    assert!(connections.evict_one());
    assert!(connections.is_empty());
}

#[test]
fn the_connection_cap_fits_the_open_files_limit() {
    let limits = Limits::for_this_process();
    assert!(limits.max_connections >= 1 && limits.max_connections <= MAX_CONNECTIONS);
    if let Some(files) = open_files_limit() {
        assert!(limits.max_connections <= files.saturating_sub(RESERVED_FILES).max(1));
    }
}
