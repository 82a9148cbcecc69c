//! The membership in memory: the same conditional writes as the SQL backends' (a write by an
//! incarnation that is no longer live matches nothing), and the same epoch and log, moved by
//! one function (`Tables::changed`) as the SQL triggers move them.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use ringshop_shared::NodeId;
use ringshop_shared::wire::{ClusterTiming, Member, MemberStatus, Membership};

use super::{MemberRow, MemoryStore, Tables, before};
use crate::store::{Change, Joined, Millis, Roster, StoreError};

/// How many log rows a join keeps behind the newest epoch.
const LOG_KEPT: u64 = 10_000;

fn live(status: MemberStatus) -> bool {
    matches!(
        status,
        MemberStatus::Joining | MemberStatus::Active | MemberStatus::Leaving
    )
}

impl Tables {
    /// `name`'s row after a change of address, incarnation or status: the epoch moves and
    /// the log records it.
    fn changed(&mut self, name: &NodeId) {
        let Some(row) = self.members.get(name) else {
            return;
        };
        self.epoch += 1;
        let change = Change {
            epoch: self.epoch,
            name: name.clone(),
            addr: row.addr,
            incarnation: row.incarnation,
            status: row.status,
        };
        self.log.insert(self.epoch, change);
    }

    /// This incarnation's row, if it is live.
    fn live_row(&mut self, name: &NodeId, incarnation: u64) -> Option<&mut MemberRow> {
        self.members
            .get_mut(name)
            .filter(|row| row.incarnation == incarnation && live(row.status))
    }

    fn set_status(&mut self, name: &NodeId, incarnation: u64, status: MemberStatus) -> bool {
        let Some(row) = self.live_row(name, incarnation) else {
            return false;
        };
        let moved = row.status != status;
        row.status = status;
        if moved {
            self.changed(name);
        }
        true
    }
}

#[async_trait]
impl Roster for MemoryStore {
    async fn join(
        &self,
        name: &NodeId,
        addr: SocketAddr,
        suspicion: Duration,
    ) -> Result<Joined, StoreError> {
        let now = self.now();
        let mut t = self.tables();
        let incarnation = match t.members.get(name) {
            Some(row) if live(row.status) && row.heartbeat_ms >= before(now, suspicion) => {
                return Err(StoreError::NameTaken {
                    name: name.clone(),
                    addr: row.addr.to_string(),
                    heartbeat_age: age(now, row.heartbeat_ms),
                });
            }
            Some(row) => row.incarnation + 1,
            None => 1,
        };
        let row = MemberRow {
            addr,
            incarnation,
            status: MemberStatus::Active,
            heartbeat_ms: now,
            acked_epoch: 0,
        };
        t.members.insert(name.clone(), row);
        t.changed(name);
        let oldest = t.epoch.saturating_sub(LOG_KEPT);
        t.log = t.log.split_off(&oldest);
        Ok(Joined { incarnation })
    }

    async fn heartbeat(&self, name: &NodeId, incarnation: u64) -> Result<bool, StoreError> {
        let now = self.now();
        let mut t = self.tables();
        Ok(t.live_row(name, incarnation)
            .map(|row| row.heartbeat_ms = row.heartbeat_ms.max(now))
            .is_some())
    }

    async fn set_status(
        &self,
        name: &NodeId,
        incarnation: u64,
        status: MemberStatus,
    ) -> Result<bool, StoreError> {
        Ok(self.tables().set_status(name, incarnation, status))
    }

    async fn settle_timing(
        &self,
        me: &NodeId,
        proposed: ClusterTiming,
    ) -> Result<ClusterTiming, StoreError> {
        let now = self.now();
        let mut t = self.tables();
        let suspicion = t.timing.map_or(proposed.suspicion, |s| s.suspicion);
        let others_live = t.members.iter().any(|(name, row)| {
            name != me && live(row.status) && row.heartbeat_ms >= before(now, suspicion)
        });
        if t.timing.is_none() || !others_live {
            t.timing = Some(proposed);
        }
        Ok(t.timing.unwrap_or(proposed))
    }

    async fn reap(&self, suspicion: Duration) -> Result<Vec<NodeId>, StoreError> {
        let stale_before = before(self.now(), suspicion);
        let mut t = self.tables();
        let silent: Vec<(NodeId, u64)> = t
            .members
            .iter()
            .filter(|(_, row)| live(row.status) && row.heartbeat_ms < stale_before)
            .map(|(name, row)| (name.clone(), row.incarnation))
            .collect();
        for (name, incarnation) in &silent {
            t.set_status(name, *incarnation, MemberStatus::Dead);
        }
        Ok(silent.into_iter().map(|(name, _)| name).collect())
    }

    async fn epoch(&self) -> Result<u64, StoreError> {
        Ok(self.tables().epoch)
    }

    async fn ack(&self, name: &NodeId, incarnation: u64, epoch: u64) -> Result<bool, StoreError> {
        let epoch = epoch.min(i64::MAX as u64);
        let mut t = self.tables();
        Ok(t.live_row(name, incarnation)
            .map(|row| row.acked_epoch = row.acked_epoch.max(epoch))
            .is_some())
    }

    async fn changes_since(&self, epoch: u64, limit: u32) -> Result<Vec<Change>, StoreError> {
        let t = self.tables();
        let after = t.log.range(epoch.saturating_add(1)..);
        Ok(after.take(limit as usize).map(|(_, c)| c.clone()).collect())
    }

    async fn vote(
        &self,
        target: &NodeId,
        incarnation: u64,
        voter: &NodeId,
        window: Duration,
        needed: u32,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        let mut t = self.tables();
        let key = (target.clone(), incarnation, voter.clone());
        t.votes.insert(key, now);
        let since = before(now, window);
        let votes = t
            .votes
            .iter()
            .filter(|((who, inc, _), at)| who == target && *inc == incarnation && **at >= since)
            .count();
        if votes >= needed.max(1) as usize {
            t.set_status(target, incarnation, MemberStatus::Dead);
        }
        Ok(t.members
            .get(target)
            .is_none_or(|row| row.incarnation != incarnation || !live(row.status)))
    }

    async fn membership(&self) -> Result<Membership, StoreError> {
        let now = self.now();
        let t = self.tables();
        let members = t.members.iter().map(|(name, row)| Member {
            name: name.clone(),
            addr: row.addr,
            incarnation: row.incarnation,
            status: row.status,
            heartbeat_age: age(now, row.heartbeat_ms),
            acked_epoch: row.acked_epoch,
        });
        Ok(Membership {
            epoch: t.epoch,
            members: members.collect(),
        })
    }
}

/// How long ago `at` was at `now` (nothing, if it is later).
fn age(now: Millis, at: Millis) -> Duration {
    Duration::from_millis(now.saturating_sub(at).max(0) as u64)
}
