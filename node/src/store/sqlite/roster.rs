//! The membership's SQL on SQLite: registration, heartbeats, status changes, reaping, votes,
//! acknowledgements and the change log. These writes go through their own connection
//! (`SqliteStore::members`), so a heartbeat never waits in line behind shop writes.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use ringshop_shared::NodeId;
use ringshop_shared::wire::{ClusterTiming, MemberStatus, Membership};
use sqlx::Row;

use super::{SqliteStore, committed_row, query_error};
use crate::store::rows::{changes_from_rows, membership_from_rows, names_from_rows, timing_from};
use crate::store::{Change, Joined, Roster, StoreError, millis};

/// The statuses of a member that may still serve (or is about to).
const LIVE: &str = "('joining', 'active', 'leaving')";
const SETTLING: &str = "settling the cluster's timings";
const TIMING: &str = "SELECT key, value FROM meta WHERE key IN ('heartbeat_ms', 'suspicion_ms')";

#[async_trait]
impl Roster for SqliteStore {
    async fn settle_timing(
        &self,
        me: &NodeId,
        proposed: ClusterTiming,
    ) -> Result<ClusterTiming, StoreError> {
        let sql = format!(
            "INSERT INTO meta (key, value) VALUES ('heartbeat_ms', ?1), ('suspicion_ms', ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value
             WHERE NOT EXISTS (
                 SELECT 1 FROM members
                 WHERE name <> ?3 AND status IN {LIVE}
                   AND heartbeat_ms >= ?4 - COALESCE(
                       (SELECT value FROM meta WHERE key = 'suspicion_ms'), ?2))"
        );
        sqlx::query(&sql)
            .bind(millis(proposed.heartbeat))
            .bind(millis(proposed.suspicion))
            .bind(me.as_str())
            .bind(self.now())
            .execute(&self.members)
            .await
            .map_err(query_error(SETTLING))?;
        let rows: Vec<(String, i64)> = sqlx::query_as(TIMING)
            .fetch_all(&self.members)
            .await
            .map_err(query_error(SETTLING))?;
        Ok(timing_from(&rows, proposed))
    }

    async fn join(
        &self,
        name: &NodeId,
        addr: SocketAddr,
        suspicion: Duration,
    ) -> Result<Joined, StoreError> {
        let now = self.now();
        let stale_before = now.saturating_sub(millis(suspicion));
        let sql = format!(
            "INSERT INTO members (name, addr, incarnation, status, heartbeat_ms, joined_ms)
             VALUES (?1, ?2, 1, 'active', ?3, ?3)
             ON CONFLICT (name) DO UPDATE SET
                 addr = excluded.addr, incarnation = members.incarnation + 1,
                 status = 'active', heartbeat_ms = excluded.heartbeat_ms,
                 joined_ms = excluded.joined_ms, acked_epoch = 0
             WHERE members.status NOT IN {LIVE} OR members.heartbeat_ms < ?4
             RETURNING incarnation"
        );
        let row = sqlx::query(&sql)
            .bind(name.as_str())
            .bind(addr.to_string())
            .bind(now)
            .bind(stale_before)
            .fetch_all(&self.members)
            .await
            .map(committed_row)
            .map_err(query_error("joining"))?;
        if let Some(row) = row {
            let incarnation: i64 = row.try_get(0).map_err(query_error("joining"))?;
            // Old log rows are only needed by members that are far behind; keep the last few.
            sqlx::query(
                "DELETE FROM members_log
                 WHERE epoch < (SELECT value FROM meta WHERE key = 'epoch') - 10000",
            )
            .execute(&self.members)
            .await
            .map_err(query_error("trimming the membership log"))?;
            return Ok(Joined {
                incarnation: incarnation.max(0) as u64,
            });
        }
        let holder = sqlx::query("SELECT addr, heartbeat_ms FROM members WHERE name = ?1")
            .bind(name.as_str())
            .fetch_one(&mut *self.reader.get().await)
            .await
            .map_err(query_error("reading who holds a name"))?;
        let addr: String = holder
            .try_get(0)
            .map_err(query_error("reading who holds a name"))?;
        let beat: i64 = holder
            .try_get(1)
            .map_err(query_error("reading who holds a name"))?;
        Err(StoreError::NameTaken {
            name: name.clone(),
            addr,
            heartbeat_age: Duration::from_millis(now.saturating_sub(beat).max(0) as u64),
        })
    }

    async fn heartbeat(&self, name: &NodeId, incarnation: u64) -> Result<bool, StoreError> {
        let set = "heartbeat_ms = MAX(heartbeat_ms, ?3)";
        self.update_live("heartbeating", set, name, incarnation, self.now())
            .await
    }

    async fn ack(&self, name: &NodeId, incarnation: u64, epoch: u64) -> Result<bool, StoreError> {
        let set = "acked_epoch = MAX(acked_epoch, ?3)";
        let epoch = i64::try_from(epoch).unwrap_or(i64::MAX);
        self.update_live("acknowledging an epoch", set, name, incarnation, epoch)
            .await
    }

    async fn set_status(
        &self,
        name: &NodeId,
        incarnation: u64,
        status: MemberStatus,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE members SET status = ?3
             WHERE name = ?1 AND incarnation = ?2 AND status IN {LIVE}"
        );
        let done = sqlx::query(&sql)
            .bind(name.as_str())
            .bind(incarnation as i64)
            .bind(status.as_str())
            .execute(&self.members)
            .await
            .map_err(query_error("changing a member's status"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn reap(&self, suspicion: Duration) -> Result<Vec<NodeId>, StoreError> {
        let stale_before = self.now().saturating_sub(millis(suspicion));
        let sql = format!(
            "UPDATE members SET status = 'dead'
             WHERE status IN {LIVE} AND heartbeat_ms < ?1 RETURNING name"
        );
        let rows = sqlx::query(&sql)
            .bind(stale_before)
            .fetch_all(&self.members)
            .await
            .map_err(query_error("marking silent members dead"))?;
        Ok(names_from_rows(&rows))
    }

    async fn vote(
        &self,
        target: &NodeId,
        incarnation: u64,
        voter: &NodeId,
        window: Duration,
        needed: u32,
    ) -> Result<bool, StoreError> {
        let inc = incarnation as i64;
        let now = self.now();
        sqlx::query(
            "INSERT INTO votes (target, incarnation, voter, at_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (target, incarnation, voter) DO UPDATE SET at_ms = excluded.at_ms",
        )
        .bind(target.as_str())
        .bind(inc)
        .bind(voter.as_str())
        .bind(now)
        .execute(&self.members)
        .await
        .map_err(query_error("voting a member dead"))?;
        let votes: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM votes WHERE target = ?1 AND incarnation = ?2 AND at_ms >= ?3",
        )
        .bind(target.as_str())
        .bind(inc)
        .bind(now.saturating_sub(millis(window)))
        .fetch_one(&self.members)
        .await
        .map_err(query_error("counting votes"))?;
        if votes >= i64::from(needed.max(1)) {
            self.set_status(target, incarnation, MemberStatus::Dead)
                .await?;
        }
        let status: Option<(String, i64)> =
            sqlx::query_as("SELECT status, incarnation FROM members WHERE name = ?1")
                .bind(target.as_str())
                .fetch_optional(&self.members)
                .await
                .map_err(query_error("reading a member's status"))?;
        Ok(status.is_none_or(|(s, i)| {
            i != inc || !matches!(s.as_str(), "joining" | "active" | "leaving")
        }))
    }

    async fn epoch(&self) -> Result<u64, StoreError> {
        let epoch: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'epoch'")
            .fetch_one(&mut *self.reader.get().await)
            .await
            .map_err(query_error("reading the epoch"))?;
        Ok(epoch.max(0) as u64)
    }

    async fn membership(&self) -> Result<Membership, StoreError> {
        // One statement, so the rows, the epoch and the ages come from one snapshot and one now.
        let rows = sqlx::query(
            "SELECT meta.value, m.name, m.addr, m.incarnation, m.status, ?1 - m.heartbeat_ms,
                    m.acked_epoch
             FROM meta LEFT JOIN members m ON 1 = 1
             WHERE meta.key = 'epoch' ORDER BY m.name",
        )
        .bind(self.now())
        .fetch_all(&mut *self.reader.get().await)
        .await
        .map_err(query_error("reading the members"))?;
        Ok(membership_from_rows(&rows))
    }

    async fn changes_since(&self, epoch: u64, limit: u32) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(
            "SELECT epoch, name, addr, incarnation, status FROM members_log
             WHERE epoch > ?1 ORDER BY epoch LIMIT ?2",
        )
        .bind(i64::try_from(epoch).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.reader.get().await)
        .await
        .map_err(query_error("reading the membership log"))?;
        changes_from_rows(&rows)
    }
}

impl SqliteStore {
    /// An update of this incarnation's own row while it is live; whether it matched.
    async fn update_live(
        &self,
        what: &'static str,
        set: &str,
        name: &NodeId,
        incarnation: u64,
        value: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE members SET {set} WHERE name = ?1 AND incarnation = ?2 AND status IN {LIVE}"
        );
        let done = sqlx::query(&sql)
            .bind(name.as_str())
            .bind(incarnation as i64)
            .bind(value)
            .execute(&self.members)
            .await
            .map_err(query_error(what))?;
        Ok(done.rows_affected() == 1)
    }
}
