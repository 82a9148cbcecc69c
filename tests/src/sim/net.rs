//! The simulator's network on the node's and the client's seam (`transport::Net`): turmoil's
//! TCP, whose streams run TLS-less frames, the codec and tarpc exactly as tokio's do. Every
//! host listens on [`PORT`] of its own simulated address.

use std::io;
use std::net::SocketAddr;

use ringshop_shared::transport::{Listener, Net};

/// The port every simulated node listens on (each host has its own address).
pub const PORT: u16 = 7000;

/// turmoil's TCP. Only usable inside a turmoil host (it finds the simulation through a
/// thread-local that turmoil sets while it runs the host).
#[derive(Clone, Copy, Debug, Default)]
pub struct SimNet;

/// A listener on the simulated network.
pub struct SimListener(turmoil::net::TcpListener);

impl Net for SimNet {
    type Conn = turmoil::net::TcpStream;
    type Listener = SimListener;

    async fn listen(&self, addr: SocketAddr) -> io::Result<SimListener> {
        turmoil::net::TcpListener::bind(addr).await.map(SimListener)
    }

    async fn connect(&self, addr: SocketAddr) -> io::Result<turmoil::net::TcpStream> {
        turmoil::net::TcpStream::connect(addr).await
    }
}

impl Listener for SimListener {
    type Conn = turmoil::net::TcpStream;

    async fn accept(&self) -> io::Result<(turmoil::net::TcpStream, SocketAddr)> {
        self.0.accept().await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}
