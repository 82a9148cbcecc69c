use super::test_certs::{Ca, ClientAuth, Leaf, ServerAuth};
use super::*;

fn identity(ca: &Ca, leaf: &Leaf) -> Result<Tls, TlsError> {
    Tls::new(Pem {
        ca: ("ca.crt", ca.pem.as_bytes()),
        cert: ("leaf.crt", leaf.pem.as_bytes()),
        key: ("leaf.key", leaf.key.as_bytes()),
    })
}

fn der(leaf: &Leaf) -> CertificateDer<'static> {
    CertificateDer::from(leaf.der.clone())
}

#[test]
fn the_role_is_the_listed_extended_key_usage() {
    let ca = Ca::new();
    let node = ca.leaf(&["127.0.0.1"], &[ServerAuth, ClientAuth]);
    let client = ca.leaf(&[], &[ClientAuth]);
    let tls = identity(&ca, &node).expect("a node's identity");
    assert_eq!(tls.role(), Role::Node);
    assert_eq!(tls.role_of(&der(&node)), Some(Role::Node));
    assert_eq!(tls.role_of(&der(&client)), Some(Role::Client));
    let server_only = ca.leaf(&["127.0.0.1"], &[ServerAuth]);
    assert_eq!(
        tls.role_of(&der(&server_only)),
        None,
        "a node dials: clientAuth too"
    );
}

#[test]
fn a_ca_signed_certificate_without_extended_key_usage_has_no_role() {
    let ca = Ca::new();
    let node = ca.leaf(&["127.0.0.1"], &[ServerAuth, ClientAuth]);
    let tls = identity(&ca, &node).expect("a node's identity");
    let bare = ca.leaf(&["127.0.0.1"], &[]);
    assert_eq!(tls.role_of(&der(&bare)), None, "a peer's");
    let own = identity(&ca, &bare).expect_err("nor is it an identity");
    assert!(matches!(own, TlsError::NoRole { .. }), "{own}");
    assert!(own.to_string().contains("no extended key usage"), "{own}");
}

#[test]
fn a_certificate_without_extended_key_usage_from_another_ca_is_not_signed_by_ours() {
    let (ours, theirs) = (Ca::new(), Ca::new());
    let bare = theirs.leaf(&["127.0.0.1"], &[]);
    let err = identity(&ours, &bare).expect_err("another CA's");
    assert!(matches!(err, TlsError::NotSignedByCa { .. }), "{err}");
}

#[test]
fn a_node_certificate_names_its_node_as_webpki_checks_it() {
    let ca = Ca::new();
    let n1 = NodeId::new("n1").expect("valid");
    let dns = node_name::dns_name(&n1);
    let tls = identity(
        &ca,
        &ca.leaf(&["127.0.0.1", &dns], &[ServerAuth, ClientAuth]),
    )
    .expect("a node's identity");
    assert!(tls.is_node(&n1));
    assert!(!tls.is_node(&NodeId::new("n2").expect("valid")));
    assert!(!tls.is_node(&NodeId::new("N1").expect("valid")));
    assert_eq!(tls.node_names(), vec![n1.clone()]);
    let old = identity(&ca, &ca.leaf(&["127.0.0.1"], &[ServerAuth, ClientAuth]))
        .expect("an identity made before names");
    assert!(!old.is_node(&n1));
    assert!(old.node_names().is_empty());
}
