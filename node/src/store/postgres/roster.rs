//! The membership's SQL on PostgreSQL: registration, heartbeats, status changes, reaping,
//! votes, acknowledgements and the change log. They go through the membership's own pool
//! (`PgStore::members`), so a heartbeat never waits in line behind shop writes. Every time is
//! the server's: `COALESCE($n, ringshop_now_ms())` binds NULL unless a test set the clock.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use ringshop_shared::NodeId;
use ringshop_shared::wire::{ClusterTiming, MemberStatus, Membership};
use sqlx::Row;

use super::{PgStore, query_error};
use crate::store::rows::{changes_from_rows, membership_from_rows, names_from_rows, timing_from};
use crate::store::{Change, Joined, Roster, StoreError, millis};

/// The statuses of a member that may still serve (or is about to).
const LIVE: &str = "('joining', 'active', 'leaving')";
const SETTLING: &str = "settling the cluster's timings";
const TIMING: &str = "SELECT key, value FROM meta WHERE key IN ('heartbeat_ms', 'suspicion_ms')";

#[async_trait]
impl Roster for PgStore {
    async fn settle_timing(
        &self,
        me: &NodeId,
        proposed: ClusterTiming,
    ) -> Result<ClusterTiming, StoreError> {
        let sql = format!(
            "INSERT INTO meta (key, value) VALUES ('heartbeat_ms', $1), ('suspicion_ms', $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value
             WHERE NOT EXISTS (
                 SELECT 1 FROM members
                 WHERE name <> $3 AND status IN {LIVE}
                   AND heartbeat_ms >= COALESCE($4::bigint, ringshop_now_ms()) - COALESCE(
                       (SELECT value FROM meta WHERE key = 'suspicion_ms'), $2))"
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
        let sql = format!(
            "INSERT INTO members (name, addr, incarnation, status, heartbeat_ms, joined_ms)
             VALUES ($1, $2, 1, 'active', COALESCE($3::bigint, ringshop_now_ms()),
                     COALESCE($3::bigint, ringshop_now_ms()))
             ON CONFLICT (name) DO UPDATE SET
                 addr = excluded.addr, incarnation = members.incarnation + 1,
                 status = 'active', heartbeat_ms = excluded.heartbeat_ms,
                 joined_ms = excluded.joined_ms, acked_epoch = 0
             WHERE members.status NOT IN {LIVE}
                OR members.heartbeat_ms < excluded.heartbeat_ms - $4
             RETURNING incarnation"
        );
        let row = sqlx::query(&sql)
            .bind(name.as_str())
            .bind(addr.to_string())
            .bind(self.now())
            .bind(millis(suspicion))
            .fetch_optional(&self.members)
            .await
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
        const WHAT: &str = "reading who holds a name";
        let holder = sqlx::query(
            "SELECT addr, COALESCE($2::bigint, ringshop_now_ms()) - heartbeat_ms
             FROM members WHERE name = $1",
        )
        .bind(name.as_str())
        .bind(self.now())
        .fetch_one(&self.members)
        .await
        .map_err(query_error(WHAT))?;
        let addr: String = holder.try_get(0).map_err(query_error(WHAT))?;
        let age: i64 = holder.try_get(1).map_err(query_error(WHAT))?;
        Err(StoreError::NameTaken {
            name: name.clone(),
            addr,
            heartbeat_age: Duration::from_millis(age.max(0) as u64),
        })
    }

    async fn heartbeat(&self, name: &NodeId, incarnation: u64) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE members
             SET heartbeat_ms = GREATEST(heartbeat_ms, COALESCE($3::bigint, ringshop_now_ms()))
             WHERE name = $1 AND incarnation = $2 AND status IN {LIVE}"
        );
        let done = sqlx::query(&sql)
            .bind(name.as_str())
            .bind(incarnation as i64)
            .bind(self.now())
            .execute(&self.members)
            .await
            .map_err(query_error("heartbeating"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn ack(&self, name: &NodeId, incarnation: u64, epoch: u64) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE members SET acked_epoch = GREATEST(acked_epoch, $3)
             WHERE name = $1 AND incarnation = $2 AND status IN {LIVE}"
        );
        let done = sqlx::query(&sql)
            .bind(name.as_str())
            .bind(incarnation as i64)
            .bind(i64::try_from(epoch).unwrap_or(i64::MAX))
            .execute(&self.members)
            .await
            .map_err(query_error("acknowledging an epoch"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_status(
        &self,
        name: &NodeId,
        incarnation: u64,
        status: MemberStatus,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE members SET status = $3
             WHERE name = $1 AND incarnation = $2 AND status IN {LIVE}"
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
        let sql = format!(
            "UPDATE members SET status = 'dead'
             WHERE status IN {LIVE}
               AND heartbeat_ms < COALESCE($1::bigint, ringshop_now_ms()) - $2
             RETURNING name"
        );
        let rows = sqlx::query(&sql)
            .bind(self.now())
            .bind(millis(suspicion))
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
        // One time for the vote and the window it counts in.
        let now: i64 = sqlx::query_scalar(
            "INSERT INTO votes (target, incarnation, voter, at_ms)
             VALUES ($1, $2, $3, COALESCE($4::bigint, ringshop_now_ms()))
             ON CONFLICT (target, incarnation, voter) DO UPDATE SET at_ms = excluded.at_ms
             RETURNING at_ms",
        )
        .bind(target.as_str())
        .bind(inc)
        .bind(voter.as_str())
        .bind(self.now())
        .fetch_one(&self.members)
        .await
        .map_err(query_error("voting a member dead"))?;
        let votes: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM votes WHERE target = $1 AND incarnation = $2 AND at_ms >= $3",
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
            sqlx::query_as("SELECT status, incarnation FROM members WHERE name = $1")
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
            .fetch_one(&self.members)
            .await
            .map_err(query_error("reading the epoch"))?;
        Ok(epoch.max(0) as u64)
    }

    async fn membership(&self) -> Result<Membership, StoreError> {
        // One statement, so the rows, the epoch and the ages come from one snapshot and one now.
        let rows = sqlx::query(
            "SELECT meta.value, m.name, m.addr, m.incarnation, m.status,
                    COALESCE($1::bigint, ringshop_now_ms()) - m.heartbeat_ms, m.acked_epoch
             FROM meta LEFT JOIN members m ON true
             WHERE meta.key = 'epoch' ORDER BY m.name",
        )
        .bind(self.now())
        .fetch_all(&self.members)
        .await
        .map_err(query_error("reading the members"))?;
        Ok(membership_from_rows(&rows))
    }

    async fn changes_since(&self, epoch: u64, limit: u32) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(
            "SELECT epoch, name, addr, incarnation, status FROM members_log
             WHERE epoch > $1 ORDER BY epoch LIMIT $2",
        )
        .bind(i64::try_from(epoch).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.members)
        .await
        .map_err(query_error("reading the membership log"))?;
        changes_from_rows(&rows)
    }
}
