use super::*;

fn name(n: &str) -> NodeId {
    NodeId::new(n).expect("valid")
}

fn leaf(dir: &Path, role: Role, n: &str) -> rustls_pki_types::CertificateDer<'static> {
    use rustls_pki_types::pem::PemObject;
    let pem = std::fs::read(cert_path(dir, role, &name(n))).expect("reads the certificate");
    rustls_pki_types::CertificateDer::from_pem_slice(&pem).expect("a PEM certificate")
}

/// A CA with node n1 (at 127.0.0.1) and client main, made as the `certs` commands make them.
fn cluster_certs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    init(dir.path()).expect("makes the CA");
    node(dir.path(), &name("n1"), &["127.0.0.1".into()]).expect("signs a node");
    client(dir.path(), &name("main")).expect("signs a client");
    dir
}

#[test]
fn the_role_is_read_from_the_certificate_and_checked_against_the_ca() {
    let dir = cluster_certs();
    let n1 = load(dir.path(), Role::Node, &name("n1")).expect("loads the node's identity");
    assert_eq!(n1.role(), Role::Node);
    let main = load(dir.path(), Role::Client, &name("main")).expect("loads the client's");
    assert_eq!(main.role(), Role::Client);
    assert_eq!(
        n1.role_of(&leaf(dir.path(), Role::Node, "n1")),
        Some(Role::Node)
    );
    assert_eq!(
        n1.role_of(&leaf(dir.path(), Role::Client, "main")),
        Some(Role::Client),
        "a client certificate never reads as a node's"
    );
}

#[test]
fn a_certificate_from_another_ca_has_no_role() {
    let ours = cluster_certs();
    let theirs = cluster_certs();
    let n1 = load(ours.path(), Role::Node, &name("n1")).expect("loads");
    assert_eq!(n1.role_of(&leaf(theirs.path(), Role::Node, "n1")), None);
    assert_eq!(n1.role_of(&leaf(theirs.path(), Role::Client, "main")), None);
}

#[test]
fn a_missing_certificate_names_its_path_and_the_command_that_makes_it() {
    let dir = cluster_certs();
    let err = load(dir.path(), Role::Client, &name("alice")).expect_err("no such client");
    let text = err.to_string();
    assert!(text.contains("client.alice.crt is missing"), "{text}");
    assert!(
        text.contains("ringshop-node certs client alice --certs"),
        "{text}"
    );
    let empty = tempfile::tempdir().expect("temp dir");
    let err = load(empty.path(), Role::Node, &name("n1")).expect_err("no CA");
    assert!(
        err.to_string().contains("ringshop-node certs init"),
        "{err}"
    );
}

#[test]
fn init_refuses_to_replace_a_ca_and_a_node_needs_a_host() {
    let dir = cluster_certs();
    assert!(matches!(init(dir.path()), Err(CertsError::CaExists { .. })));
    assert!(matches!(
        node(dir.path(), &name("n2"), &[]),
        Err(CertsError::NoHosts)
    ));
}

#[test]
fn a_certificate_signed_with_another_ca_key_is_refused_before_it_is_written() {
    let ours = cluster_certs();
    let theirs = cluster_certs();
    std::fs::copy(theirs.path().join(CA_KEY), ours.path().join(CA_KEY)).expect("copies");
    let err = client(ours.path(), &name("bob")).expect_err("ca.key is not ca.crt's");
    assert!(
        matches!(err, CertsError::Tls(TlsError::NotSignedByCa { .. })),
        "{err}"
    );
    assert!(!cert_path(ours.path(), Role::Client, &name("bob")).exists());
}

#[cfg(unix)]
#[test]
fn keys_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = cluster_certs();
    for key in [
        dir.path().join(CA_KEY),
        key_path(dir.path(), Role::Node, &name("n1")),
        key_path(dir.path(), Role::Client, &name("main")),
    ] {
        let mode = std::fs::metadata(&key)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", key.display());
    }
}

#[test]
fn a_node_certificate_names_exactly_its_hosts() {
    let dir = cluster_certs();
    let n1 = load(dir.path(), Role::Node, &name("n1")).expect("loads");
    assert!(n1.names("127.0.0.1".parse().expect("an IP")));
    assert!(!n1.names("10.0.0.1".parse().expect("an IP")));
}

#[test]
fn a_node_certificate_names_its_node_and_no_other() {
    let dir = cluster_certs();
    let n1 = load(dir.path(), Role::Node, &name("n1")).expect("loads");
    assert!(n1.is_node(&name("n1")));
    assert!(!n1.is_node(&name("n2")));
    assert_eq!(n1.node_names(), vec![name("n1")]);
    let main = load(dir.path(), Role::Client, &name("main")).expect("loads");
    assert!(
        main.node_names().is_empty(),
        "a client certificate names no node"
    );
}

#[test]
fn a_host_under_the_nodes_domain_is_refused() {
    let dir = cluster_certs();
    for host in ["n2.node.ringshop", "N2.Node.Ringshop.", "node.ringshop"] {
        let err = node(dir.path(), &name("n1"), &["127.0.0.1".into(), host.into()])
            .expect_err("a node may not name another");
        assert!(matches!(err, CertsError::ReservedHost { .. }), "{err}");
    }
}
