//! Bad bytes on a node's port close that one connection and nothing else; a dead address or a
//! silent peer gives a clear error within its timeout, never a hang.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ringshop_shared::transport::MAX_FRAME;
use ringshop_tests::TestCluster;
use ringshop_tui::{Cluster, ClusterConfig, ClusterError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Sends `bytes` and waits (at most 5 s) for the node to close the connection.
async fn node_closes_after(addr: SocketAddr, bytes: &[u8]) -> bool {
    let mut raw = TcpStream::connect(addr).await.expect("connects");
    raw.write_all(bytes).await.expect("writes");
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match raw.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => continue,
            }
        }
    });
    read.await.unwrap_or(false)
}

async fn still_serves(client: &Cluster) {
    for id in 0..50u64 {
        let a = client
            .request(id)
            .await
            .expect("the node keeps serving everyone else");
        assert!(!a.report.failed_over(), "id {id} should not fail over");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bytes_close_that_connection_and_the_node_serves_the_rest() {
    let cluster = TestCluster::processes(1, Duration::from_secs(5));
    let client = cluster.client().await;
    let addr = cluster.addrs()[0];
    let mut rng = fastrand::Rng::with_seed(7);
    for len in [16usize, 200, 4096] {
        let mut bytes = (len as u32).to_be_bytes().to_vec();
        bytes.extend((0..len).map(|_| rng.u8(..)));
        assert!(node_closes_after(addr, &bytes).await, "{len} random bytes");
    }
    still_serves(&client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_closes_that_connection_and_the_node_serves_the_rest() {
    let cluster = TestCluster::processes(1, Duration::from_secs(5));
    let client = cluster.client().await;
    let addr = cluster.addrs()[0];
    for header in [MAX_FRAME as u32 + 1, u32::MAX] {
        let mut bytes = header.to_be_bytes().to_vec();
        bytes.extend([0u8; 64]);
        assert!(
            node_closes_after(addr, &bytes).await,
            "frame length {header}"
        );
    }
    still_serves(&client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_address_is_a_clear_error_within_the_connect_timeout() {
    let free = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        l.local_addr().expect("has an address")
    }; // dropped: nothing listens there now
    let config = ClusterConfig {
        connect_timeout: Duration::from_millis(500),
        ..ClusterConfig::default()
    };
    let started = Instant::now();
    let err = Cluster::connect(&[free], config)
        .await
        .err()
        .expect("nobody answers");
    assert!(
        started.elapsed() < Duration::from_millis(600),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, ClusterError::Unreachable { .. }));
    let text = err.to_string();
    assert!(
        text.contains(&free.to_string()) && text.contains("cannot reach"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_accepts_but_never_answers_times_out_at_the_deadline() {
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = silent.local_addr().expect("has an address");
    let config = ClusterConfig {
        deadline: Duration::from_millis(300),
        ..ClusterConfig::default()
    };
    let started = Instant::now();
    let err = Cluster::connect(&[addr], config)
        .await
        .err()
        .expect("no answer");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("did not answer ping"), "{err}");
    drop(silent);
}
