//! The certificate folder, as `ringshop-node certs` writes it and both binaries read it:
//! `ca.crt`, `ca.key`, `ROLE.NAME.crt`, `ROLE.NAME.key`. Reading an identity from it
//! ([`load`]) lives here, beside the TLS it feeds, so a main reads its own certificate without
//! the node's code; making certificates stays in the node (its `certs` module). The one place
//! the transport reads files.

use std::path::{Path, PathBuf};

use super::{Pem, Role, Tls, TlsError};
use crate::NodeId;

pub const CA_CERT: &str = "ca.crt";
pub const CA_KEY: &str = "ca.key";

/// Why an identity could not be read from the folder. Each names the file and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{} is missing; make it with `{make}`", path.display())]
    Missing { path: PathBuf, make: String },
    #[error("cannot read {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// `DIR/ROLE.NAME.crt`.
pub fn cert_path(dir: &Path, role: Role, name: &NodeId) -> PathBuf {
    dir.join(format!("{role}.{name}.crt"))
}

/// `DIR/ROLE.NAME.key`.
pub fn key_path(dir: &Path, role: Role, name: &NodeId) -> PathBuf {
    dir.join(format!("{role}.{name}.key"))
}

/// The command that makes the certificate `load` looks for.
fn make_command(dir: &Path, role: Role, name: &NodeId) -> String {
    match role {
        Role::Node => format!(
            "ringshop-node certs node {name} HOST... --certs {}",
            dir.display()
        ),
        Role::Client => format!(
            "ringshop-node certs client {name} --certs {}",
            dir.display()
        ),
    }
}

/// The TLS identity `name` of `role` from `dir`: `ca.crt`, and its certificate and key.
pub fn load(dir: &Path, role: Role, name: &NodeId) -> Result<Tls, FolderError> {
    let ca_path = dir.join(CA_CERT);
    let ca = read(&ca_path, || {
        format!("ringshop-node certs init {}", dir.display())
    })?;
    let (cert_path, key_path) = (cert_path(dir, role, name), key_path(dir, role, name));
    let cert = read(&cert_path, || make_command(dir, role, name))?;
    let key = read(&key_path, || make_command(dir, role, name))?;
    let (ca_name, cert_name, key_name) = (
        ca_path.display().to_string(),
        cert_path.display().to_string(),
        key_path.display().to_string(),
    );
    let tls = Tls::new(Pem {
        ca: (&ca_name, &ca),
        cert: (&cert_name, &cert),
        key: (&key_name, &key),
    })?;
    Ok(tls)
}

/// The bytes of the folder's file `path`; a missing one names the command (`make`) that
/// makes it.
pub fn read(path: &Path, make: impl FnOnce() -> String) -> Result<Vec<u8>, FolderError> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FolderError::Missing {
            path: path.to_path_buf(),
            make: make(),
        },
        _ => FolderError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
    })
}
