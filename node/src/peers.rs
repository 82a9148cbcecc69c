//! Connections from this node to other nodes (handoff, probing a suspect, a checkout's calls to
//! a product's owner), one per address, made on first use and dropped when a call on them
//! fails (tarpc never reconnects), and what the routing loop (`route.rs`) noted of each: a peer
//! it could not dial, a peer the cluster counts alive that it cannot reach. Below membership:
//! it knows addresses, not members.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::hash::Map;
use ringshop_shared::hop::Channel;
use ringshop_shared::transport::{self, ConnectError, Dialer, Security};
use ringshop_shared::{Hop, ShardClient, ShardRequest, ShardResponse};

/// How long a peer this node failed to dial, or the cluster's word that such a peer is alive,
/// stands for the routing loop: its calls go through a relay at once meanwhile, instead of
/// each waiting out a dial and asking the detector again.
const CUT_OFF_FOR: Duration = Duration::from_secs(1);

pub struct Peers {
    conns: Mutex<Map<SocketAddr, Channel>>,
    /// Peers the routing loop could not dial: when.
    undialable: Marks,
    /// Peers the cluster counted alive although this node could not reach them: when.
    cut_off: Marks,
    /// The network peers are dialled on (TCP unless a simulator's).
    dialer: Dialer,
    connect_timeout: Duration,
    /// This node's own certificate when the cluster runs TLS: peers see it as a node's.
    security: Security,
}

impl Peers {
    pub fn new(dialer: Dialer, connect_timeout: Duration, security: Security) -> Peers {
        Peers {
            dialer,
            conns: Mutex::new(Map::default()),
            undialable: Mutex::new(Map::default()),
            cut_off: Mutex::new(Map::default()),
            connect_timeout,
            security,
        }
    }

    /// A client of `addr`, reusing the open connection if there is one.
    pub async fn client(&self, addr: SocketAddr) -> Result<ShardClient, ConnectError> {
        self.channel(addr).await.map(Hop::direct)
    }

    /// The connection to `addr`, made now if there is none.
    pub async fn channel(&self, addr: SocketAddr) -> Result<Channel, ConnectError> {
        if let Some(c) = self.lock().get(&addr) {
            return Ok(c.clone());
        }
        let framed = transport::connect_with::<ShardRequest, ShardResponse>(
            &self.dialer,
            addr,
            self.connect_timeout,
            &self.security,
        )
        .await?;
        let channel = transport::channel(framed);
        self.lock().insert(addr, channel.clone());
        Ok(channel)
    }

    /// Forgets a connection a call failed on, so the next use connects anew.
    pub fn forget(&self, addr: SocketAddr) {
        self.lock().remove(&addr);
    }

    /// Whether dialling `addr` failed a moment ago (the routing loop then relays at once).
    pub fn undialable(&self, addr: SocketAddr) -> bool {
        marked(&self.undialable, addr)
    }

    /// Notes that dialling `addr` failed.
    pub fn mark_undialable(&self, addr: SocketAddr) {
        mark(&self.undialable, addr);
    }

    /// Whether the cluster counted `addr` alive a moment ago although it did not answer here.
    pub fn cut_off(&self, addr: SocketAddr) -> bool {
        marked(&self.cut_off, addr)
    }

    /// Notes that the cluster counts `addr` alive although it does not answer here.
    pub fn mark_cut_off(&self, addr: SocketAddr) {
        mark(&self.cut_off, addr);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map<SocketAddr, Channel>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }
}

type Marks = Mutex<Map<SocketAddr, Instant>>;

/// Whether `addr` was marked in `marks` within `CUT_OFF_FOR`.
fn marked(marks: &Marks, addr: SocketAddr) -> bool {
    let marks = marks.lock().unwrap_or_else(|p| p.into_inner());
    marks
        .get(&addr)
        .is_some_and(|at| at.elapsed() < CUT_OFF_FOR)
}

/// Marks `addr` in `marks` now.
fn mark(marks: &Marks, addr: SocketAddr) {
    let mut marks = marks.lock().unwrap_or_else(|p| p.into_inner());
    marks.retain(|_, at| at.elapsed() < CUT_OFF_FOR);
    marks.insert(addr, clock::now());
}
