//! The embedded cluster: real nodes started in this process on 127.0.0.1, port 0, so the
//! no-flag run works on any machine. They speak tarpc over loopback TCP and share a database
//! exactly as separate node processes do; only the process boundary is missing. The database
//! is a fresh file in a temporary folder, removed when the cluster is dropped.
//!
//! The one file of the main that uses the node crate: what the main needs of it (starting
//! nodes, the error that start fails with, the node's TTL bounds) comes through here.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ringshop_node::{Config, NodeHandle, serve};
use ringshop_shared::NodeId;
use tempfile::TempDir;

/// Why the embedded cluster could not start (a node's own error).
pub use ringshop_node::NodeError;

/// How long the embedded nodes keep values when a verb does not say (the node's default).
pub const DEFAULT_TTL: Duration = ringshop_node::config::DEFAULT_TTL;
/// The shortest TTL a node accepts (values kept for no time are never hits).
pub const MIN_TTL: Duration = ringshop_node::config::MIN_TTL;

/// Nodes the embedded cluster starts by default.
pub const DEFAULT_SIZE: usize = 3;

pub struct Embedded {
    nodes: Vec<NodeHandle>,
    /// Where each node listened last: a node started again listens there, so a client that
    /// lost every node finds it again at an address it knows.
    last_addr: std::collections::BTreeMap<NodeId, SocketAddr>,
    ttl: Duration,
    db: PathBuf,
    _dir: TempDir,
}

impl Embedded {
    /// Starts `size` nodes named n1, n2, ... with the given TTL.
    pub async fn start(size: usize, ttl: Duration) -> Result<Embedded, NodeError> {
        let dir = tempfile::Builder::new()
            .prefix("ringshop-embedded-")
            .tempdir()
            .map_err(|e| NodeError::Store {
                name: node_name(1),
                source: ringshop_node::StoreError::Open {
                    path: std::env::temp_dir(),
                    reason: e.to_string(),
                },
            })?;
        let mut embedded = Embedded {
            nodes: Vec::with_capacity(size),
            last_addr: Default::default(),
            ttl,
            db: dir.path().join("cluster.db"),
            _dir: dir,
        };
        for i in 1..=size {
            embedded.start_node(node_name(i)).await?;
        }
        Ok(embedded)
    }

    /// Starts (or starts again) the node `name`: on the port it had before if that is free,
    /// else on a free port.
    pub async fn start_node(&mut self, name: NodeId) -> Result<SocketAddr, NodeError> {
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let before = self.last_addr.get(&name).copied();
        let node = match before {
            Some(addr) => match serve(self.config(name.clone(), addr)).await {
                Err(NodeError::Bind { .. }) => serve(self.config(name.clone(), any)).await?,
                started => started?,
            },
            None => serve(self.config(name.clone(), any)).await?,
        };
        let addr = node.addr();
        self.last_addr.insert(name, addr);
        self.nodes.push(node);
        Ok(addr)
    }

    fn config(&self, name: NodeId, listen: SocketAddr) -> Config {
        Config::new(name, listen)
            .with_ttl(self.ttl)
            .with_db(&self.db)
    }

    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(NodeHandle::addr).collect()
    }

    /// Stops one node gracefully (it leaves and hands its entries over) and waits until it
    /// is gone; its address, or None if no such node runs.
    pub async fn stop(&mut self, name: &NodeId) -> Option<SocketAddr> {
        let index = self.nodes.iter().position(|n| n.name() == name)?;
        let node = self.nodes.remove(index);
        let addr = node.addr();
        node.shutdown().await;
        Some(addr)
    }

    /// Stops one node abruptly, as a crash would: the others find out by its silence.
    pub async fn kill(&mut self, name: &NodeId) -> Option<SocketAddr> {
        let index = self.nodes.iter().position(|n| n.name() == name)?;
        let node = self.nodes.remove(index);
        node.kill().await;
        Some(node.addr())
    }

    pub async fn shutdown(self) {
        futures::future::join_all(self.nodes.into_iter().map(NodeHandle::shutdown)).await;
    }
}

fn node_name(i: usize) -> NodeId {
    NodeId::new(format!("n{i}")).unwrap_or_else(|_| unreachable!("n<digits> is a valid name"))
}
