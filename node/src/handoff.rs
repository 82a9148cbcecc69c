//! Letting go: after every membership change this node stops the actors of the ids it may no
//! longer answer for, hands each live entry, with what is left of its TTL, to the id's new
//! owner, and only then acknowledges the epoch in the store. New owners hold the ids they
//! gained until every live member has acknowledged (see `membership::view`), so the entry
//! arrives before they answer, and at no instant do two nodes answer for one id. An entry
//! whose id had a third owner in between is dropped instead (that owner's entry is newer).
//! A node declared dead while alive drops every actor here and rejoins.
//! Akka, Dapr and Horde drop this state on a rebalance; we keep it.

use std::collections::BTreeMap;
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::service::MAX_ADOPT;
use ringshop_shared::{Handed, NodeId, transport};
use tokio_util::sync::CancellationToken;

use crate::actors::product::Products;
use crate::actors::value::Registry;
use crate::membership::{Members, View};
use crate::peers::Peers;
use crate::shop::checkout::Checkout;

/// How long one `adopt` call may take; the epoch's acknowledgement waits for it.
const ADOPT_DEADLINE: Duration = Duration::from_secs(2);
/// How long to wait before trying a failed acknowledgement or rejoin again.
const RETRY: Duration = Duration::from_millis(200);

/// Everything a node lets go of when membership changes.
#[derive(Clone)]
pub struct Owned {
    pub members: Members,
    pub registry: Registry,
    pub products: Products,
    pub checkout: Checkout,
    pub peers: std::sync::Arc<Peers>,
    /// One letting-go at a time (the loop below and a graceful leave), so an epoch is never
    /// acknowledged while another letting-go is still handing its entries over.
    pub letting_go: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Owned {
    /// Lets go of every id this node lost after epoch `since` (the last one it let go at),
    /// hands the entries over, then acknowledges the epoch it let go at; how many entries
    /// the new owners adopted, or the acknowledgement's error.
    pub async fn let_go(&self, since: u64) -> Result<(u64, usize), crate::store::StoreError> {
        let _one_at_a_time = self.letting_go.lock().await;
        let view = self.members.view();
        let adopted = self.rebalance(&view, since).await;
        self.members.ack(view.epoch()).await?;
        Ok((view.epoch(), adopted))
    }

    async fn rebalance(&self, view: &View, since: u64) -> usize {
        let me = self.members.me();
        self.products.let_go(|id| !view.lost(me, id, since));
        self.checkout.let_go(|id| view.lost(me, id, since)).await;
        // Every entry is read after this instant, under this incarnation: each send ages the
        // entries by the time since (a little more than each one's own), so none is handed
        // with time it no longer has, and names the incarnation that held them.
        let (read, incarnation) = (clock::now(), self.members.incarnation());
        let mut by_heir: BTreeMap<NodeId, Vec<Handed>> = BTreeMap::new();
        let mut dropped = 0;
        for id in self.registry.keys() {
            if !view.lost(me, &id, since) {
                continue;
            }
            // A node whose lease ran out may have been declared dead, and the heir may have
            // answered for the id since: its entry is void, never handed over.
            let heir = view
                .heir(me, &id)
                .filter(|_| self.members.serving().is_ok())
                .cloned();
            if let Some(handed) = self.registry.surrender(&id).await {
                match heir {
                    Some(heir) => by_heir.entry(heir).or_default().push(handed),
                    None => dropped += 1,
                }
            }
        }
        self.registry.handoffs_failed(dropped);
        let epoch = view.epoch();
        let sends = by_heir.into_iter().map(|(heir, entries)| {
            let addr = view.addr_of(&heir);
            async move {
                let Some(addr) = addr else {
                    self.registry.handoffs_failed(entries.len() as u64);
                    return 0;
                };
                let mut adopted = 0;
                for chunk in entries.chunks(MAX_ADOPT) {
                    adopted += self
                        .send(&heir, addr, chunk, epoch, (read, incarnation))
                        .await;
                }
                tracing::info!(node = %me, %heir, adopted, "handed entries over");
                adopted
            }
        });
        futures::future::join_all(sends).await.into_iter().sum()
    }

    async fn send(
        &self,
        heir: &NodeId,
        addr: std::net::SocketAddr,
        chunk: &[Handed],
        epoch: u64,
        (read, incarnation): (Instant, u64),
    ) -> usize {
        let me = self.members.me();
        let sent = match self.peers.client(addr).await {
            // Checked once connected, just before sending: the lease may have run out while
            // connecting, and then what is left is void (see `rebalance`).
            Ok(_) if self.members.serving().is_err() => Ok(Ok(0)),
            Ok(client) => {
                let since = clock::now().saturating_duration_since(read);
                let aged: Vec<Handed> = chunk.iter().filter_map(|h| h.aged(since)).collect();
                client
                    .adopt(
                        transport::context(ADOPT_DEADLINE),
                        aged,
                        epoch,
                        me.clone(),
                        incarnation,
                    )
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        let adopted = match sent {
            Ok(Ok(n)) => n as usize,
            Ok(Err(e)) => {
                tracing::warn!(node = %me, %heir, error = %e, "handoff refused");
                0
            }
            Err(e) => {
                self.peers.forget(addr);
                tracing::warn!(node = %me, %heir, error = %e, "handoff failed; entries dropped");
                0
            }
        };
        self.registry
            .handoffs_failed((chunk.len().saturating_sub(adopted)) as u64);
        adopted
    }

    /// After every membership change: let go, hand over, acknowledge; rejoin when declared
    /// dead. Runs until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut changes = self.members.subscribe();
        let mut acked = (self.members.incarnation(), self.members.view().epoch());
        loop {
            if self.members.is_rejoining() {
                self.registry.drop_all().await;
                self.products.let_go(|_| false);
                self.checkout.let_go(|_| true).await;
                while let Err(e) = self.members.rejoin().await {
                    tracing::warn!(node = %self.members.me(), error = %e, "rejoining failed; trying again");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(RETRY) => {}
                    }
                }
                acked = (self.members.incarnation(), self.members.view().epoch());
            }
            let now = (self.members.incarnation(), self.members.view().epoch());
            let mut retry = false;
            // A node leaving hands over in its leave (`NodeHandle::shutdown`, in the caller's
            // action and trace), not here: both at once would split the handoff between them.
            if now != acked && !self.members.is_departing() {
                match self.let_go(acked.1).await {
                    Ok((epoch, _)) => acked = (now.0, epoch),
                    Err(e) => {
                        tracing::warn!(node = %self.members.me(), error = %e, "acknowledging the epoch failed");
                        retry = true;
                    }
                }
            }
            let pause = if retry {
                RETRY
            } else {
                Duration::from_secs(3600)
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = changes.changed() => if changed.is_err() { return },
                _ = self.members.declared_dead() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}
