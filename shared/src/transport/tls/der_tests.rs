use rcgen::CustomExtension;

use super::*;
use crate::transport::tls::test_certs::{Ca, ClientAuth, ServerAuth};

const BOTH: Purposes = Purposes {
    server_auth: true,
    client_auth: true,
};

#[test]
fn the_extended_key_usage_is_read_as_listed_and_none_without_the_extension() {
    let ca = Ca::new();
    let node = ca.leaf(&["127.0.0.1"], &[ServerAuth, ClientAuth]);
    assert_eq!(extended_key_usage(&node.der), Ok(Some(BOTH)));
    let client = ca.leaf(&[], &[ClientAuth]);
    assert_eq!(
        extended_key_usage(&client.der),
        Ok(Some(Purposes {
            server_auth: false,
            client_auth: true
        }))
    );
    let bare = ca.leaf(&["127.0.0.1"], &[]);
    assert_eq!(extended_key_usage(&bare.der), Ok(None));
    // Other purposes are listed but are neither.
    let signing = ca.leaf(&[], &[rcgen::ExtendedKeyUsagePurpose::CodeSigning]);
    assert_eq!(
        extended_key_usage(&signing.der),
        Ok(Some(Purposes::default()))
    );
}

#[test]
fn dns_names_are_read_in_order_without_the_ip_addresses() {
    let ca = Ca::new();
    let leaf = ca.leaf(
        &["127.0.0.1", "localhost", "n1.node.ringshop"],
        &[ServerAuth],
    );
    assert_eq!(
        dns_names(&leaf.der),
        Ok(vec!["localhost", "n1.node.ringshop"])
    );
    let none = ca.leaf(&[], &[ClientAuth]);
    assert_eq!(dns_names(&none.der), Ok(vec![]));
}

#[test]
fn an_extension_given_twice_or_an_empty_usage_list_is_malformed() {
    let ca = Ca::new();
    // SEQUENCE { id-kp-serverAuth }, and an empty SEQUENCE.
    let server_auth = [&[0x30, 0x0a, 0x06, 0x08][..], SERVER_AUTH].concat();
    let twice = ca.leaf_with(
        &[],
        &[ClientAuth],
        vec![CustomExtension::from_oid_content(
            &[2, 5, 29, 37],
            server_auth,
        )],
    );
    assert!(extended_key_usage(&twice.der).is_err());
    let empty = ca.leaf_with(
        &[],
        &[],
        vec![CustomExtension::from_oid_content(
            &[2, 5, 29, 37],
            vec![0x30, 0x00],
        )],
    );
    assert!(extended_key_usage(&empty.der).is_err());
}

#[test]
fn malformed_bytes_are_an_error_never_a_panic() {
    for bytes in [
        &[][..],
        &[0x30],
        &[0x30, 0x80, 0x00, 0x00],                   // indefinite length
        &[0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00], // a five-byte length
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],       // past the end
        &[0x1f, 0x81, 0x00],                         // a multi-byte tag
        &[0x30, 0x00],                               // no tbsCertificate
        &[0x30, 0x02, 0x30, 0x00, 0x00],             // bytes after the end
        &[0x30, 0x04, 0x30, 0x02, 0xa3, 0x00],       // extensions not a SEQUENCE
    ] {
        assert!(extended_key_usage(bytes).is_err(), "{bytes:02x?}");
        assert!(dns_names(bytes).is_err(), "{bytes:02x?}");
    }
}

#[test]
fn every_prefix_and_every_byte_flip_of_a_certificate_reads_without_panicking() {
    let ca = Ca::new();
    let leaf = ca.leaf(
        &["127.0.0.1", "n1.node.ringshop"],
        &[ServerAuth, ClientAuth],
    );
    for end in 0..leaf.der.len() {
        let prefix = &leaf.der[..end];
        assert!(
            extended_key_usage(prefix).is_err(),
            "a prefix of {end} bytes"
        );
        assert!(dns_names(prefix).is_err(), "a prefix of {end} bytes");
    }
    let mut rng = fastrand::Rng::with_seed(19);
    for at in 0..leaf.der.len() {
        for _ in 0..4 {
            let mut bytes = leaf.der.clone();
            bytes[at] ^= rng.u8(1..);
            let _ = extended_key_usage(&bytes);
            let _ = dns_names(&bytes);
        }
    }
    for len in 0..512 {
        let bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        let _ = extended_key_usage(&bytes);
        let _ = dns_names(&bytes);
    }
}
