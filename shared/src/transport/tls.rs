//! Mutual TLS with the cluster's own CA, the way CockroachDB does it: every node and every main
//! holds a certificate signed by one CA, and each side of a connection checks the other's.
//! rustls on its `ring` provider, TLS 1.3 only (both ends are ours).
//!
//! Roles live in the certificate's extended key usage: a node certificate is made for
//! `serverAuth` and `clientAuth` (it serves, and it dials its peers); a client certificate
//! (the main's) for `clientAuth` only. So a client certificate can never serve (a dialler
//! checks `serverAuth`), and a node tells a peer from a client by checking the peer's
//! certificate, against the same CA, for `serverAuth` ([`Tls::role_of`]). The extension must
//! be there: webpki reads a certificate without one as valid for every purpose, so the role
//! is read from the extension itself ([`der`]), and a certificate that lists none has no role.
//!
//! A node certificate also names its node ([`node_name`]), so that a node cannot join under
//! another's name ([`Tls::is_node`]).
//!
//! This module never opens files: callers hand it PEM bytes, which [`folder`] reads from the
//! certificate folder (the node's `certs` module makes them).

pub mod der;
pub mod folder;
pub mod node_name;

use std::fmt;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, TrustAnchor, UnixTime};
use serde::{Deserialize, Serialize};

use crate::NodeId;
use tokio_rustls::{TlsAcceptor, TlsConnector};
use webpki::{EndEntityCert, KeyUsage};

/// What a certificate allows its holder to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// A cluster node: serves, and may make node-to-node calls.
    Node,
    /// A main (`ringshop`): may call what a user may, never a peer-only RPC.
    Client,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Node => "node",
            Role::Client => "client",
        })
    }
}

/// Why a TLS identity could not be built from the PEM it was given. `what` names the input
/// (the caller passes the file's path).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("{what}: not a PEM {kind} ({reason})")]
    Pem {
        what: String,
        kind: &'static str,
        reason: String,
    },
    #[error(
        "{what} is not signed by the cluster CA {ca} ({reason}); make it again with `ringshop-node certs` from the same CA"
    )]
    NotSignedByCa {
        what: String,
        ca: String,
        reason: String,
    },
    #[error(
        "{what} gives no role: {reason}; make it again with `ringshop-node certs node NAME HOST...` (a node's) or `ringshop-node certs client NAME` (a main's)"
    )]
    NoRole { what: String, reason: String },
    #[error("{what}: {reason}")]
    Rustls { what: String, reason: String },
}

/// PEM inputs of one identity, each with the name errors call it by (a file's path).
pub struct Pem<'a> {
    pub ca: (&'a str, &'a [u8]),
    pub cert: (&'a str, &'a [u8]),
    pub key: (&'a str, &'a [u8]),
}

/// One identity's TLS: its dialler and acceptor, and the CA to judge peers' roles by.
pub struct Tls {
    /// This identity's own certificate.
    leaf: CertificateDer<'static>,
    connector: TlsConnector,
    acceptor: TlsAcceptor,
    anchors: Vec<TrustAnchor<'static>>,
    provider: Arc<CryptoProvider>,
    role: Role,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").field("role", &self.role).finish()
    }
}

impl Tls {
    /// The identity of `pem.cert` (with its `pem.key`), trusting only `pem.ca`. Fails if the
    /// certificate is not signed by that CA for either role.
    pub fn new(pem: Pem<'_>) -> Result<Tls, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (ca_name, ca_pem) = pem.ca;
        let (cert_name, cert_pem) = pem.cert;
        let (key_name, key_pem) = pem.key;
        let ca = CertificateDer::from_pem_slice(ca_pem).map_err(|e| TlsError::Pem {
            what: ca_name.into(),
            kind: "certificate",
            reason: e.to_string(),
        })?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| TlsError::Pem {
                what: cert_name.into(),
                kind: "certificate",
                reason: e.to_string(),
            })?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem {
            what: key_name.into(),
            kind: "private key",
            reason: e.to_string(),
        })?;
        let rustls_error = |what: &str| {
            let what = what.to_string();
            move |e: rustls::Error| TlsError::Rustls {
                what,
                reason: e.to_string(),
            }
        };
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone()).map_err(rustls_error(ca_name))?;
        let anchors = vec![
            webpki::anchor_from_trusted_cert(&ca)
                .map_err(|e| TlsError::Pem {
                    what: ca_name.into(),
                    kind: "CA certificate",
                    reason: e.to_string(),
                })?
                .to_owned(),
        ];
        let Some(leaf) = chain.first() else {
            return Err(TlsError::Pem {
                what: cert_name.into(),
                kind: "certificate",
                reason: "no certificate in it".into(),
            });
        };
        let role = role_of(&provider, &anchors, leaf).map_err(|refused| match refused {
            Refused::NotSigned(reason) => TlsError::NotSignedByCa {
                what: cert_name.into(),
                ca: ca_name.into(),
                reason,
            },
            Refused::NoRole(reason) => TlsError::NoRole {
                what: cert_name.into(),
                reason,
            },
        })?;
        let leaf = leaf.clone();
        let roots = Arc::new(roots);
        let client = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(rustls_error(cert_name))?
            .with_root_certificates(roots.clone())
            .with_client_auth_cert(chain.clone(), key.clone_key())
            .map_err(rustls_error(key_name))?;
        let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| TlsError::Rustls {
                what: ca_name.into(),
                reason: e.to_string(),
            })?;
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(rustls_error(cert_name))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(rustls_error(key_name))?;
        Ok(Tls {
            leaf,
            connector: TlsConnector::from(Arc::new(client)),
            acceptor: TlsAcceptor::from(Arc::new(server)),
            anchors,
            provider,
            role,
        })
    }

    /// This identity's own role, as its certificate says.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether this identity's certificate names `ip`, so that a peer dialling `ip` accepts
    /// it (a node's certificate must name its advertised address).
    pub fn names(&self, ip: std::net::IpAddr) -> bool {
        EndEntityCert::try_from(&self.leaf).is_ok_and(|leaf| {
            leaf.verify_is_valid_for_subject_name(&ServerName::IpAddress(ip.into()))
                .is_ok()
        })
    }

    /// Whether this identity's certificate names node `name` ([`node_name`]), so that it may
    /// join as `name`.
    pub fn is_node(&self, name: &NodeId) -> bool {
        let Ok(dns) = ServerName::try_from(node_name::dns_name(name)) else {
            return false;
        };
        EndEntityCert::try_from(&self.leaf)
            .is_ok_and(|leaf| leaf.verify_is_valid_for_subject_name(&dns).is_ok())
    }

    /// The nodes this identity's certificate names (for messages; [`Tls::is_node`] checks).
    pub fn node_names(&self) -> Vec<NodeId> {
        node_names(&self.leaf)
    }

    /// The role a peer's certificate gives it, checked against this identity's CA; None if
    /// that CA did not sign it for either role, or it lists neither.
    pub fn role_of(&self, cert: &CertificateDer<'_>) -> Option<Role> {
        role_of(&self.provider, &self.anchors, cert).ok()
    }

    pub(crate) fn connector(&self) -> &TlsConnector {
        &self.connector
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

/// The nodes `cert` names ([`node_name`]); none if it names none or does not read.
pub fn node_names(cert: &CertificateDer<'_>) -> Vec<NodeId> {
    der::dns_names(cert.as_ref())
        .unwrap_or_default()
        .into_iter()
        .filter_map(node_name::node_of)
        .collect()
}

/// Why a certificate gives no role.
enum Refused {
    NotSigned(String),
    NoRole(String),
}

/// `Node` if `cert` lists `serverAuth` and `clientAuth` in its extended key usage, `Client`
/// if `clientAuth` only, and `anchors` signed it for that usage; no role without the
/// extension (webpki would accept it for either).
fn role_of(
    provider: &CryptoProvider,
    anchors: &[TrustAnchor<'static>],
    cert: &CertificateDer<'_>,
) -> Result<Role, Refused> {
    let leaf = EndEntityCert::try_from(cert).map_err(|e| Refused::NotSigned(e.to_string()))?;
    let now = UnixTime::now();
    let algs = provider.signature_verification_algorithms.all;
    let verify = |usage| {
        leaf.verify_for_usage(algs, anchors, &[], now, usage, None, None)
            .map(drop)
            .map_err(|e| Refused::NotSigned(e.to_string()))
    };
    let purposes =
        der::extended_key_usage(cert.as_ref()).map_err(|e| Refused::NoRole(e.to_string()))?;
    let (role, usage) = match purposes {
        Some(der::Purposes {
            server_auth: true,
            client_auth: true,
        }) => (Role::Node, KeyUsage::server_auth()),
        Some(der::Purposes {
            client_auth: true, ..
        }) => (Role::Client, KeyUsage::client_auth()),
        Some(_) => {
            return Err(Refused::NoRole(
                "its extended key usage lists no clientAuth".into(),
            ));
        }
        None => {
            // Without the extension webpki accepts any usage: "not our CA's" is the clearer
            // refusal, if it is that.
            verify(KeyUsage::client_auth())?;
            return Err(Refused::NoRole(
                "it has no extended key usage (a node's lists serverAuth and clientAuth, a main's clientAuth)".into(),
            ));
        }
    };
    verify(usage)?;
    Ok(role)
}

/// How a side's connections are made: in the clear, or with mutual TLS.
#[derive(Clone, Debug, Default)]
pub enum Security {
    /// Plaintext: loopback, or a node started with `--insecure`. Every caller may call
    /// every RPC, as before TLS existed.
    #[default]
    Plain,
    Tls(Arc<Tls>),
}

impl Security {
    pub fn is_tls(&self) -> bool {
        matches!(self, Security::Tls(_))
    }
}

#[cfg(test)]
mod test_certs;

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
