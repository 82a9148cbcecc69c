//! Mutual TLS for a `TestCluster`: the cluster's CA and certificates, made in its folder by
//! `ringshop_node::certs` (the code behind `ringshop-node certs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringshop_node::certs;
use ringshop_shared::transport::{self, DEFAULT_CONNECT_TIMEOUT, Role, Security, Stream};
use ringshop_shared::{NodeId, OrderId, ShardClient, ShardError};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;

use crate::{TestCluster, product};

/// A refused connection must be over within the connect timeout; this much more is allowed
/// for a loaded test machine to notice.
pub const SLACK: Duration = Duration::from_millis(500);

/// The client certificate's name `with_tls` makes.
pub const CLIENT_CERT: &str = "main";

impl TestCluster {
    /// From here on every node serves mutual TLS and `client()` presents a client certificate:
    /// makes the cluster's CA and the client certificate `CLIENT_CERT` in the cluster's folder
    /// (each node's certificate, for 127.0.0.1, as the node starts).
    pub fn with_tls(mut self) -> TestCluster {
        let dir = self.dir.path().join("certs");
        certs::init(&dir).expect("makes the CA");
        certs::client(&dir, &name_of(CLIENT_CERT)).expect("signs the client certificate");
        self.certs = Some(dir);
        self
    }

    /// The folder of the cluster's certificates (`with_tls`).
    pub fn certs_dir(&self) -> &std::path::Path {
        self.certs.as_deref().expect("a cluster made `with_tls`")
    }

    /// The identity of node or client `name` from this cluster's certificates (`with_tls`).
    pub fn identity(&self, role: Role, name: &str) -> Security {
        let tls = certs::load(self.certs_dir(), role, &name_of(name)).expect("loads the identity");
        Security::Tls(std::sync::Arc::new(tls))
    }

    /// How this cluster's clients connect: with the client certificate under TLS, else plain.
    pub fn security(&self) -> Security {
        match self.certs {
            Some(_) => self.identity(Role::Client, CLIENT_CERT),
            None => Security::Plain,
        }
    }

    /// Tries to start node `name` in process presenting `identity` in place of its own
    /// certificate (another node's, say): how it refuses to.
    pub async fn try_start_as(
        &self,
        name: NodeId,
        identity: Security,
    ) -> Result<ringshop_node::NodeHandle, ringshop_node::NodeError> {
        let listen = SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
        ringshop_node::serve(self.config(name, listen).with_security(identity)).await
    }

    /// Signs, with this cluster's CA, a certificate unlike any `ringshop-node certs` makes:
    /// valid for `names` only (no node name unless given), listing `usages` in its extended
    /// key usage (no such extension at all if none), written to `cert` and `key`.
    pub fn sign_unlike_certs(
        &self,
        names: &[&str],
        usages: &[rcgen::ExtendedKeyUsagePurpose],
        (cert, key): (&std::path::Path, &std::path::Path),
    ) {
        let dir = self.certs_dir();
        let ca_key = std::fs::read_to_string(dir.join(certs::CA_KEY)).expect("reads ca.key");
        let ca_key = rcgen::KeyPair::from_pem(&ca_key).expect("a PEM key");
        // The CA's subject as `certs init` writes it: the issuer must name it.
        let mut ca = rcgen::CertificateParams::default();
        ca.distinguished_name = {
            let mut dn = rcgen::DistinguishedName::new();
            dn.push(rcgen::DnType::OrganizationName, "ringshop");
            dn.push(rcgen::DnType::OrganizationalUnitName, "ca");
            dn.push(rcgen::DnType::CommonName, "ringshop CA");
            dn
        };
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = rcgen::CertificateParams::new(names).expect("valid names");
        params.extended_key_usages = usages.to_vec();
        let leaf_key = rcgen::KeyPair::generate().expect("a key");
        let signed = params.signed_by(&leaf_key, &issuer).expect("signs");
        std::fs::write(cert, signed.pem()).expect("writes the certificate");
        std::fs::write(key, leaf_key.serialize_pem()).expect("writes the key");
    }

    /// Signs `name`'s node certificate for `ip` unless it has one (`with_tls`).
    pub(crate) fn node_cert(&self, name: &NodeId, ip: std::net::IpAddr) {
        let dir = self.certs_dir();
        if !certs::cert_path(dir, Role::Node, name).exists() {
            certs::node(dir, name, &[ip.to_string()]).expect("signs the node certificate");
        }
    }
}

fn name_of(text: &str) -> NodeId {
    NodeId::new(text).expect("a valid name")
}

fn ctx() -> tarpc::context::Context {
    transport::context(Duration::from_secs(2))
}

/// The cluster's client still gets answers from `addr`.
pub async fn still_serves(cluster: &TestCluster, addr: SocketAddr) {
    let good = transport::connect_shard(addr, DEFAULT_CONNECT_TIMEOUT, &cluster.security())
        .await
        .expect("a client with the cluster's certificate connects");
    let info = good.ping(ctx()).await.expect("and is answered");
    assert_eq!(info.addr, addr);
}

/// A hand-made TLS client of `addr` trusting `ca` and presenting `identity` (a certificate and
/// key) or no certificate at all, as no ringshop client would.
pub async fn raw_tls_client(
    addr: SocketAddr,
    ca: &std::path::Path,
    identity: Option<(std::path::PathBuf, std::path::PathBuf)>,
) -> Result<ShardClient, String> {
    let tls = raw_tls_stream(addr, ca, identity).await?;
    let framed = transport::frame(Stream::Tls(Box::new(tls.into())));
    Ok(ringshop_shared::Hop::direct(transport::channel(framed)))
}

/// A hand-made TLS connection to `addr` (as `raw_tls_client`), for writing raw bytes.
pub async fn raw_tls_stream(
    addr: SocketAddr,
    ca: &std::path::Path,
    identity: Option<(std::path::PathBuf, std::path::PathBuf)>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca).expect("reads ca.crt"))
        .expect("a CA");
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_file(cert).expect("reads the certificate")],
                PrivateKeyDer::from_pem_file(key).expect("reads the key"),
            )
            .expect("a client identity"),
    };
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::IpAddress(addr.ip().into()), tcp)
        .await
        .map_err(|e| e.to_string())
}

/// Asserts a connection made by `connect` gets no answer to `ping`, and learns that within
/// the connect timeout.
pub async fn refused<F, Fut>(what: &str, connect: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<ShardClient, String>>,
{
    let started = Instant::now();
    // TLS 1.3: the client's handshake may finish before the node has judged its certificate,
    // so the refusal can arrive as the first call's failure.
    let outcome = match connect().await {
        Err(handshake) => Err(handshake),
        Ok(client) => match client.ping(ctx()).await {
            Ok(info) => Ok(info),
            Err(e) => Err(e.to_string()),
        },
    };
    let took = started.elapsed();
    assert!(outcome.is_err(), "{what}: answered {outcome:?}");
    assert!(
        took < DEFAULT_CONNECT_TIMEOUT + SLACK,
        "{what}: refused only after {took:?} ({outcome:?})"
    );
}

/// Asserts that `main` (connected to `node` with a client certificate) is refused each
/// peer-only RPC with `NotAPeer`, as an answer, not a dropped connection.
pub async fn not_a_peer(main: &ShardClient, node: &NodeId) {
    let not_a_peer = |rpc: &str| ShardError::NotAPeer {
        node: node.clone(),
        rpc: rpc.into(),
    };
    let (order, mug) = (OrderId::random(), product("mug"));
    let answers = [
        (
            "adopt",
            main.adopt(ctx(), vec![], 0, node.clone(), 1)
                .await
                .map(|r| r.map(drop)),
        ),
        (
            "probe",
            main.probe(ctx(), node.clone()).await.map(|r| r.map(drop)),
        ),
        (
            "reserve",
            main.reserve(ctx(), order, mug.clone(), 1, 0)
                .await
                .map(|r| r.map(drop)),
        ),
    ];
    for (rpc, answer) in answers {
        assert_eq!(
            answer.expect("answered, not dropped"),
            Err(not_a_peer(rpc)),
            "{rpc}"
        );
    }
    assert_eq!(
        ringshop_shared::service::PEER_ONLY.len(),
        3,
        "each peer-only RPC is tried above"
    );
}
