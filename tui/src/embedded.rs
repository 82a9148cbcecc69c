//! The embedded cluster: real nodes started in this process on 127.0.0.1, port 0, so the
//! no-flag run works on any machine. They speak tarpc over loopback TCP exactly as separate
//! node processes do; only the process boundary is missing.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use ringshop_node::{Config, NodeError, NodeHandle, serve};
use ringshop_shared::NodeId;

/// Nodes the embedded cluster starts by default.
pub const DEFAULT_SIZE: usize = 3;

pub struct Embedded {
    nodes: Vec<NodeHandle>,
}

impl Embedded {
    /// Starts `size` nodes named n1, n2, ... with the given TTL.
    pub async fn start(size: usize, ttl: Duration) -> Result<Embedded, NodeError> {
        let mut nodes = Vec::with_capacity(size);
        for i in 1..=size {
            let name = NodeId::new(format!("n{i}"))
                .unwrap_or_else(|_| unreachable!("n<digits> is a valid name"));
            let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            nodes.push(serve(Config::new(name, listen).with_ttl(ttl)).await?);
        }
        Ok(Embedded { nodes })
    }

    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(NodeHandle::addr).collect()
    }

    pub fn nodes(&self) -> &[NodeHandle] {
        &self.nodes
    }

    /// Stops one node and waits until it is gone; its address, or None if no such node runs.
    pub async fn stop(&mut self, name: &NodeId) -> Option<SocketAddr> {
        let index = self.nodes.iter().position(|n| n.name() == name)?;
        let node = self.nodes.remove(index);
        let addr = node.addr();
        node.shutdown().await;
        Some(addr)
    }

    pub async fn shutdown(self) {
        futures::future::join_all(self.nodes.into_iter().map(NodeHandle::shutdown)).await;
    }
}
