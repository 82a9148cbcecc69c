//! A node's configuration: everything `serve` needs, with defaults that make the no-flag run work.

use std::net::SocketAddr;
use std::time::Duration;

use ringshop_shared::NodeId;

/// Default listen address of the first node a user starts by hand.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7001";
/// How long an actor keeps its value, as in the reference demo.
pub const DEFAULT_TTL: Duration = Duration::from_secs(5);
/// Shortest TTL a node accepts.
pub const MIN_TTL: Duration = Duration::from_millis(1);

#[derive(Clone, Debug)]
pub struct Config {
    pub name: NodeId,
    /// Where to listen; port 0 picks a free port (tests, the embedded cluster).
    pub listen: SocketAddr,
    pub ttl: Duration,
}

impl Config {
    pub fn new(name: NodeId, listen: SocketAddr) -> Config {
        Config {
            name,
            listen,
            ttl: DEFAULT_TTL,
        }
    }

    pub fn with_ttl(mut self, ttl: Duration) -> Config {
        self.ttl = ttl;
        self
    }
}
