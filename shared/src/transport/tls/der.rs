//! A small, strict reader of the two certificate extensions webpki checks but does not show:
//! extended key usage (2.5.29.37) and the DNS names among the subject alternative names
//! (2.5.29.17). It owns the walk Certificate → tbsCertificate → `[3]` extensions → one
//! extension's value, and nothing else.
//!
//! It never verifies anything (webpki does) and never panics on any input: every length is
//! checked against the bytes left, tags are single-byte, lengths at most four bytes, and the
//! walk has a fixed depth, so its work is bounded by the input's size. Bytes that are not the
//! shape it expects are `Malformed`, never guessed at.

/// Why the bytes are not a certificate of the shape this reader expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed certificate: {0}")]
pub struct Malformed(pub &'static str);

const BOOLEAN: u8 = 0x01;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
/// tbsCertificate's `extensions [3] EXPLICIT`: context-specific, constructed.
const EXTENSIONS: u8 = 0xa3;
/// GeneralName's `dNSName [2] IMPLICIT IA5String`: context-specific, primitive.
const DNS_NAME: u8 = 0x82;

/// id-ce-extKeyUsage, 2.5.29.37.
const EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
/// id-ce-subjectAltName, 2.5.29.17.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// id-kp-serverAuth, 1.3.6.1.5.5.7.3.1.
const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
/// id-kp-clientAuth, 1.3.6.1.5.5.7.3.2.
const CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];

/// What a certificate's extended key usage lists, of the two purposes roles are made of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purposes {
    pub server_auth: bool,
    pub client_auth: bool,
}

/// The purposes `cert` (DER) lists in its extended key usage; None if it has no such
/// extension (which webpki reads as "valid for every purpose": we do not).
pub fn extended_key_usage(cert: &[u8]) -> Result<Option<Purposes>, Malformed> {
    let Some(value) = extension(cert, EXTENDED_KEY_USAGE)? else {
        return Ok(None);
    };
    let mut list = Reader(only(value, SEQUENCE, "extended key usage not a SEQUENCE")?);
    if list.is_empty() {
        return Err(Malformed("an empty extended key usage"));
    }
    let mut purposes = Purposes::default();
    while !list.is_empty() {
        match list.expect(OID, "a key purpose not an OID")? {
            SERVER_AUTH => purposes.server_auth = true,
            CLIENT_AUTH => purposes.client_auth = true,
            _ => {}
        }
    }
    Ok(Some(purposes))
}

/// The DNS names among `cert`'s (DER) subject alternative names, in order; none if it has no
/// such extension. Other kinds of names (IP addresses, ...) are skipped.
pub fn dns_names(cert: &[u8]) -> Result<Vec<&str>, Malformed> {
    let Some(value) = extension(cert, SUBJECT_ALT_NAME)? else {
        return Ok(Vec::new());
    };
    let mut list = Reader(only(
        value,
        SEQUENCE,
        "subject alternative names not a SEQUENCE",
    )?);
    let mut names = Vec::new();
    while !list.is_empty() {
        let (tag, name) = list.next()?;
        if tag == DNS_NAME {
            let name = std::str::from_utf8(name)
                .ok()
                .filter(|n| n.is_ascii())
                .ok_or(Malformed("a DNS name that is not ASCII"))?;
            names.push(name);
        }
    }
    Ok(names)
}

/// The value (the contents of its OCTET STRING) of `cert`'s extension `oid`; None if it has
/// none. A certificate with two of them is malformed (RFC 5280 4.2).
fn extension<'a>(cert: &'a [u8], oid: &[u8]) -> Result<Option<&'a [u8]>, Malformed> {
    let mut certificate = Reader(only(cert, SEQUENCE, "not a certificate")?);
    let mut tbs = Reader(certificate.expect(SEQUENCE, "no tbsCertificate")?);
    let mut found = None;
    while !tbs.is_empty() {
        let (tag, contents) = tbs.next()?;
        if tag != EXTENSIONS {
            continue;
        }
        let mut extensions = Reader(only(contents, SEQUENCE, "extensions not a SEQUENCE")?);
        while !extensions.is_empty() {
            let mut ext = Reader(extensions.expect(SEQUENCE, "an extension not a SEQUENCE")?);
            let id = ext.expect(OID, "an extension without its id")?;
            let (mut tag, mut value) = ext.next()?;
            if tag == BOOLEAN {
                (tag, value) = ext.next()?;
            }
            if tag != OCTET_STRING || !ext.is_empty() {
                return Err(Malformed("an extension that is not id, critical, value"));
            }
            if id == oid {
                if found.is_some() {
                    return Err(Malformed("an extension given twice"));
                }
                found = Some(value);
            }
        }
    }
    Ok(found)
}

/// The contents of `bytes` if they are exactly one element tagged `tag` (else `what`).
fn only<'a>(bytes: &'a [u8], tag: u8, what: &'static str) -> Result<&'a [u8], Malformed> {
    let mut reader = Reader(bytes);
    let contents = reader.expect(tag, what)?;
    if !reader.is_empty() {
        return Err(Malformed("bytes after the end"));
    }
    Ok(contents)
}

/// The bytes not read yet.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next element: its tag and its contents.
    fn next(&mut self) -> Result<(u8, &'a [u8]), Malformed> {
        let [tag, first, rest @ ..] = self.0 else {
            return Err(Malformed("truncated"));
        };
        if tag & 0x1f == 0x1f {
            return Err(Malformed("a multi-byte tag"));
        }
        let (len, rest) = if first & 0x80 == 0 {
            (usize::from(*first), rest)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err(Malformed("an indefinite or oversized length"));
            }
            let (bytes, rest) = rest.split_at_checked(count).ok_or(Malformed("truncated"))?;
            let len = bytes
                .iter()
                .try_fold(0usize, |len, b| {
                    len.checked_mul(256)?.checked_add(usize::from(*b))
                })
                .ok_or(Malformed("an oversized length"))?;
            (len, rest)
        };
        let (contents, rest) = rest
            .split_at_checked(len)
            .ok_or(Malformed("a length past the end"))?;
        self.0 = rest;
        Ok((*tag, contents))
    }

    /// The contents of the next element, which must be tagged `tag` (else `what`).
    fn expect(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], Malformed> {
        match self.next()? {
            (found, contents) if found == tag => Ok(contents),
            _ => Err(Malformed(what)),
        }
    }
}

#[cfg(test)]
#[path = "der_tests.rs"]
mod tests;
