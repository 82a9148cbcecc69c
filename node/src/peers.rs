//! Connections from this node to other nodes (handoff, probing a suspect), one per address,
//! made on first use and dropped when a call on them fails (tarpc never reconnects).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use ringshop_shared::ShardClient;
use ringshop_shared::transport::{self, ConnectError};

pub struct Peers {
    conns: Mutex<HashMap<SocketAddr, ShardClient>>,
    connect_timeout: Duration,
}

impl Peers {
    pub fn new(connect_timeout: Duration) -> Peers {
        Peers {
            conns: Mutex::new(HashMap::new()),
            connect_timeout,
        }
    }

    /// A client of `addr`, reusing the open connection if there is one.
    pub async fn client(&self, addr: SocketAddr) -> Result<ShardClient, ConnectError> {
        if let Some(c) = self.lock().get(&addr) {
            return Ok(c.clone());
        }
        let client = transport::connect_shard(addr, self.connect_timeout).await?;
        self.lock().insert(addr, client.clone());
        Ok(client)
    }

    /// Forgets a connection a call failed on, so the next use connects anew.
    pub fn forget(&self, addr: SocketAddr) {
        self.lock().remove(&addr);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, ShardClient>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }
}
