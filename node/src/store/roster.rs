//! The membership table as the store keeps it (the Orleans pattern): who is a member at which
//! address and incarnation, their heartbeats on the store's clock, the epoch every change
//! moves, the log of changes, acknowledgements and votes. Every write is conditional on the
//! member still being live, so a node that was declared dead learns it from its next write.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use ringshop_shared::NodeId;
use ringshop_shared::wire::{ClusterTiming, MemberStatus, Membership};

use super::StoreError;

/// What a node gets for joining.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined {
    pub incarnation: u64,
}

/// One membership change as the log recorded it: the member's row after the change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub epoch: u64,
    pub name: NodeId,
    pub addr: SocketAddr,
    pub incarnation: u64,
    pub status: MemberStatus,
}

/// The membership's part of the store.
#[async_trait]
pub trait Roster: Send + Sync + 'static {
    /// Registers `name` at `addr` as active with a new incarnation, unless a live member
    /// (active, joining or leaving, heard from within `suspicion` on the store's clock) holds
    /// the name.
    async fn join(
        &self,
        name: &NodeId,
        addr: SocketAddr,
        suspicion: Duration,
    ) -> Result<Joined, StoreError>;

    /// Records a heartbeat at the store's now (never moving it back in time); false when this
    /// incarnation is no longer a live member (it was declared dead or replaced) and must stop
    /// serving.
    async fn heartbeat(&self, name: &NodeId, incarnation: u64) -> Result<bool, StoreError>;

    /// Moves this incarnation to `status`; false if it is not a live member any more.
    async fn set_status(
        &self,
        name: &NodeId,
        incarnation: u64,
        status: MemberStatus,
    ) -> Result<bool, StoreError>;

    /// Proposes the cluster's timings for `me`, which has just joined: written only when no
    /// other live member (heard from within the stored suspicion) runs on the stored ones,
    /// else left as they are; the timings in force after. Every node calls it once joined and
    /// runs on the answer, so all live members agree: once one is live, nobody else's
    /// proposal is written.
    async fn settle_timing(
        &self,
        me: &NodeId,
        proposed: ClusterTiming,
    ) -> Result<ClusterTiming, StoreError>;

    /// Marks dead every live member not heard from for longer than `suspicion` (on the
    /// store's clock); the names, sorted.
    async fn reap(&self, suspicion: Duration) -> Result<Vec<NodeId>, StoreError>;

    /// Marks one member dead at once (it was voted dead); false if it was not live.
    async fn mark_dead(&self, name: &NodeId, incarnation: u64) -> Result<bool, StoreError> {
        self.set_status(name, incarnation, MemberStatus::Dead).await
    }

    /// The membership epoch: it moves on every join, status change or death.
    async fn epoch(&self) -> Result<u64, StoreError>;

    /// Records that this incarnation has applied membership `epoch` and let go of every id it
    /// lost up to it (acknowledgements only move forward); false if it is not live any more.
    async fn ack(&self, name: &NodeId, incarnation: u64, epoch: u64) -> Result<bool, StoreError>;

    /// The membership changes after `epoch`, oldest first, at most `limit` of them.
    async fn changes_since(&self, epoch: u64, limit: u32) -> Result<Vec<Change>, StoreError>;

    /// `voter` found `target` (at `incarnation`) unreachable, now (the store's clock). Counts
    /// the votes cast for it in the last `window`; with at least `needed` of them, marks it
    /// dead. True if it is dead now (by this vote or before).
    async fn vote(
        &self,
        target: &NodeId,
        incarnation: u64,
        voter: &NodeId,
        window: Duration,
        needed: u32,
    ) -> Result<bool, StoreError>;

    /// Every member (with its heartbeat's age on the store's clock) and the epoch, read in one
    /// statement (so they agree).
    async fn membership(&self) -> Result<Membership, StoreError>;
}
