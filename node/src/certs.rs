//! The cluster's certificates, made and read the way CockroachDB's `cert` commands do: one CA
//! per cluster (`certs init DIR`), and certificates it signs for each node (`certs node NAME
//! HOST...`, role node) and each main (`certs client NAME`, role client). This is the only place
//! certificates are made; the transport (`ringshop_shared::transport::tls::folder`) reads them.
//!
//! One folder holds them, by role and name:
//! `ca.crt`, `ca.key`, `node.NAME.crt`, `node.NAME.key`, `client.NAME.crt`, `client.NAME.key`.
//! A node's host needs `ca.crt` and its own `node.NAME.*`; a main's, `ca.crt` and its
//! `client.NAME.*`. `ca.key` signs: keep it off the hosts once the certificates are made.
//!
//! The role is the certificate's extended key usage (see the transport's `tls` module): a node
//! certificate is for serverAuth and clientAuth, a client certificate for clientAuth only. A
//! node certificate also names its node, as one more DNS name (`n1.node.ringshop`, see
//! `tls::node_name`), which a node checks against its `--name` before it starts. The subject
//! says the same for people (`OU=node` / `OU=client`, `CN=NAME`); nothing checks it.
//! ECDSA P-256 keys; the CA lasts 10 years, the others 5, from an hour ago (clock skew).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use ringshop_shared::NodeId;
use ringshop_shared::transport::tls::folder::{FolderError, read};
use ringshop_shared::transport::tls::{Pem, node_name};
use ringshop_shared::transport::{Role, Tls, TlsError};

/// The folder's layout and reading an identity from it are the transport's (a main reads its
/// certificate without the node's code); they are re-exported here beside the making.
pub use ringshop_shared::transport::tls::folder::{CA_CERT, CA_KEY, cert_path, key_path, load};

const DAY: u64 = 24 * 60 * 60;
const CA_DAYS: u64 = 10 * 365;
const CERT_DAYS: u64 = 5 * 365;
/// Certificates start this long before they are made, for hosts whose clocks lag.
const BACKDATE: Duration = Duration::from_secs(60 * 60);

/// Why certificates could not be made or read. Each names the file and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error("{} is missing; make it with `{make}`", path.display())]
    Missing { path: PathBuf, make: String },
    #[error("cannot read {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("cannot write {}: {reason}; check the folder exists and is writable", path.display())]
    Write { path: PathBuf, reason: String },
    #[error(
        "{} already exists: a new CA would orphan every certificate the old one signed; remove it first, or choose another folder",
        path.display()
    )]
    CaExists { path: PathBuf },
    #[error(
        "a node certificate names the hosts it is dialled at: `ringshop-node certs node NAME HOST...` with at least one HOST (the IP or DNS name of its --advertise)"
    )]
    NoHosts,
    #[error(
        "{host}: names under {domain} are the nodes' own (each node certificate names its node); give the node's IPs and DNS names"
    )]
    ReservedHost { host: String, domain: &'static str },
    #[error("{what}: {reason}")]
    Make { what: String, reason: String },
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl From<FolderError> for CertsError {
    fn from(e: FolderError) -> CertsError {
        match e {
            FolderError::Missing { path, make } => CertsError::Missing { path, make },
            FolderError::Read { path, reason } => CertsError::Read { path, reason },
            FolderError::Tls(e) => CertsError::Tls(e),
        }
    }
}

/// Makes the cluster's CA in `dir` (created if missing): `ca.crt` and `ca.key`. Refuses to
/// replace an existing `ca.key`. The files written.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, CertsError> {
    let (cert_path, key_path) = (dir.join(CA_CERT), dir.join(CA_KEY));
    if key_path.exists() {
        return Err(CertsError::CaExists { path: key_path });
    }
    std::fs::create_dir_all(dir).map_err(|e| CertsError::Write {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let key = KeyPair::generate().map_err(make("the CA's key"))?;
    let mut params = ca_params();
    (params.not_before, params.not_after) = validity(CA_DAYS)?;
    let cert = params
        .self_signed(&key)
        .map_err(make("the CA certificate"))?;
    write(&key_path, &key.serialize_pem(), true)?;
    write(&cert_path, &cert.pem(), false)?;
    Ok(vec![cert_path, key_path])
}

/// Signs a node certificate for `name`, valid at `hosts` (IPs or DNS names) and naming the
/// node, with the CA in `dir`: `node.NAME.crt` and `node.NAME.key`. The files written.
pub fn node(dir: &Path, name: &NodeId, hosts: &[String]) -> Result<Vec<PathBuf>, CertsError> {
    if hosts.is_empty() {
        return Err(CertsError::NoHosts);
    }
    let domain = format!(".{}", node_name::DOMAIN);
    if let Some(host) = hosts.iter().find(|h| {
        let h = h.trim_end_matches('.').to_ascii_lowercase();
        h.ends_with(&domain) || h == node_name::DOMAIN
    }) {
        return Err(CertsError::ReservedHost {
            host: host.clone(),
            domain: node_name::DOMAIN,
        });
    }
    let names = hosts.iter().cloned().chain([node_name::dns_name(name)]);
    let mut params =
        CertificateParams::new(names.collect::<Vec<_>>()).map_err(|e| CertsError::Make {
            what: format!("hosts {}", hosts.join(" ")),
            reason: format!("{e}; give IP addresses or DNS names"),
        })?;
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    sign(dir, Role::Node, name, params)
}

/// Signs a client certificate (a main's) for `name` with the CA in `dir`: `client.NAME.crt`
/// and `client.NAME.key`. The files written.
pub fn client(dir: &Path, name: &NodeId) -> Result<Vec<PathBuf>, CertsError> {
    let mut params = CertificateParams::default();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    sign(dir, Role::Client, name, params)
}

fn sign(
    dir: &Path,
    role: Role,
    name: &NodeId,
    mut params: CertificateParams,
) -> Result<Vec<PathBuf>, CertsError> {
    let init = || format!("ringshop-node certs init {}", dir.display());
    let ca_key_path = dir.join(CA_KEY);
    let ca_key = read(&ca_key_path, init)?;
    let ca_key = String::from_utf8(ca_key)
        .map_err(|e| e.to_string())
        .and_then(|pem| KeyPair::from_pem(&pem).map_err(|e| e.to_string()))
        .map_err(|reason| CertsError::Read {
            path: ca_key_path.clone(),
            reason: format!("not a PEM private key ({reason})"),
        })?;
    // The issuer is the CA's subject and key; `ca_params` makes the subject `init` wrote.
    let issuer = Issuer::new(ca_params(), ca_key);
    params.distinguished_name = subject(&role.to_string(), name.as_str());
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    (params.not_before, params.not_after) = validity(CERT_DAYS)?;
    let what = format!("the {role} certificate for {name}");
    let key = KeyPair::generate().map_err(make(&what))?;
    let cert = params.signed_by(&key, &issuer).map_err(make(&what))?;
    let (cert_path, key_path) = (cert_path(dir, role, name), key_path(dir, role, name));
    // Check the pair against ca.crt before writing: a ca.key that is not ca.crt's is caught
    // here, not at the first handshake.
    let ca_path = dir.join(CA_CERT);
    let ca = read(&ca_path, init)?;
    let (key_pem, cert_pem) = (key.serialize_pem(), cert.pem());
    let (ca_name, cert_name, key_name) = (
        ca_path.display().to_string(),
        cert_path.display().to_string(),
        key_path.display().to_string(),
    );
    Tls::new(Pem {
        ca: (&ca_name, &ca),
        cert: (&cert_name, cert_pem.as_bytes()),
        key: (&key_name, key_pem.as_bytes()),
    })?;
    write(&key_path, &key_pem, true)?;
    write(&cert_path, &cert_pem, false)?;
    Ok(vec![cert_path, key_path])
}

/// The CA's parameters; its subject must stay the same from release to release, since
/// signing rebuilds the issuer from it.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject("ca", "ringshop CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn subject(unit: &str, common: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "ringshop");
    dn.push(DnType::OrganizationalUnitName, unit);
    dn.push(DnType::CommonName, common);
    dn
}

/// From an hour ago for `days` days.
fn validity(days: u64) -> Result<(time::OffsetDateTime, time::OffsetDateTime), CertsError> {
    let at = |t: SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok())
            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
    };
    let now = ringshop_shared::clock::wall();
    let from = now.checked_sub(BACKDATE).and_then(at);
    let until = now
        .checked_add(Duration::from_secs(days.saturating_mul(DAY)))
        .and_then(at);
    from.zip(until).ok_or_else(|| CertsError::Make {
        what: "validity".into(),
        reason: "this host's clock is out of range; set it".into(),
    })
}

fn make(what: &str) -> impl Fn(rcgen::Error) -> CertsError {
    let what = what.to_string();
    move |e| CertsError::Make {
        what: what.clone(),
        reason: e.to_string(),
    }
}

/// Writes `text` to `path`; a key readable by its owner only.
fn write(path: &Path, text: &str, secret: bool) -> Result<(), CertsError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let failed = |e: std::io::Error| CertsError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut file = options.open(path).map_err(failed)?;
    // `mode` applies only to a new file: a key written over an old one is made private too.
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(failed)?;
    }
    file.write_all(text.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)
}

#[cfg(test)]
#[path = "certs_tests.rs"]
mod tests;
