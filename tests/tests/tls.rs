//! Mutual TLS on real nodes (127.0.0.1), on certificates made by the code behind
//! `ringshop-node certs`: a TLS cluster serves the main and its nodes call each other over TLS;
//! a connection without the cluster's certificate is refused within the connect timeout and
//! costs the node nothing else; a client certificate cannot make node-to-node calls; and
//! `--advertise` is the address the members table lists and everyone dials. A certificate of
//! the cluster's CA that lists no extended key usage has no role, and a node starts only with
//! a certificate that names it.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ringshop_node::shop::checkout::Payment;
use ringshop_node::{NodeError, certs};
use ringshop_shared::transport::{
    self, DEFAULT_CONNECT_TIMEOUT, HANDSHAKE_TIMEOUT, MAX_HANDSHAKES, Role, Security,
};
use ringshop_shared::{NodeId, Stage};
use ringshop_tests::tls::{SLACK, not_a_peer, raw_tls_client, refused, still_serves};
use ringshop_tests::{CLIENT_CERT, TestCluster, follow, name, new_order, product, test_config};
use ringshop_tui::{Cluster, ClusterConfig, ClusterError};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const CATALOG: &str = "\
lamp,Desk lamp,home,4500,10
mug,Mug,tea,1200,500
teapot,Teapot,tea,3900,30
";

fn quick() -> Payment {
    ringshop_tests::paying(Duration::from_millis(100))
}

async fn tls_cluster(size: usize) -> TestCluster {
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, quick()).with_tls();
    for i in 1..=size {
        cluster.add_in_process(name(i)).await;
    }
    cluster
}

fn ctx() -> tarpc::context::Context {
    transport::context(Duration::from_secs(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_cluster_of_three_answers_requests_and_checks_out_an_order() {
    let cluster = tls_cluster(3).await;
    let client = cluster.client().await;
    let mut served = std::collections::BTreeSet::new();
    for id in 0..40 {
        let answer = client.request(id).await.expect("answered over TLS");
        served.insert(answer.report.node);
    }
    assert_eq!(served.len(), 3, "every node answered: {served:?}");
    // An order whose owner is not the mug's: its checkout reserves on another node, node to
    // node over TLS.
    let mug_owner = client.owner(&product("mug")).expect("owned");
    let placed = loop {
        let o = new_order("tls", &[("mug", 2), ("teapot", 1)]);
        if client.owner(&o.id) != Some(mug_owner.clone()) {
            break o;
        }
    };
    let accepted = client.checkout(&placed).await.expect("accepted");
    let (done, _) = follow(
        &client,
        accepted.value,
        Stage::Done,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(done.stage, Stage::Done, "{:?}", done.reason);
    let audit = cluster.audit().await;
    assert_eq!((audit["mug"].sold, audit["teapot"].sold), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_a_certificate_is_refused_and_the_node_serves_on() {
    let cluster = tls_cluster(1).await;
    let addr = cluster.addrs()[0];
    let ca = cluster.certs_dir().join(certs::CA_CERT);
    refused("no client certificate", || raw_tls_client(addr, &ca, None)).await;
    still_serves(&cluster, addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_ca_is_refused_and_the_node_serves_on() {
    let cluster = tls_cluster(1).await;
    let addr = cluster.addrs()[0];
    let other = TestCluster::empty(Duration::from_secs(5)).with_tls();
    let theirs = |role, n: &str| {
        let n = NodeId::new(n).expect("valid");
        (
            certs::cert_path(other.certs_dir(), role, &n),
            certs::key_path(other.certs_dir(), role, &n),
        )
    };
    let ca = cluster.certs_dir().join(certs::CA_CERT);
    // Trusting our CA but showing a certificate theirs signed: the node refuses it.
    refused("another CA's client certificate", || {
        raw_tls_client(addr, &ca, Some(theirs(Role::Client, CLIENT_CERT)))
    })
    .await;
    // A main of the other cluster: it refuses our node's certificate too, and says why.
    let config = ClusterConfig {
        security: other.security(),
        ..test_config()
    };
    let started = Instant::now();
    let err = Cluster::connect(&[addr], config)
        .await
        .err()
        .expect("refused");
    assert!(started.elapsed() < DEFAULT_CONNECT_TIMEOUT + SLACK);
    assert!(err.to_string().contains("TLS handshake"), "{err}");
    still_serves(&cluster, addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_calling_a_peer_only_rpc_gets_not_a_peer() {
    let cluster = tls_cluster(2).await;
    let addr = cluster.addrs()[0];
    let main = transport::connect_shard(addr, DEFAULT_CONNECT_TIMEOUT, &cluster.security())
        .await
        .expect("connects with the client certificate");
    not_a_peer(&main, &name(1)).await;
    // The same connection goes on serving what a client may call.
    main.ping(ctx()).await.expect("ping");
    main.request(ctx(), 7, 0).await.expect("answered").ok();
    // A node's certificate may make the call.
    let peer = cluster.identity(Role::Node, "n2");
    let n2 = transport::connect_shard(addr, DEFAULT_CONNECT_TIMEOUT, &peer)
        .await
        .expect("connects with a node certificate");
    let reached = n2.probe(ctx(), name(2)).await.expect("answered");
    assert!(reached.is_ok(), "{reached:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_signed_certificate_without_extended_key_usage_is_refused() {
    let cluster = tls_cluster(1).await;
    let addr = cluster.addrs()[0];
    let dir = cluster.certs_dir();
    let ca = dir.join(certs::CA_CERT);
    let files = |label: &str| {
        (
            dir.join(format!("{label}.crt")),
            dir.join(format!("{label}.key")),
        )
    };
    // webpki reads a certificate without the extension as good for every usage: a node's.
    let bare = files("bare");
    cluster.sign_unlike_certs(&["127.0.0.1"], &[], (&bare.0, &bare.1));
    refused("a certificate without extended key usage", || {
        raw_tls_client(addr, &ca, Some(bare.clone()))
    })
    .await;
    // Signed the same way but listing clientAuth, it is a client's: the refusal above is the
    // missing extension, not the signing.
    let listed = files("listed");
    cluster.sign_unlike_certs(
        &["127.0.0.1"],
        &[rcgen::ExtendedKeyUsagePurpose::ClientAuth],
        (&listed.0, &listed.1),
    );
    let main = raw_tls_client(addr, &ca, Some(listed))
        .await
        .expect("connects");
    main.ping(ctx())
        .await
        .expect("a client's certificate is answered");
    not_a_peer(&main, &name(1)).await;
    still_serves(&cluster, addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_to_start_with_another_nodes_certificate() {
    let cluster = tls_cluster(1).await;
    let err = cluster
        .try_start_as(name(2), cluster.identity(Role::Node, "n1"))
        .await
        .err()
        .expect("n2 does not start on n1's certificate");
    assert!(
        matches!(&err, NodeError::AnotherNodesCertificate { name: n, holder } if *n == name(2) && *holder == name(1)),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("node n1's") && text.contains("ringshop-node certs node n2 HOST..."),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_certificate_made_before_it_named_its_node_is_refused_with_how_to_remake_it() {
    let cluster = tls_cluster(1).await;
    let n2 = name(2);
    let dir = cluster.certs_dir();
    // As `certs node n2 127.0.0.1` made it before: the roles and the host, no name.
    cluster.sign_unlike_certs(
        &["127.0.0.1"],
        &[
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ],
        (
            &certs::cert_path(dir, Role::Node, &n2),
            &certs::key_path(dir, Role::Node, &n2),
        ),
    );
    let err = cluster
        .try_start_as(n2.clone(), cluster.identity(Role::Node, "n2"))
        .await
        .err()
        .expect("n2 does not start on a certificate that names no node");
    assert!(
        matches!(&err, NodeError::CertificateNamesNoNode { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("make it again") && text.contains("ringshop-node certs node n2 HOST..."),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plaintext_client_against_a_tls_node_fails_cleanly() {
    let cluster = tls_cluster(1).await;
    let addr = cluster.addrs()[0];
    refused("plaintext tarpc", || async {
        transport::connect_shard(addr, DEFAULT_CONNECT_TIMEOUT, &Security::Plain)
            .await
            .map_err(|e| e.to_string())
    })
    .await;
    let started = Instant::now();
    let err = Cluster::connect(&[addr], test_config())
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, ClusterError::Unreachable { .. }), "{err}");
    assert!(started.elapsed() < DEFAULT_CONNECT_TIMEOUT + SLACK);
    still_serves(&cluster, addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshakes_that_never_finish_are_bounded_and_never_block_the_listener() {
    let cluster = tls_cluster(1).await;
    let addr = cluster.addrs()[0];
    // Silent connections: they never say a word of TLS. Half the handshake slots ...
    let mut silent = Vec::new();
    for _ in 0..MAX_HANDSHAKES / 2 {
        silent.push(TcpStream::connect(addr).await.expect("connects"));
    }
    // ... do not keep a good client waiting: the accept loop never waits on a handshake.
    let started = Instant::now();
    still_serves(&cluster, addr).await;
    assert!(
        started.elapsed() < DEFAULT_CONNECT_TIMEOUT,
        "{:?}",
        started.elapsed()
    );
    // Beyond the bound, a connection is closed at once.
    for _ in MAX_HANDSHAKES / 2..MAX_HANDSHAKES + 8 {
        silent.push(TcpStream::connect(addr).await.expect("connects"));
    }
    let mut last = silent.pop().expect("one");
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(HANDSHAKE_TIMEOUT / 2, last.read(&mut byte)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "a connection beyond {MAX_HANDSHAKES} handshakes is closed at once: {closed:?}"
    );
    // Every silent one is closed by the handshake timeout.
    for mut s in silent {
        let closed = tokio::time::timeout(HANDSHAKE_TIMEOUT + SLACK * 2, s.read(&mut byte)).await;
        assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
    }
    still_serves(&cluster, addr).await;
}

/// A TCP forwarder on 127.0.0.1 to `target` (set once known), counting connections: a stand-in
/// for the NAT or port forward behind which `--advertise` is the address to dial.
async fn forwarder() -> (SocketAddr, Arc<OnceLock<SocketAddr>>, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    let (target, count) = (Arc::new(OnceLock::new()), Arc::new(AtomicUsize::new(0)));
    let (t, c) = (target.clone(), count.clone());
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::Relaxed);
            let Some(&to) = t.get() else { continue };
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (addr, target, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advertise_is_what_the_members_table_lists_and_what_clients_dial() {
    let mut cluster = TestCluster::empty(Duration::from_secs(5));
    let (front, target, dialled) = forwarder().await;
    let bound = cluster
        .add_in_process_with(name(1), |config| config.with_advertise(front))
        .await;
    target.set(bound).expect("set once");
    assert_ne!(bound, front, "bound and advertised differ");
    assert_eq!(cluster.handle(&name(1)).advertised(), front);
    let n2 = cluster.add_in_process(name(2)).await;
    // A client that knows only n2 learns n1 from the members table, at its advertised address.
    let client = Cluster::connect(&[n2], test_config())
        .await
        .expect("connects");
    let listing = client.listing().await.expect("members");
    let listed = listing
        .members
        .iter()
        .find(|m| m.name == name(1))
        .expect("n1 is a member");
    assert_eq!(listed.addr, front, "the members table lists --advertise");
    let owned_by_n1 = (0..1000u64)
        .find(|id| client.owner(id) == Some(name(1)))
        .expect("n1 owns some id");
    let answer = client.request(owned_by_n1).await.expect("answered");
    assert_eq!((answer.report.node, answer.report.addr), (name(1), front));
    assert!(
        dialled.load(Ordering::Relaxed) >= 1,
        "the client dialled --advertise"
    );
}

/// A relay keeps its caller's rights: a client certificate asking a node to forward a
/// peer-only call to another node is refused as if it had called it, and a relayed call is
/// never relayed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_keeps_the_callers_rights_and_relays_once() {
    use ringshop_shared::ShardRequest;
    let cluster = tls_cluster(2).await;
    let addr = cluster.addrs()[0];
    let main = transport::connect_shard(addr, DEFAULT_CONNECT_TIMEOUT, &cluster.security())
        .await
        .expect("connects with the client certificate");
    let reserve = ShardRequest::Reserve {
        order: ringshop_shared::OrderId::random(),
        product: ringshop_tests::product("mug"),
        qty: 1,
        epoch: 0,
    };
    let relayed = main
        .forward(ctx(), name(2), Box::new(reserve))
        .await
        .expect("answered");
    assert_eq!(
        relayed.map(drop),
        Err(ringshop_shared::ShardError::NotAPeer {
            node: name(1),
            rpc: "reserve".into(),
        })
    );
    let twice = ShardRequest::Forward {
        to: name(1),
        request: Box::new(ShardRequest::Ping {}),
    };
    let answer = main
        .forward(ctx(), name(2), Box::new(twice))
        .await
        .expect("answered");
    assert!(
        matches!(answer, Err(ringshop_shared::ShardError::Invalid { .. })),
        "{answer:?}"
    );
    // What a client may call is relayed: n2's ping through n1.
    let ping = main
        .forward(ctx(), name(2), Box::new(ShardRequest::Ping {}))
        .await
        .expect("answered")
        .expect("relayed");
    assert!(
        matches!(*ping, ringshop_shared::ShardResponse::Ping(ref info) if info.name == name(2)),
        "{ping:?}"
    );
}
