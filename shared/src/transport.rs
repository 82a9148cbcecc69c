//! Connect and listen: on a [`Net`] (tokio's TCP with nodelay in production, [`net`]; a
//! simulator's in tests), optionally inside mutual TLS ([`tls`]), then
//! length-delimited frames of at most `MAX_FRAME` bytes, bincode bounded by the same limit
//! ([`codec`]: chosen there and nowhere else, so both sides always agree).
//!
//! A node never panics on what it reads and holds only bounded state per peer: its codec
//! clamps every request's deadline before tarpc sees it ([`codec::MAX_DEADLINE`]); each
//! accepted connection's bytes are watched ([`guard`]) under the listener's [`Limits`]
//! (connections open, bytes announced by unfinished frames, how long a frame may take, how
//! long a connection may idle). A frame over the limit, bytes that do not decode, or a bound
//! broken end that one connection; the listener and every other connection go on. A TLS
//! handshake runs in its own task, bounded in time (`HANDSHAKE_TIMEOUT`) and in number
//! (`MAX_HANDSHAKES`): a connection that fails it is closed and costs the listener nothing
//! else.

pub mod codec;
pub mod guard;
pub mod limits;
pub mod net;
pub mod stream;
pub mod tls;

pub use codec::{Codec, MAX_DEADLINE, MAX_FRAME, ServerCodec, frame, frame_server};
pub use guard::Guarded;
pub use limits::{Closed, Connections, Limits};
pub use net::{BoxConn, Conn, Dialer, Listener, Net, Tcp};
pub use stream::Stream;
pub use tls::{Role, Security, Tls, TlsError};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rustls_pki_types::ServerName;
use tarpc::serde_transport::Transport;
use tarpc::{ClientMessage, Response, client, context};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock;
use crate::hop::{Channel, Hop, ShardClient};
use crate::service::{ShardRequest, ShardResponse};

/// How long a client waits for a TCP connection before calling the address unreachable.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a client waits for any one answer.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(2);
/// Requests one connection may have in flight on a node; more are answered with an error.
pub const MAX_IN_FLIGHT_PER_CONNECTION: usize = 1024;
/// How long a node gives an accepted connection to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = DEFAULT_CONNECT_TIMEOUT;
/// TLS handshakes a listener runs at once; a connection beyond them is closed at once.
pub const MAX_HANDSHAKES: usize = 64;

/// A client's framed, encoded connection carrying `Item`s in and `SinkItem`s out, on the
/// network's connection `C` (TCP unless a simulator's).
pub type Framed<Item, SinkItem, C = TcpStream> =
    Transport<Stream<C>, Item, SinkItem, Codec<Item, SinkItem>>;

/// The client's end of a tarpc connection for requests `Req` and responses `Resp`.
pub type ClientTransport<Req, Resp, C = TcpStream> = Framed<Response<Resp>, ClientMessage<Req>, C>;

/// The server's end of a tarpc connection for requests `Req` and responses `Resp`: the
/// node's codec over the guarded stream.
pub type ServerTransport<Req, Resp, C = TcpStream> =
    Transport<Guarded<Stream<C>>, ClientMessage<Req>, Response<Resp>, ServerCodec<Req, Resp>>;

/// Why a connection could not be made. Names the address and what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot reach {addr}: nothing answered within {} ms; is a node running there?", timeout.as_millis())]
    Timeout { addr: SocketAddr, timeout: Duration },
    #[error("cannot reach {addr}: {reason}; start one with `ringshop-node --listen {addr}`")]
    Io { addr: SocketAddr, reason: String },
    #[error(
        "{addr} refused the TLS handshake: {reason}; both sides need certificates from the same CA (--certs DIR), and the node's must name {addr} (`ringshop-node certs node NAME HOST...`)"
    )]
    Tls { addr: SocketAddr, reason: String },
}

/// Opens a framed connection to `addr` as `security` says, giving up after `timeout` (the TCP
/// connection and the TLS handshake together).
pub async fn connect<Req, Resp>(
    addr: SocketAddr,
    timeout: Duration,
    security: &Security,
) -> Result<ClientTransport<Req, Resp>, ConnectError>
where
    Req: serde::Serialize,
    Resp: for<'de> serde::Deserialize<'de>,
{
    open(Tcp.connect(addr), addr, timeout, security).await
}

/// [`connect`] on whatever network `dialer` dials.
pub async fn connect_with<Req, Resp>(
    dialer: &Dialer,
    addr: SocketAddr,
    timeout: Duration,
    security: &Security,
) -> Result<ClientTransport<Req, Resp, BoxConn>, ConnectError>
where
    Req: serde::Serialize,
    Resp: for<'de> serde::Deserialize<'de>,
{
    open(dialer.dial(addr), addr, timeout, security).await
}

/// The connection `dialled` opens to `addr`, inside TLS if `security` says so, framed; all of
/// it within `timeout`.
async fn open<C: Conn, Req, Resp>(
    dialled: impl Future<Output = std::io::Result<C>>,
    addr: SocketAddr,
    timeout: Duration,
    security: &Security,
) -> Result<ClientTransport<Req, Resp, C>, ConnectError>
where
    Req: serde::Serialize,
    Resp: for<'de> serde::Deserialize<'de>,
{
    let open =
        async {
            let tcp = dialled.await.map_err(|e| ConnectError::Io {
                addr,
                reason: e.to_string(),
            })?;
            match security {
                Security::Plain => Ok(Stream::Plain(tcp)),
                Security::Tls(tls) => {
                    let name = ServerName::IpAddress(addr.ip().into());
                    let tls_stream = tls.connector().connect(name, tcp).await.map_err(|e| {
                        ConnectError::Tls {
                            addr,
                            reason: e.to_string(),
                        }
                    })?;
                    Ok(Stream::Tls(Box::new(tls_stream.into())))
                }
            }
        };
    match tokio::time::timeout(timeout, open).await {
        Err(_) => Err(ConnectError::Timeout { addr, timeout }),
        Ok(opened) => opened.map(frame),
    }
}

/// A `Shard` client on a fresh connection to `addr`. tarpc never reconnects: when this
/// connection breaks, every call on it answers `Shutdown` and the caller must connect anew.
pub async fn connect_shard(
    addr: SocketAddr,
    timeout: Duration,
    security: &Security,
) -> Result<ShardClient, ConnectError> {
    let transport = connect::<ShardRequest, ShardResponse>(addr, timeout, security).await?;
    Ok(Hop::direct(channel(transport)))
}

/// A tarpc client channel on `transport` (its dispatch task spawned): the connection a `Hop`
/// calls through.
pub fn channel<C: Conn>(transport: ClientTransport<ShardRequest, ShardResponse, C>) -> Channel {
    client::new(client::Config::default(), transport).spawn()
}

/// A call context whose deadline is `deadline` from now (tarpc's default is 10 s).
pub fn context(deadline: Duration) -> context::Context {
    let mut ctx = context::current();
    ctx.deadline = clock::deadline_after(deadline);
    ctx
}

/// Who is on the other end of an accepted connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub addr: SocketAddr,
    /// The role its certificate gives it; None on a plaintext connection.
    pub role: Option<Role>,
    /// The node its certificate names, if it is a node's (for the log; the role decides).
    pub node: Option<crate::NodeId>,
}

/// Accepts connections until `shutdown`, handing each one, framed and guarded by `limits`, to
/// `on_connection`. With TLS, each handshake runs on `tracker` in its own task, at most
/// `MAX_HANDSHAKES` at once and each for at most `HANDSHAKE_TIMEOUT`; a connection that fails
/// it, or finds no room, is closed and never reaches `on_connection`. Accept errors are
/// logged and retried after a short pause; when they say the process is out of file
/// descriptors, the least recently active connection is closed to make room.
pub async fn accept_loop<L, Req, Resp, F>(
    listener: L,
    security: Security,
    limits: Limits,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    on_connection: F,
) where
    L: Listener,
    F: Fn(ServerTransport<Req, Resp, L::Conn>, Peer) + Clone + Send + 'static,
    Req: for<'de> serde::Deserialize<'de> + Send + 'static,
    Resp: serde::Serialize + Send + 'static,
{
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    let connections = Connections::new(limits);
    loop {
        let (tcp, addr) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    let out_of_files = out_of_files(&e) && connections.evict_one();
                    tracing::warn!(error = %e, out_of_files, "accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let tls = match &security {
            Security::Plain => {
                let stream = Guarded::new(Stream::Plain(tcp), connections.open(addr));
                on_connection(
                    frame_server(stream),
                    Peer {
                        addr,
                        role: None,
                        node: None,
                    },
                );
                continue;
            }
            Security::Tls(tls) => tls.clone(),
        };
        let Ok(permit) = handshakes.clone().try_acquire_owned() else {
            tracing::warn!(peer = %addr, "{MAX_HANDSHAKES} TLS handshakes already running; closed the connection");
            continue;
        };
        let (on_connection, shutdown) = (on_connection.clone(), shutdown.clone());
        let connections = connections.clone();
        tracker.spawn(async move {
            let _permit = permit;
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.acceptor().accept(tcp));
            let stream = tokio::select! {
                _ = shutdown.cancelled() => return,
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::info!(peer = %addr, error = %e, "TLS handshake failed; closed the connection");
                        return;
                    }
                    Err(_) => {
                        tracing::info!(peer = %addr, timeout_ms = HANDSHAKE_TIMEOUT.as_millis() as u64, "TLS handshake timed out; closed the connection");
                        return;
                    }
                },
            };
            let leaf = stream.get_ref().1.peer_certificates().and_then(|chain| chain.first());
            let Some((leaf, role)) = leaf.and_then(|leaf| Some((leaf, tls.role_of(leaf)?))) else {
                tracing::info!(peer = %addr, "peer certificate gives no role; closed the connection");
                return;
            };
            let node = match role {
                Role::Node => tls::node_names(leaf).into_iter().next(),
                Role::Client => None,
            };
            let stream = Guarded::new(Stream::Tls(Box::new(stream.into())), connections.open(addr));
            on_connection(frame_server(stream), Peer { addr, role: Some(role), node });
        });
    }
}

/// Whether an accept error says the process (EMFILE) or the system (ENFILE) is out of file
/// descriptors (the same numbers on Linux and the BSDs).
fn out_of_files(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24))
}

/// Runs a channel's requests, each on its own task (tarpc would otherwise run one connection's
/// requests one after another), until the peer goes away or `shutdown`.
pub async fn run_requests<St, Fut>(requests: St, shutdown: CancellationToken, tracker: TaskTracker)
where
    St: futures::Stream<Item = Fut>,
    Fut: Future<Output = ()> + Send + 'static,
{
    let work = requests.for_each(|request| {
        tracker.spawn(request);
        futures::future::ready(())
    });
    tokio::select! {
        _ = shutdown.cancelled() => {}
        _ = work => {}
    }
}
