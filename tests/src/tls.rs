//! Mutual TLS for a `TestCluster`: the cluster's CA and certificates, made in its folder by
//! `ringshop_node::certs` (the code behind `ringshop-node certs`).

use ringshop_node::certs;
use ringshop_shared::NodeId;
use ringshop_shared::transport::{Role, Security};

use crate::TestCluster;

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

    /// Signs `name`'s node certificate for 127.0.0.1 unless it has one (`with_tls`).
    pub(crate) fn node_cert(&self, name: &NodeId) {
        let dir = self.certs_dir();
        if !certs::cert_path(dir, Role::Node, name).exists() {
            certs::node(dir, name, &["127.0.0.1".into()]).expect("signs the node certificate");
        }
    }
}

fn name_of(text: &str) -> NodeId {
    NodeId::new(text).expect("a valid name")
}
