//! How a node's name is written in its certificate: one more DNS name among its subject
//! alternative names, under `node.ringshop`, so that webpki checks it as it checks a host
//! (`Tls::is_node`). It owns that encoding, both ways, and nothing else.
//!
//! A `NodeId` (1 to 32 of `A-Z a-z 0-9 - _ .`) is not always one DNS label: a `.` splits it
//! into several (`a..b` has an empty one), a label may not start or end with `-`, and DNS
//! names compare without case, so nodes `N1` and `n1` would share a certificate. So a name
//! that already is a lowercase label (`[a-z0-9]`, `-` inside: `n1`, `node-7`) is written as
//! it is, `n1.node.ringshop`, readable in `openssl x509 -text`; any other is written in
//! lowercase base32hex (RFC 4648, no padding: at most 52 characters, one label) under
//! `x.node.ringshop`: `N1` is `9oog.x.node.ringshop`. The two forms differ in their number of
//! labels, so they never collide, and each name has exactly one.

use crate::NodeId;

/// The domain under which node names are written.
pub const DOMAIN: &str = "node.ringshop";
/// The label under `DOMAIN` of the encoded form.
const ENCODED: &str = "x";
/// base32hex's alphabet, in lowercase.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

/// The DNS name that says, in a certificate, that it is node `name`'s.
pub fn dns_name(name: &NodeId) -> String {
    let name = name.as_str();
    if is_plain(name) {
        format!("{name}.{DOMAIN}")
    } else {
        format!("{}.{ENCODED}.{DOMAIN}", encode(name.as_bytes()))
    }
}

/// The node a DNS name of a certificate says it is, if it is one `dns_name` writes.
pub fn node_of(dns: &str) -> Option<NodeId> {
    let label = dns.strip_suffix(DOMAIN)?.strip_suffix('.')?;
    let name = match label
        .strip_suffix(ENCODED)
        .and_then(|l| l.strip_suffix('.'))
    {
        Some(encoded) => String::from_utf8(decode(encoded)?).ok()?,
        None => label.to_string(),
    };
    let node = NodeId::new(name).ok()?;
    // Only the one form `dns_name` writes (no uppercase, no plain name encoded).
    (dns_name(&node) == dns).then_some(node)
}

/// Whether `name` is one lowercase DNS label as it is.
fn is_plain(name: &str) -> bool {
    let bytes = name.as_bytes();
    let inner = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    bytes.first().is_some_and(inner)
        && bytes.last().is_some_and(inner)
        && bytes.iter().all(|b| inner(b) || *b == b'-')
}

fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().saturating_mul(8).div_ceil(5));
    let (mut bits, mut count) = (0u16, 0u8);
    let mut push = |index: u16| out.push(char::from(ALPHABET[usize::from(index & 31)]));
    for byte in bytes {
        bits = (bits << 8) | u16::from(*byte);
        count += 8;
        while count >= 5 {
            count -= 5;
            push(bits >> count);
        }
        bits &= (1 << count) - 1;
    }
    if count > 0 {
        push(bits << (5 - count));
    }
    out
}

/// The bytes `encode` made `text` of; None if it did not make it.
fn decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len().saturating_mul(5) / 8);
    let (mut bits, mut count) = (0u16, 0u8);
    for c in text.bytes() {
        let index = ALPHABET.iter().position(|a| *a == c)?;
        bits = (bits << 5) | u16::try_from(index).ok()?;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from(bits >> count).ok()?);
            bits &= (1 << count) - 1;
        }
    }
    // What is left is padding: fewer than 5 bits, all zero.
    (count < 5 && bits == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str) -> NodeId {
        NodeId::new(name).expect("a valid name")
    }

    #[test]
    fn a_lowercase_label_is_written_as_it_is() {
        assert_eq!(dns_name(&node("n1")), "n1.node.ringshop");
        assert_eq!(dns_name(&node("node-7")), "node-7.node.ringshop");
        assert_eq!(dns_name(&node("7")), "7.node.ringshop");
    }

    #[test]
    fn any_other_name_is_one_lowercase_base32hex_label() {
        assert_eq!(dns_name(&node("N1")), "9oog.x.node.ringshop");
        for name in [
            "N1",
            "a.b",
            "a..b",
            "-a",
            "a-",
            "under_score",
            &"Z".repeat(32),
        ] {
            let dns = dns_name(&node(name));
            let label = dns.strip_suffix(".x.node.ringshop").expect("encoded");
            assert!(label.len() <= 63, "{dns}");
            assert!(label.bytes().all(|b| ALPHABET.contains(&b)), "{dns}");
            assert!(
                rustls_pki_types::DnsName::try_from(dns.as_str()).is_ok(),
                "{dns}"
            );
        }
    }

    #[test]
    fn every_name_reads_back_and_names_that_differ_in_case_differ() {
        for name in [
            "n1",
            "N1",
            "a.b",
            "x",
            "node-7",
            "_",
            "-",
            "0",
            &"q".repeat(32),
        ] {
            assert_eq!(node_of(&dns_name(&node(name))), Some(node(name)), "{name}");
        }
        assert_ne!(
            dns_name(&node("N1")).to_ascii_lowercase(),
            dns_name(&node("n1"))
        );
    }

    #[test]
    fn other_dns_names_are_no_node() {
        for dns in [
            "localhost",
            "node.ringshop",
            ".node.ringshop",
            "N1.node.ringshop",
            "a.b.node.ringshop",
            "dsoo.x.node.ringshop",
            "zz.x.node.ringshop",
            "n1.node.ringshop.evil",
            "n1xnode.ringshop",
        ] {
            assert_eq!(node_of(dns), None, "{dns}");
        }
    }
}
