use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::clock;
use crate::transport::limits::Connections;

const MIB: usize = 1 << 20;

fn limits() -> Limits {
    Limits {
        max_connections: 16,
        unfinished_bytes: 3 * MIB,
        frame_deadline: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(10),
    }
}

/// A guarded server end and the peer's end of one connection.
fn connection(connections: &Arc<Connections>) -> (Guarded<DuplexStream>, DuplexStream) {
    let (server, client) = tokio::io::duplex(4 * MIB);
    let peer = SocketAddr::from(([127, 0, 0, 1], 9));
    (Guarded::new(server, connections.open(peer)), client)
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut bytes = (body.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(body);
    bytes
}

/// Reads once: the bytes, or the error.
async fn read_once(guarded: &mut Guarded<DuplexStream>) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; 64 * 1024];
    let n = guarded.read(&mut buf).await?;
    buf.truncate(n);
    Ok(buf)
}

#[tokio::test(start_paused = true)]
async fn frames_pass_through_untouched_however_they_are_split() {
    let connections = Connections::new(limits());
    let (mut guarded, mut client) = connection(&connections);
    let mut rng = fastrand::Rng::with_seed(3);
    let mut sent = Vec::new();
    for _ in 0..200 {
        let len = match rng.u8(..4) {
            0 => 0,
            1 => rng.usize(..8),
            2 => rng.usize(..600),
            _ => rng.usize(..70_000),
        };
        let body: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        sent.extend(frame(&body));
    }
    let writer = {
        let sent = sent.clone();
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(4);
            let mut rest = &sent[..];
            while !rest.is_empty() {
                let n = rng.usize(1..=rest.len().min(5_000));
                client.write_all(&rest[..n]).await.expect("writes");
                rest = &rest[n..];
                tokio::task::yield_now().await;
            }
            client
        })
    };
    let mut read = Vec::new();
    while read.len() < sent.len() {
        let mut buf = vec![0; rng.usize(1..9_000)];
        let n = guarded.read(&mut buf).await.expect("every frame is whole");
        read.extend_from_slice(&buf[..n]);
    }
    assert_eq!(read, sent);
    assert_eq!(guarded.frame, BETWEEN);
    assert_eq!(connections.unfinished_bytes(), 0);
    drop(writer.await);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_frame_closes_at_the_frame_deadline_and_gives_its_bytes_back() {
    let connections = Connections::new(limits());
    let (mut guarded, mut client) = connection(&connections);
    let mut bytes = (MIB as u32).to_be_bytes().to_vec();
    bytes.extend([7; 10]);
    client.write_all(&bytes).await.expect("writes");
    let started = clock::now();
    assert_eq!(read_once(&mut guarded).await.expect("reads").len(), 14);
    assert_eq!(guarded.reserved(), MIB);
    assert_eq!(connections.unfinished_bytes(), MIB);
    let err = read_once(&mut guarded).await.expect_err("closed");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(connections.unfinished_bytes(), 0);
    assert!(read_once(&mut guarded).await.is_err(), "and stays closed");
    drop(client);
}

#[tokio::test(start_paused = true)]
async fn a_trickling_frame_closes_at_the_frame_deadline() {
    let connections = Connections::new(limits());
    let (mut guarded, mut client) = connection(&connections);
    let started = clock::now();
    let trickle = tokio::spawn(async move {
        client
            .write_all(&1000u32.to_be_bytes())
            .await
            .expect("writes");
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if client.write_all(&[1]).await.is_err() {
                return;
            }
        }
    });
    let closed = loop {
        if let Err(e) = read_once(&mut guarded).await {
            break e;
        }
    };
    assert_eq!(closed.kind(), io::ErrorKind::TimedOut);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took <= Duration::from_millis(2_300),
        "{took:?}"
    );
    drop(guarded);
    let _ = trickle.await;
}

#[tokio::test(start_paused = true)]
async fn a_split_header_that_stalls_closes_at_the_frame_deadline() {
    let connections = Connections::new(limits());
    let (mut guarded, mut client) = connection(&connections);
    client.write_all(&[0, 0]).await.expect("writes");
    assert_eq!(read_once(&mut guarded).await.expect("reads"), vec![0, 0]);
    let started = clock::now();
    let err = read_once(&mut guarded).await.expect_err("closed");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(
        connections.unfinished_bytes(),
        0,
        "a header reserves nothing"
    );
    drop(client);
}

#[tokio::test(start_paused = true)]
async fn a_header_past_the_budget_fails_the_read_that_brings_it() {
    let connections = Connections::new(limits());
    let mut open = Vec::new();
    for _ in 0..3 {
        let (mut guarded, mut client) = connection(&connections);
        client
            .write_all(&(MIB as u32).to_be_bytes())
            .await
            .expect("writes");
        read_once(&mut guarded).await.expect("within the budget");
        open.push((guarded, client));
    }
    assert_eq!(connections.unfinished_bytes(), 3 * MIB);
    let (mut guarded, mut client) = connection(&connections);
    client.write_all(&frame(b"small")).await.expect("writes");
    assert_eq!(
        read_once(&mut guarded)
            .await
            .expect("a whole frame needs no room"),
        frame(b"small")
    );
    client.write_all(&1u32.to_be_bytes()).await.expect("writes");
    let err = read_once(&mut guarded).await.expect_err("no room for it");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionAborted);
    assert_eq!(guarded.reserved(), 0);
    assert_eq!(connections.unfinished_bytes(), 3 * MIB);
    drop(open);
    assert_eq!(connections.unfinished_bytes(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_header_over_the_frame_limit_fails_the_read() {
    let connections = Connections::new(limits());
    let (mut guarded, mut client) = connection(&connections);
    client
        .write_all(&(MAX_FRAME as u32 + 1).to_be_bytes())
        .await
        .expect("writes");
    let err = read_once(&mut guarded).await.expect_err("oversized");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert_eq!(connections.unfinished_bytes(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_sends_nothing_closes_after_the_idle_timeout() {
    let connections = Connections::new(limits());
    let (mut guarded, mut client) = connection(&connections);
    let started = clock::now();
    let pinger = tokio::spawn(async move {
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(8)).await;
            client.write_all(&frame(b"ping")).await.expect("writes");
        }
        client
    });
    let closed = loop {
        if let Err(e) = read_once(&mut guarded).await {
            break e;
        }
    };
    assert_eq!(closed.kind(), io::ErrorKind::TimedOut);
    // The last frame came at 24 s; nothing for 10 s after it.
    assert_eq!(started.elapsed(), Duration::from_secs(34));
    drop(pinger.await);
}

#[tokio::test(start_paused = true)]
async fn an_evicted_connection_waiting_to_read_is_woken_and_fails() {
    let connections = Connections::new(Limits {
        max_connections: 1,
        ..limits()
    });
    let (mut guarded, client) = connection(&connections);
    let waiting = tokio::spawn(async move { read_once(&mut guarded).await.map(drop) });
    tokio::task::yield_now().await;
    let (_newer, _client) = connection(&connections);
    let err = tokio::time::timeout(Duration::from_millis(10), waiting)
        .await
        .expect("woken at once")
        .expect("the reader ran")
        .expect_err("evicted");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionAborted);
    assert_eq!(connections.len(), 1);
    drop(client);
}
