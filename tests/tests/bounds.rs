//! A node's connections hold bounded memory (invariant 10). Connections that each announce a
//! 1 MiB frame and stall grow the node by a bounded amount whatever their number, and each is
//! closed within the frame deadline (those past the node's budget for unfinished frames at
//! once), over plaintext and TLS alike, while a normal client is still served. Past the
//! connection cap the least recently active connection is closed; an idle one is closed too.
//!
//! The memory tests read the resident size of a child-process node (/proc/PID/status); this
//! process holds the client sockets (1,000 fit the open files limit here: see `ulimit -n`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringshop_shared::transport::limits::FRAME_DEADLINE;
use ringshop_shared::transport::{self, Limits, MAX_FRAME, Role, Security};
use ringshop_shared::{NodeId, ShardClient};
use ringshop_tests::{CLIENT_CERT, TestCluster, name};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// How much later than the frame deadline a close may be noticed on a busy test machine.
const SLACK: Duration = Duration::from_millis(1_500);
/// The most a node may grow while the stalled connections are open.
const MAX_GROWTH_KIB: u64 = 64 * 1024;

/// What each stalled connection sends of its frame.
#[derive(Clone, Copy, Debug)]
enum Stall {
    /// The header announcing a full frame, and a few bytes of it.
    AFewBytes,
    /// All of it but the last byte: the bytes themselves take the node's memory.
    AllButOne,
}

impl Stall {
    fn bytes(self) -> Vec<u8> {
        let mut bytes = (MAX_FRAME as u32).to_be_bytes().to_vec();
        let sent = match self {
            Stall::AFewBytes => 16,
            Stall::AllButOne => MAX_FRAME - 1,
        };
        bytes.resize(4 + sent, 0);
        bytes
    }
}

/// The resident size of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reads status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

/// Samples `pid`'s resident size every 10 ms until dropped; the peak.
struct Peak {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Peak {
    fn watch(pid: u32) -> Peak {
        let peak = Arc::new(AtomicU64::new(rss_kib(pid)));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Peak { peak, stop }
    }

    fn kib(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for Peak {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// How long after it began writing `bytes` the node closed the connection (a write the node
/// cut short counts as closed then); None if not within the frame deadline and the slack.
async fn closed_after<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    bytes: &[u8],
) -> Option<Duration> {
    let began = Instant::now();
    let closed = tokio::time::timeout(FRAME_DEADLINE + SLACK, async {
        if s.write_all(bytes).await.is_err() || s.flush().await.is_err() {
            return;
        }
        let mut buf = [0u8; 256];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    });
    closed.await.ok().map(|()| began.elapsed())
}

/// Pings `client` every 100 ms until `done`; the slowest answer (an Err if one failed).
async fn keep_pinging(client: ShardClient, done: Arc<AtomicBool>) -> Result<Duration, String> {
    let mut slowest = Duration::ZERO;
    while !done.load(Ordering::Relaxed) {
        let asked = Instant::now();
        client
            .ping(transport::context(Duration::from_secs(2)))
            .await
            .map_err(|e| format!("a normal client was not served: {e}"))?;
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(slowest)
}

/// What one attack measured.
struct Measured {
    growth_kib: u64,
    slowest_close: Duration,
    at_once: usize,
    slowest_ping: Duration,
}

/// Opens `count` connections to `cluster`'s node n1 (a child process), each with a stalled
/// 1 MiB frame (`stall` of it sent), made by `open` (plain or TLS); a normal client pings
/// throughout.
async fn attack<F, Fut, S>(cluster: &TestCluster, count: usize, stall: Stall, open: F) -> Measured
where
    F: Fn(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = S>,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let addr = cluster.addrs()[0];
    let pid = cluster.pid(&name(1));
    let control = transport::connect_shard(addr, Duration::from_secs(2), &cluster.security())
        .await
        .expect("a normal client connects");
    control
        .ping(transport::context(Duration::from_secs(2)))
        .await
        .expect("answered");
    let baseline = rss_kib(pid);
    let peak = Peak::watch(pid);
    let done = Arc::new(AtomicBool::new(false));
    let pinger = tokio::spawn(keep_pinging(control, done.clone()));
    let frame = stall.bytes();
    let closes = futures::future::join_all((0..count).map(|_| async {
        let stream = open(addr).await;
        closed_after(stream, &frame).await
    }))
    .await;
    done.store(true, Ordering::Relaxed);
    let slowest_ping = pinger
        .await
        .expect("the pinger ran")
        .expect("served throughout");
    let growth_kib = peak.kib().saturating_sub(baseline);
    let unclosed = closes.iter().filter(|c| c.is_none()).count();
    let closes: Vec<Duration> = closes.into_iter().flatten().collect();
    let measured = Measured {
        growth_kib,
        slowest_close: closes.iter().max().copied().unwrap_or_default(),
        at_once: closes
            .iter()
            .filter(|c| **c < Duration::from_millis(500))
            .count(),
        slowest_ping,
    };
    eprintln!(
        "{count} stalled connections ({stall:?}, {unclosed} still open): node grew {} KiB (peak {} KiB over {baseline} KiB), {} closed at once, slowest close {:?}, slowest ping {:?}",
        measured.growth_kib,
        peak.kib(),
        measured.at_once,
        measured.slowest_close,
        measured.slowest_ping
    );
    assert_eq!(
        unclosed,
        0,
        "{unclosed} of {count} stalled connections were still open {:?} after their frame began",
        FRAME_DEADLINE + SLACK
    );
    measured
}

async fn plain(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("connects")
}

async fn stalled_plain_frames_are_bounded(count: usize) {
    let cluster = TestCluster::processes(1, Duration::from_secs(5));
    for stall in [Stall::AFewBytes, Stall::AllButOne] {
        let measured = attack(&cluster, count, stall, plain).await;
        assert!(
            measured.growth_kib <= MAX_GROWTH_KIB,
            "{count} stalled frames ({stall:?}) grew the node by {} KiB",
            measured.growth_kib
        );
        assert!(
            measured.at_once > 0,
            "past the budget for unfinished frames, connections close at once"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_stalled_frames_cost_bounded_memory_and_close_by_the_frame_deadline() {
    stalled_plain_frames_are_bounded(300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_stalled_frames_cost_bounded_memory_and_close_by_the_frame_deadline() {
    stalled_plain_frames_are_bounded(1_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_frames_inside_tls_are_bounded_too() {
    let mut cluster = TestCluster::empty(Duration::from_secs(5)).with_tls();
    cluster.add_process(name(1));
    let dir = cluster.certs_dir().to_path_buf();
    let client_name = NodeId::new(CLIENT_CERT).expect("valid");
    let identity = (
        ringshop_node::certs::cert_path(&dir, Role::Client, &client_name),
        ringshop_node::certs::key_path(&dir, Role::Client, &client_name),
    );
    // Handshakes one at a time: a node runs at most 64 at once and closes the rest.
    let handshakes = Arc::new(tokio::sync::Semaphore::new(1));
    let open = |addr: SocketAddr| {
        let (ca, identity, handshakes) = (dir.join("ca.crt"), identity.clone(), handshakes.clone());
        async move {
            let _one = handshakes.acquire_owned().await.expect("open");
            ringshop_tests::tls::raw_tls_stream(addr, &ca, Some(identity))
                .await
                .expect("the TLS handshake succeeds")
        }
    };
    let measured = attack(&cluster, 100, Stall::AllButOne, open).await;
    assert!(
        measured.growth_kib <= MAX_GROWTH_KIB,
        "100 stalled frames over TLS grew the node by {} KiB",
        measured.growth_kib
    );
}

/// Whether the node closed `s` within `wait` (EOF or an error), reading whatever comes.
async fn is_closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 256];
    tokio::time::timeout(wait, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_the_least_recently_active_connection_closes() {
    let limits = Limits {
        max_connections: 8,
        ..Limits::default()
    };
    let mut cluster = TestCluster::empty(Duration::from_secs(5));
    let addr = cluster
        .add_in_process_with(name(1), |c| c.with_limits(limits))
        .await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(plain(addr).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    let client = transport::connect_shard(addr, Duration::from_secs(1), &Security::Plain)
        .await
        .expect("a ninth connection is accepted");
    client
        .ping(transport::context(Duration::from_secs(2)))
        .await
        .expect("and served");
    assert!(
        is_closed_within(&mut idle[0], Duration::from_secs(1)).await,
        "the least recently active connection was closed"
    );
    eprintln!("evicted within {:?}", started.elapsed());
    for (i, s) in idle.iter_mut().enumerate().skip(1) {
        assert!(
            !is_closed_within(s, Duration::from_millis(50)).await,
            "connection {i} stays open"
        );
    }
    // A connection that keeps talking is never the one to go.
    for _ in 0..8 {
        let _newer = plain(addr).await;
        client
            .ping(transport::context(Duration::from_secs(2)))
            .await
            .expect("the active client is served");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_closes_after_the_idle_timeout() {
    let limits = Limits {
        idle_timeout: Duration::from_millis(800),
        ..Limits::default()
    };
    let mut cluster = TestCluster::empty(Duration::from_secs(5));
    let addr = cluster
        .add_in_process_with(name(1), |c| c.with_limits(limits))
        .await;
    // From before the silent connection is made: the node's idle clock starts at its accept,
    // which comes after this (taken after the connect, it measured 799.6 ms once).
    let started = Instant::now();
    let mut silent = plain(addr).await;
    let client = transport::connect_shard(addr, Duration::from_secs(1), &Security::Plain)
        .await
        .expect("connects");
    let pinging = async {
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            client
                .ping(transport::context(Duration::from_secs(2)))
                .await
                .expect("a connection in use stays open");
        }
    };
    let silent_closes = async {
        let closed = is_closed_within(&mut silent, Duration::from_secs(3)).await;
        (closed, started.elapsed())
    };
    let ((closed, took), ()) = tokio::join!(silent_closes, pinging);
    assert!(closed, "the silent connection was closed");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_millis(1_800),
        "at the idle timeout: {took:?}"
    );
}
