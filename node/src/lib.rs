//! A ringshop worker node as a library: `serve(config)` binds, starts serving the `Shard`
//! service and returns a `NodeHandle`. The binary, the TUI's embedded cluster and the tests all
//! start nodes this way.
//!
//! Tour: [`server`] answers each RPC by handing it to the id's actor in [`actors`]; [`actor`]
//! is one id's serial mailbox loop. Shutdown is one `CancellationToken`; every task a node
//! starts is on its `TaskTracker`, so `shutdown()` returns only when all of them have ended.

mod actor;
pub mod actors;
pub mod config;
pub mod server;
pub mod store;

use std::net::SocketAddr;

use ringshop_shared::transport::{self, MAX_IN_FLIGHT_PER_CONNECTION};
use ringshop_shared::{NodeId, Shard};
use tarpc::server::{BaseChannel, Channel};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use actors::Registry;
pub use config::Config;
pub use server::ShardServer;

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(
        "node {name} cannot listen on {addr}: {source}; is another node on that port? choose another with --listen"
    )]
    Bind {
        name: NodeId,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("node {name}: ttl {ttl_ms} ms is too short; use at least 1 ms")]
    Ttl { name: NodeId, ttl_ms: u128 },
}

/// A running node. Dropping it stops the node too (without waiting); `shutdown` waits.
pub struct NodeHandle {
    name: NodeId,
    addr: SocketAddr,
    registry: Registry,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl NodeHandle {
    pub fn name(&self) -> &NodeId {
        &self.name
    }

    /// The address it listens on (the real port when the config said port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// This node's actors and counters, read in-process.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Stops accepting, closes every connection, retires every actor, and waits for all of it.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        tracing::info!(node = %self.name, "stopped");
    }
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Binds `config.listen` and serves until the handle is shut down or dropped.
pub async fn serve(config: Config) -> Result<NodeHandle, NodeError> {
    let name = config.name.clone();
    if config.ttl < config::MIN_TTL {
        return Err(NodeError::Ttl {
            name,
            ttl_ms: config.ttl.as_millis(),
        });
    }
    let bind_error = |source| NodeError::Bind {
        name: config.name.clone(),
        addr: config.listen,
        source,
    };
    let listener = TcpListener::bind(config.listen).await.map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    let registry = Registry::new(name.clone(), config.ttl, shutdown.clone(), tracker.clone());
    let server = ShardServer::new(name.clone(), addr, config.ttl, registry.clone());

    let (stop, tasks) = (shutdown.clone(), tracker.clone());
    tracker.spawn(transport::accept_loop(
        listener,
        shutdown.clone(),
        move |framed, peer| {
            tracing::debug!(%peer, "connection opened");
            let requests = BaseChannel::with_defaults(framed)
                .max_concurrent_requests(MAX_IN_FLIGHT_PER_CONNECTION)
                .execute(server.clone().serve());
            tasks.spawn(transport::run_requests(
                requests,
                stop.clone(),
                tasks.clone(),
            ));
        },
    ));
    tracing::info!(node = %name, %addr, ttl_ms = config.ttl.as_millis() as u64, "serving");
    Ok(NodeHandle {
        name,
        addr,
        registry,
        shutdown,
        tracker,
    })
}
