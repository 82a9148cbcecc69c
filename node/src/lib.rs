//! A ringshop worker node as a library: `serve(config)` binds, joins the membership in the
//! shared store, starts serving the `Shard` service and returns a `NodeHandle`. The binary, the
//! TUI's embedded cluster and the tests all start nodes this way.
//!
//! Tour, top down (each layer imports only its own or the ones below it; `tests/tests/layers.rs`
//! checks that, and that no file imports one that imports it back):
//! - [`server`] answers each RPC (`server/shard.rs`; who is calling and what every call does
//!   first in `state.rs`, the shared bounds in `checks.rs`, how tarpc serves it in
//!   `dispatch.rs`); [`handoff`] lets go of lost ids after every membership change, hands their
//!   entries to their new owners and acknowledges the epoch; [`config`] is the command line.
//! - [`shop`] holds the checkout jobs (compare-and-set on each order's version), the reaper of
//!   stray holds and the restock.
//! - [`actors`] is the one actor runtime (spawn, TTL, race-free retirement, surrender and
//!   adoption, counters, and the ownership check inside every turn, asked of [`membership`]
//!   through `Members::check`: owner, lease, and the hold while an id is handed over); what a
//!   kind is lives in `actors/kind.rs`, the demo's values ([`actors::value`]) and the shop's
//!   products ([`actors::product`]) are its two kinds. Beside it: [`holding`] (the one loop
//!   that waits out a handover), [`admission`] (requests in flight) and `route.rs` (this
//!   node's directory for the one routing loop: its view, its peers, its detector).
//! - [`stock`] is the feed of stock changes watchers long-poll.
//! - [`membership`]: the view, leases, the ownership handshake; [`membership::detector`]
//!   probes peers and votes.
//! - [`store`] is the shared database behind one trait in four parts (roster, catalog,
//!   orders, books) with three backends (SQLite, PostgreSQL, memory); `peers.rs` holds the
//!   connections to other nodes; `ticks.rs` and [`certs`] are leaves.
//!
//! Three seams, for tests and the simulator: time is read only through
//! `ringshop_shared::clock` (tokio's clock, so tests pause it; `tests/tests/clock.rs` fails on
//! any other read), connections are listened for and made through
//! `ringshop_shared::transport::net` (TCP in production), and state lives behind [`store`]
//! (the memory backend is the tests' and the simulator's).
//!
//! The log and the tracing both binaries install (one trace per action, the ring of kept spans
//! the `spans` RPC answers from, OTLP export) are the `ringshop-telemetry` crate
//! (`shared/telemetry/`): the node notes each request's sampling in its transport, marks the
//! spans it serves ([`server`]) and carries an order's trace into its checkout job ([`shop`]).
//! Shutdown is one `CancellationToken`; every task a node starts is on its `TaskTracker`, so
//! `shutdown()` returns only when all of them have ended.

pub mod actors;
pub mod admission;
pub mod certs;
pub mod config;
pub mod handoff;
pub mod holding;
pub mod membership;
mod peers;
pub mod planted;
mod route;
pub mod server;
pub mod shop;
pub mod stock;
pub mod store;
mod ticks;

use std::net::SocketAddr;
use std::sync::Arc;

use futures::StreamExt;
use ringshop_shared::NodeId;
use ringshop_shared::clock;
use ringshop_shared::transport::{
    self, DEFAULT_CONNECT_TIMEOUT, Dialer, Listener, MAX_IN_FLIGHT_PER_CONNECTION, Net, Role,
    Security, Tcp,
};
use ringshop_shared::wire::MemberStatus;
use tarpc::server::{BaseChannel, Channel};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use actors::value::Registry;
pub use actors::{Actor, Actors, Claims};
pub use config::Config;
pub use membership::{Members, Timing};
pub use server::ShardServer;
pub use store::{Db, MemoryStore, PgStore, SqliteStore, Store, StoreError};

use crate::actors::product::{Products, Shelf};
use crate::handoff::Owned;
use crate::membership::detector::Detector;
use crate::peers::Peers;
use crate::shop::checkout::Checkout;
use crate::stock::StockFeed;

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
    #[error("node {name}: {source}")]
    Exposure {
        name: NodeId,
        source: config::ExposureError,
    },
    #[error(
        "node {name}: --certs holds a {role} certificate; a node needs its own, made by `ringshop-node certs node {name} HOST...`"
    )]
    NotANodeCertificate { name: NodeId, role: Role },
    #[error(
        "node {name}: its certificate is node {holder}'s, so it cannot join as {name}; make {name} its own with `ringshop-node certs node {name} HOST... --certs DIR`"
    )]
    AnotherNodesCertificate { name: NodeId, holder: NodeId },
    #[error(
        "node {name}: its certificate names no node (it was made before node certificates named their node), so it cannot join as {name}; make it again with `ringshop-node certs node {name} HOST... --certs DIR` (the CA stays)"
    )]
    CertificateNamesNoNode { name: NodeId },
    #[error(
        "node {name}: its certificate does not name {ip}, the address it advertises, so peers and clients would refuse it; make it again with `ringshop-node certs node {name} {ip} --certs DIR`"
    )]
    CertificateDoesNotName { name: NodeId, ip: std::net::IpAddr },
    #[error("node {name}: ttl {ttl_ms} ms is too short; use at least 1 ms")]
    Ttl { name: NodeId, ttl_ms: u128 },
    #[error("node {name}: {source}")]
    Store { name: NodeId, source: StoreError },
    #[error("node {name}: {source}")]
    Catalog {
        name: NodeId,
        source: shop::catalog::CatalogError,
    },
}

/// How long a graceful leave waits for this node's view to settle before handing over.
const SETTLE_BEFORE_LEAVING: std::time::Duration = std::time::Duration::from_secs(1);

/// A running node. Dropping it stops the node too (without leaving gracefully); `shutdown`
/// leaves gracefully and waits.
pub struct NodeHandle {
    name: NodeId,
    addr: SocketAddr,
    advertised: SocketAddr,
    owned: Owned,
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

    /// The address others dial, as the members table lists it (`Config::advertise`, else
    /// the address it listens on).
    pub fn advertised(&self) -> SocketAddr {
        self.advertised
    }

    /// This node's incarnation now (it grows when the node rejoins after being declared dead).
    pub fn incarnation(&self) -> u64 {
        self.owned.members.incarnation()
    }

    /// Leaves gracefully: marks itself leaving (out of the ring), hands its live entries to
    /// their new owners and acknowledges that, marks itself left, then stops everything and
    /// waits for it.
    pub async fn shutdown(self) {
        let members = &self.owned.members;
        if !members.is_rejoining() {
            // Hand over from a settled view: in one still settling, an id that had another
            // owner in between is dropped instead of handed over (see `View::heir`).
            let settling_until = clock::now() + SETTLE_BEFORE_LEAVING;
            while !members.with_view(membership::View::is_settled) && clock::now() < settling_until
            {
                let _ = members.refresh().await;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            let before = members.view().epoch();
            match members.set_status(MemberStatus::Leaving).await {
                Ok(_) => match self.owned.let_go(before).await {
                    Ok((_, adopted)) => {
                        tracing::info!(node = %self.name, adopted, "handed over before leaving")
                    }
                    Err(e) => {
                        tracing::warn!(node = %self.name, error = %e, "could not acknowledge leaving")
                    }
                },
                Err(e) => tracing::warn!(node = %self.name, error = %e, "could not mark leaving"),
            }
            if let Err(e) = members.set_status(MemberStatus::Left).await {
                tracing::warn!(node = %self.name, error = %e, "could not mark left");
            }
        }
        self.kill().await;
    }

    /// Stops at once without telling the cluster (as a crash would, but closing sockets):
    /// the others find out by its silence.
    pub async fn kill(&self) {
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

/// Opens `config.db` (SQLite or PostgreSQL) and serves on it.
pub async fn serve(config: Config) -> Result<NodeHandle, NodeError> {
    let store = store::open(&config.db)
        .await
        .map_err(|source| NodeError::Store {
            name: config.name.clone(),
            source,
        })?;
    serve_with_store(config, store).await
}

/// Binds `config.listen`, joins through `store`, and serves until shut down or dropped.
pub async fn serve_with_store(
    config: Config,
    store: Arc<dyn Store>,
) -> Result<NodeHandle, NodeError> {
    serve_on(config, store, Tcp).await
}

/// [`serve_with_store`] on the network `net`: it listens there and dials its peers there
/// (tokio's TCP in production, a simulator's in tests).
pub async fn serve_on<N: Net + Clone>(
    config: Config,
    store: Arc<dyn Store>,
    net: N,
) -> Result<NodeHandle, NodeError> {
    let name = config.name.clone();
    if config.ttl < config::MIN_TTL {
        return Err(NodeError::Ttl {
            name,
            ttl_ms: config.ttl.as_millis(),
        });
    }
    config
        .check_exposure()
        .map_err(|source| NodeError::Exposure {
            name: name.clone(),
            source,
        })?;
    if let Security::Tls(tls) = &config.security
        && tls.role() != Role::Node
    {
        return Err(NodeError::NotANodeCertificate {
            name,
            role: tls.role(),
        });
    }
    if let Security::Tls(tls) = &config.security
        && !tls.is_node(&name)
    {
        return Err(match tls.node_names().into_iter().next() {
            Some(holder) => NodeError::AnotherNodesCertificate { name, holder },
            None => NodeError::CertificateNamesNoNode { name },
        });
    }
    if config.insecure && !config.listen.ip().is_loopback() && !config.security.is_tls() {
        tracing::warn!(node = %name, listen = %config.listen, "serving WITHOUT TLS on a non-loopback address (--insecure): anyone who reaches this port may call every RPC, node-to-node ones too");
    }
    let bind_error = |source| NodeError::Bind {
        name: config.name.clone(),
        addr: config.listen,
        source,
    };
    let listener = net.listen(config.listen).await.map_err(bind_error)?;
    let addr = Listener::local_addr(&listener).map_err(bind_error)?;
    let advertised = config.advertised(addr);
    if let Security::Tls(tls) = &config.security
        && !tls.names(advertised.ip())
    {
        return Err(NodeError::CertificateDoesNotName {
            name,
            ip: advertised.ip(),
        });
    }
    let store_error = |source| NodeError::Store {
        name: name.clone(),
        source,
    };
    let catalog =
        shop::catalog::load(config.catalog.as_deref()).map_err(|source| NodeError::Catalog {
            name: name.clone(),
            source,
        })?;
    store.seed(&catalog).await.map_err(store_error)?;
    let members = Members::join(
        store,
        name.clone(),
        advertised,
        config.timing.clone(),
        config.vnodes,
    )
    .await
    .map_err(store_error)?;
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    let claims: Arc<dyn Claims> = Arc::new(members.clone());
    let (ttl, stop, tasks) = (config.ttl, shutdown.clone(), tracker.clone());
    let registry = Registry::new(name.clone(), ttl, (), claims.clone(), stop, tasks);
    let (stop, tasks, store) = (shutdown.clone(), tracker.clone(), members.store().clone());
    let shelf = Shelf {
        store,
        feed: StockFeed::new(name.clone()),
    };
    let products = Products::new(name.clone(), ttl, shelf, claims, stop, tasks);
    let peers = Arc::new(Peers::new(
        Dialer::on(net),
        DEFAULT_CONNECT_TIMEOUT,
        config.security.clone(),
    ));
    let detector = Detector::new(members.clone(), peers.clone());
    let checkout = Checkout::new(
        members.clone(),
        peers.clone(),
        detector.clone(),
        products.clone(),
        config.payment.clone(),
        tracker.clone(),
        shutdown.clone(),
    );
    let server = ShardServer::new(
        advertised,
        config.ttl,
        registry.clone(),
        members.clone(),
        detector.clone(),
        products.clone(),
        checkout.clone(),
    )
    .with_admission(config.admission);
    let owned = Owned {
        members: members.clone(),
        registry,
        products: products.clone(),
        checkout: checkout.clone(),
        peers,
        letting_go: Arc::default(),
    };
    tracker.spawn(checkout.run());
    tracker.spawn(shop::restock::run(
        products,
        members.clone(),
        shop::restock::EVERY,
        shutdown.clone(),
    ));
    tracker.spawn(members.clone().heartbeats(shutdown.clone()));
    tracker.spawn(members.clone().watch_pauses(shutdown.clone()));
    tracker.spawn(members.clone().poll(shutdown.clone()));
    tracker.spawn(detector.run(shutdown.clone()));
    tracker.spawn(owned.clone().run(shutdown.clone()));
    let (stop, tasks) = (shutdown.clone(), tracker.clone());
    tracker.spawn(transport::accept_loop(
        listener,
        config.security.clone(),
        config.limits,
        shutdown.clone(),
        tracker.clone(),
        move |framed, peer: transport::Peer| {
            tracing::debug!(peer = %peer.addr, role = ?peer.role, node = ?peer.node, "connection opened");
            // Each connection gets its own server value, which knows the caller's role.
            let server = server.for_caller(peer.role);
            let (node, conn) = (server.admission(), admission::Connection::default());
            let requests = BaseChannel::with_defaults(ringshop_telemetry::NoteSampling(framed))
                .max_concurrent_requests(MAX_IN_FLIGHT_PER_CONNECTION)
                .requests()
                .take_while(|read| {
                    if let Err(e) = read {
                        tracing::debug!(error = %e, "connection ended");
                    }
                    futures::future::ready(read.is_ok())
                })
                .filter_map(|read| futures::future::ready(read.ok()))
                .filter_map(move |request| {
                    // Admitted (or refused) as it is read, before it waits for a turn.
                    let rpc = ringshop_shared::service::Rpc::of(&request.get().message);
                    let admitted = node.admit(rpc, &conn);
                    let server = server.clone();
                    let work = match admitted {
                        // Refused: answered here, on the connection's own turn, without a
                        // task of its own (unless the answer has to wait for room to be sent).
                        admission::Admit::Busy => {
                            admission::answer_now(request.execute(server.refusing(rpc)))
                                .map(futures::future::Either::Left)
                        }
                        admitted => Some(futures::future::Either::Right(async move {
                            request.execute(server.dispatch()).await;
                            drop(admitted);
                        })),
                    };
                    futures::future::ready(work)
                });
            tasks.spawn(transport::run_requests(
                requests,
                stop.clone(),
                tasks.clone(),
            ));
        },
    ));
    tracing::info!(node = %name, %addr, %advertised, tls = config.security.is_tls(), ttl_ms = config.ttl.as_millis() as u64, "serving");
    Ok(NodeHandle {
        name,
        addr,
        advertised,
        owned,
        shutdown,
        tracker,
    })
}
