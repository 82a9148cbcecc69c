//! Connect and listen: TCP with nodelay, length-delimited frames of at most `MAX_FRAME` bytes,
//! bincode bounded by the same limit. The codec is chosen here and nowhere else, so both sides
//! always agree on it.
//!
//! A frame over the limit, or bytes that do not decode, end that one connection; the listener
//! and every other connection go on.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bincode::Options;
use futures::{Stream, StreamExt};
use tarpc::serde_transport::{self, Transport};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::{ClientMessage, Response, client, context};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::LengthDelimitedCodec;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::service::{ShardClient, ShardRequest, ShardResponse};

/// Largest frame either side sends or accepts: 1 MiB.
pub const MAX_FRAME: usize = 1 << 20;
/// How long a client waits for a TCP connection before calling the address unreachable.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a client waits for any one answer.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(2);
/// Requests one connection may have in flight on a node; more are answered with an error.
pub const MAX_IN_FLIGHT_PER_CONNECTION: usize = 1024;

type Options_ = bincode::config::WithOtherLimit<bincode::DefaultOptions, bincode::config::Bounded>;

/// The codec: bincode, its decoder bounded by the frame limit.
pub type Codec<Item, SinkItem> = Bincode<Item, SinkItem, Options_>;

/// A framed, encoded TCP connection carrying `Item`s in and `SinkItem`s out.
pub type Framed<Item, SinkItem> = Transport<TcpStream, Item, SinkItem, Codec<Item, SinkItem>>;

/// The client's end of a tarpc connection for requests `Req` and responses `Resp`.
pub type ClientTransport<Req, Resp> = Framed<Response<Resp>, ClientMessage<Req>>;

/// The server's end of a tarpc connection for requests `Req` and responses `Resp`.
pub type ServerTransport<Req, Resp> = Framed<ClientMessage<Req>, Response<Resp>>;

/// Wraps a TCP stream in our frames and codec.
pub fn frame<Item, SinkItem>(stream: TcpStream) -> Framed<Item, SinkItem>
where
    Item: for<'de> serde::Deserialize<'de>,
    SinkItem: serde::Serialize,
{
    // nodelay only fails on a socket that is already gone; the next read reports that.
    let _ = stream.set_nodelay(true);
    let framed = LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_framed(stream);
    let options = bincode::DefaultOptions::new().with_limit(MAX_FRAME as u64);
    serde_transport::new(framed, Bincode::from(options))
}

/// Why a connection could not be made. Names the address and what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot reach {addr}: nothing answered within {} ms; is a node running there?", timeout.as_millis())]
    Timeout { addr: SocketAddr, timeout: Duration },
    #[error("cannot reach {addr}: {reason}; start one with `ringshop-node --listen {addr}`")]
    Io { addr: SocketAddr, reason: String },
}

/// Opens a framed connection to `addr`, giving up after `timeout`.
pub async fn connect<Req, Resp>(
    addr: SocketAddr,
    timeout: Duration,
) -> Result<ClientTransport<Req, Resp>, ConnectError>
where
    Req: serde::Serialize,
    Resp: for<'de> serde::Deserialize<'de>,
{
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Err(ConnectError::Timeout { addr, timeout }),
        Ok(Err(e)) => Err(ConnectError::Io {
            addr,
            reason: e.to_string(),
        }),
        Ok(Ok(stream)) => Ok(frame(stream)),
    }
}

/// A `Shard` client on a fresh connection to `addr`. tarpc never reconnects: when this
/// connection breaks, every call on it answers `Shutdown` and the caller must connect anew.
pub async fn connect_shard(
    addr: SocketAddr,
    timeout: Duration,
) -> Result<ShardClient, ConnectError> {
    let transport = connect::<ShardRequest, ShardResponse>(addr, timeout).await?;
    Ok(ShardClient::new(client::Config::default(), transport).spawn())
}

/// A call context whose deadline is `deadline` from now (tarpc's default is 10 s).
pub fn context(deadline: Duration) -> context::Context {
    let mut ctx = context::current();
    ctx.deadline = Instant::now() + deadline;
    ctx
}

/// Accepts connections until `shutdown`, handing each one, framed, to `on_connection`.
/// Accept errors (out of file descriptors, say) are logged and retried after a short pause.
pub async fn accept_loop<Req, Resp, F>(
    listener: TcpListener,
    shutdown: CancellationToken,
    mut on_connection: F,
) where
    F: FnMut(ServerTransport<Req, Resp>, SocketAddr),
    Req: for<'de> serde::Deserialize<'de>,
    Resp: serde::Serialize,
{
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => on_connection(frame(stream), peer),
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Runs a channel's requests, each on its own task (tarpc would otherwise run one connection's
/// requests one after another), until the peer goes away or `shutdown`.
pub async fn run_requests<St, Fut>(requests: St, shutdown: CancellationToken, tracker: TaskTracker)
where
    St: Stream<Item = Fut>,
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
