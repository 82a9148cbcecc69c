//! The network seam: where a node listens and a client dials. Production runs on tokio's TCP
//! ([`Tcp`]); a simulator (turmoil, say) plugs its own [`Net`] in here and everything above
//! (TLS, frames, the codec, the connection guard, tarpc) runs unchanged on its streams.
//!
//! This module only opens and accepts byte streams: it never frames, encrypts, times out or
//! retries (that is [`super::connect`] and [`super::accept_loop`]'s work, the same on every
//! network).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

/// One connection's bytes, as the network hands them over.
pub trait Conn: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug + 'static> Conn for T {}

/// A bound listener: accepts connections and says where it listens.
pub trait Listener: Send + 'static {
    type Conn: Conn;

    /// The next connection and who opened it.
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Conn, SocketAddr)>> + Send;

    /// The address it is bound to (the port the system chose for port 0).
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// A network: listen on an address, connect to one.
pub trait Net: Send + Sync + 'static {
    type Conn: Conn;
    type Listener: Listener<Conn = Self::Conn>;

    /// Binds `addr` (port 0: any free port).
    fn listen(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;

    /// Opens a connection to `addr`; with no deadline of its own (callers bound it).
    fn connect(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Self::Conn>> + Send;
}

/// A connection whose network is known only at run time (what a [`Dialer`] opens).
pub type BoxConn = Box<dyn Conn>;

/// The dialling half of a [`Net`] with its type erased, for what holds a network without a
/// type parameter: a node's connections to its peers, the main's to the nodes. Cheap to clone.
#[derive(Clone)]
pub struct Dialer(Arc<dyn Dial>);

/// [`Net::connect`] as a trait object.
trait Dial: Send + Sync + 'static {
    fn dial(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxConn>>;
}

impl<N: Net + Clone> Dial for N {
    fn dial(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxConn>> {
        let net = self.clone();
        Box::pin(async move { Ok(Box::new(net.connect(addr).await?) as BoxConn) })
    }
}

impl Dialer {
    /// Dials on `net`.
    pub fn on<N: Net + Clone>(net: N) -> Dialer {
        Dialer(Arc::new(net))
    }

    /// Opens a connection to `addr` (no deadline of its own, as [`Net::connect`]).
    pub fn dial(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxConn>> {
        self.0.dial(addr)
    }
}

/// tokio's TCP.
impl Default for Dialer {
    fn default() -> Dialer {
        Dialer::on(Tcp)
    }
}

impl fmt::Debug for Dialer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Dialer")
    }
}

/// tokio's TCP, with nodelay on every connection (requests are small and latency-bound).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tcp;

impl Net for Tcp {
    type Conn = TcpStream;
    type Listener = TcpListener;

    async fn listen(&self, addr: SocketAddr) -> io::Result<TcpListener> {
        TcpListener::bind(addr).await
    }

    async fn connect(&self, addr: SocketAddr) -> io::Result<TcpStream> {
        let tcp = TcpStream::connect(addr).await?;
        // nodelay only fails on a socket that is already gone; the next read reports that.
        let _ = tcp.set_nodelay(true);
        Ok(tcp)
    }
}

impl Listener for TcpListener {
    type Conn = TcpStream;

    async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (tcp, addr) = TcpListener::accept(self).await?;
        // As in `connect`: a failure here shows on the first read.
        let _ = tcp.set_nodelay(true);
        Ok((tcp, addr))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpListener::local_addr(self)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn tcp_connects_to_what_it_listens_on() {
        let listener = Tcp.listen(([127, 0, 0, 1], 0).into()).await.expect("bind");
        let addr = Listener::local_addr(&listener).expect("bound");
        let (dialed, accepted) = tokio::join!(Tcp.connect(addr), Listener::accept(&listener));
        let (mut dialed, (mut accepted, from)) = (dialed.expect("dial"), accepted.expect("accept"));
        assert_eq!(Some(from), dialed.local_addr().ok());
        assert!(dialed.nodelay().expect("nodelay") && accepted.nodelay().expect("nodelay"));
        dialed.write_all(b"ping").await.expect("write");
        let mut read = [0; 4];
        accepted.read_exact(&mut read).await.expect("read");
        assert_eq!(&read, b"ping");
    }
}
