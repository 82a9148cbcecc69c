//! The membership's SQL on SQLite: registration, heartbeats, status changes, reaping, votes,
//! acknowledgements and the change log. These writes go through their own connection
//! (`SqliteStore::members`), so a heartbeat never waits in line behind shop writes.

use std::net::SocketAddr;
use std::time::Duration;

use ringshop_shared::NodeId;
use ringshop_shared::wire::{Member, MemberStatus, Membership};
use sqlx::Row;

use super::sqlite::{SqliteStore, query_error};
use super::{Change, Joined, Millis, StoreError};

/// The statuses of a member that may still serve (or is about to).
const LIVE: &str = "('joining', 'active', 'leaving')";

impl SqliteStore {
    pub(super) async fn join_impl(
        &self,
        name: &NodeId,
        addr: SocketAddr,
        now: Millis,
        stale_before: Millis,
    ) -> Result<Joined, StoreError> {
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
        let holder = sqlx::query("SELECT addr, heartbeat_ms FROM members WHERE name = ?1")
            .bind(name.as_str())
            .fetch_one(&self.reader)
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

    pub(super) async fn heartbeat_impl(
        &self,
        name: &NodeId,
        incarnation: u64,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let set = "heartbeat_ms = MAX(heartbeat_ms, ?3)";
        self.update_live("heartbeating", set, name, incarnation, now)
            .await
    }

    pub(super) async fn ack_impl(
        &self,
        name: &NodeId,
        incarnation: u64,
        epoch: u64,
    ) -> Result<bool, StoreError> {
        let set = "acked_epoch = MAX(acked_epoch, ?3)";
        let epoch = i64::try_from(epoch).unwrap_or(i64::MAX);
        self.update_live("acknowledging an epoch", set, name, incarnation, epoch)
            .await
    }

    pub(super) async fn set_status_impl(
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

    pub(super) async fn reap_impl(&self, stale_before: Millis) -> Result<Vec<NodeId>, StoreError> {
        let sql = format!(
            "UPDATE members SET status = 'dead'
             WHERE status IN {LIVE} AND heartbeat_ms < ?1 RETURNING name"
        );
        let rows = sqlx::query(&sql)
            .bind(stale_before)
            .fetch_all(&self.members)
            .await
            .map_err(query_error("marking silent members dead"))?;
        Ok(rows
            .iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok())
            .filter_map(|n| NodeId::new(n).ok())
            .collect())
    }

    pub(super) async fn vote_impl(
        &self,
        target: &NodeId,
        incarnation: u64,
        voter: &NodeId,
        now: Millis,
        window_ms: Millis,
        needed: u32,
    ) -> Result<bool, StoreError> {
        let inc = incarnation as i64;
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
        .bind(now.saturating_sub(window_ms))
        .fetch_one(&self.members)
        .await
        .map_err(query_error("counting votes"))?;
        if votes >= i64::from(needed.max(1)) {
            self.set_status_impl(target, incarnation, MemberStatus::Dead)
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

    pub(super) async fn epoch_impl(&self) -> Result<u64, StoreError> {
        let epoch: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'epoch'")
            .fetch_one(&self.reader)
            .await
            .map_err(query_error("reading the epoch"))?;
        Ok(epoch.max(0) as u64)
    }

    pub(super) async fn membership_impl(&self, now: Millis) -> Result<Membership, StoreError> {
        // One statement, so the rows and the epoch come from one snapshot.
        let rows = sqlx::query(
            "SELECT meta.value, m.name, m.addr, m.incarnation, m.status, m.heartbeat_ms,
                    m.acked_epoch
             FROM meta LEFT JOIN members m ON 1 = 1
             WHERE meta.key = 'epoch' ORDER BY m.name",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(query_error("reading the members"))?;
        let mut membership = Membership::default();
        for row in rows {
            membership.epoch = row.try_get::<i64, _>(0).map_or(0, |e| e.max(0) as u64);
            let Ok(Some(name)) = row.try_get::<Option<String>, _>(1) else {
                continue; // no members yet: the LEFT JOIN's empty row
            };
            match member_from_row(&row, &name, now) {
                Some(member) => membership.members.push(member),
                None => tracing::warn!(%name, "skipping a malformed member row"),
            }
        }
        Ok(membership)
    }

    pub(super) async fn changes_since_impl(
        &self,
        epoch: u64,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(
            "SELECT epoch, name, addr, incarnation, status FROM members_log
             WHERE epoch > ?1 ORDER BY epoch LIMIT ?2",
        )
        .bind(i64::try_from(epoch).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(query_error("reading the membership log"))?;
        rows.iter()
            .map(|row| {
                change_from_row(row).ok_or(StoreError::Query {
                    what: "reading the membership log",
                    reason: "a malformed row in members_log".into(),
                })
            })
            .collect()
    }
}

fn change_from_row(row: &sqlx::sqlite::SqliteRow) -> Option<Change> {
    let epoch: i64 = row.try_get(0).ok()?;
    let name: String = row.try_get(1).ok()?;
    let addr: String = row.try_get(2).ok()?;
    let incarnation: i64 = row.try_get(3).ok()?;
    let status: String = row.try_get(4).ok()?;
    Some(Change {
        epoch: u64::try_from(epoch).ok()?,
        name: NodeId::new(name).ok()?,
        addr: addr.parse().ok()?,
        incarnation: u64::try_from(incarnation).ok()?,
        status: MemberStatus::parse(&status)?,
    })
}

fn member_from_row(row: &sqlx::sqlite::SqliteRow, name: &str, now: Millis) -> Option<Member> {
    let addr: String = row.try_get(2).ok()?;
    let incarnation: i64 = row.try_get(3).ok()?;
    let status: String = row.try_get(4).ok()?;
    let beat: i64 = row.try_get(5).ok()?;
    let acked: i64 = row.try_get(6).ok()?;
    Some(Member {
        name: NodeId::new(name).ok()?,
        addr: addr.parse().ok()?,
        incarnation: incarnation.max(0) as u64,
        status: MemberStatus::parse(&status)?,
        heartbeat_age: Duration::from_millis(now.saturating_sub(beat).max(0) as u64),
        acked_epoch: acked.max(0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use std::net::SocketAddr;

    fn n(name: &str) -> NodeId {
        NodeId::new(name).expect("valid")
    }

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    async fn fresh() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("opens");
        (dir, store)
    }

    #[tokio::test]
    async fn a_join_bumps_the_epoch_and_lists_the_member_active() {
        let (_dir, store) = fresh().await;
        assert_eq!(store.epoch().await.expect("epoch"), 0);
        let joined = store
            .join(&n("n1"), addr(7001), 1_000, 0)
            .await
            .expect("joins");
        assert_eq!(joined.incarnation, 1);
        let m = store.membership(1_250).await.expect("members");
        assert_eq!(m.epoch, 1);
        assert_eq!(m.members.len(), 1);
        assert_eq!(m.members[0].status, MemberStatus::Active);
        assert_eq!(m.members[0].addr, addr(7001));
        assert_eq!(m.members[0].heartbeat_age, Duration::from_millis(250));
    }

    #[tokio::test]
    async fn a_live_name_is_refused_naming_its_holder() {
        let (_dir, store) = fresh().await;
        store
            .join(&n("n1"), addr(7001), 10_000, 0)
            .await
            .expect("joins");
        let err = store
            .join(&n("n1"), addr(7009), 10_300, 10_300 - 2_000)
            .await
            .expect_err("taken");
        let text = err.to_string();
        assert!(matches!(err, StoreError::NameTaken { .. }));
        assert!(
            text.contains("n1") && text.contains("127.0.0.1:7001") && text.contains("300 ms"),
            "{text}"
        );
        assert_eq!(
            store.epoch().await.expect("epoch"),
            1,
            "a refusal changes nothing"
        );
    }

    #[tokio::test]
    async fn a_stale_or_departed_name_can_be_taken_with_a_new_incarnation() {
        let (_dir, store) = fresh().await;
        store
            .join(&n("n1"), addr(7001), 10_000, 0)
            .await
            .expect("joins");
        let again = store
            .join(&n("n1"), addr(7002), 13_000, 11_000)
            .await
            .expect("stale holder");
        assert_eq!(again.incarnation, 2);
        assert!(
            store
                .set_status(&n("n1"), 2, MemberStatus::Left)
                .await
                .expect("leaves")
        );
        let third = store
            .join(&n("n1"), addr(7003), 13_100, 11_100)
            .await
            .expect("left holder");
        assert_eq!(third.incarnation, 3);
    }

    #[tokio::test]
    async fn heartbeats_of_an_old_incarnation_are_refused() {
        let (_dir, store) = fresh().await;
        store
            .join(&n("n1"), addr(7001), 10_000, 0)
            .await
            .expect("joins");
        assert!(store.heartbeat(&n("n1"), 1, 10_500).await.expect("beats"));
        assert!(!store.heartbeat(&n("n1"), 7, 10_500).await.expect("answers"));
        assert!(store.mark_dead(&n("n1"), 1).await.expect("voted dead"));
        assert!(
            !store.heartbeat(&n("n1"), 1, 11_000).await.expect("answers"),
            "dead stays dead"
        );
    }

    #[tokio::test]
    async fn reap_marks_only_silent_members_dead_and_bumps_the_epoch() {
        let (_dir, store) = fresh().await;
        store
            .join(&n("n1"), addr(7001), 10_000, 0)
            .await
            .expect("joins");
        store
            .join(&n("n2"), addr(7002), 10_000, 0)
            .await
            .expect("joins");
        store.heartbeat(&n("n2"), 1, 12_000).await.expect("beats");
        let before = store.epoch().await.expect("epoch");
        let reaped = store.reap(12_000 - 1_500).await.expect("reaps");
        assert_eq!(reaped, vec![n("n1")]);
        assert_eq!(store.epoch().await.expect("epoch"), before + 1);
        assert!(
            store.reap(12_000 - 1_500).await.expect("reaps").is_empty(),
            "idempotent"
        );
    }

    #[tokio::test]
    async fn every_change_is_logged_once_with_its_epoch_so_a_member_can_replay_them() {
        let (_dir, store) = fresh().await;
        store
            .join(&n("n1"), addr(7001), 10_000, 0)
            .await
            .expect("joins");
        store
            .join(&n("n2"), addr(7002), 10_000, 0)
            .await
            .expect("joins");
        store.heartbeat(&n("n1"), 1, 10_400).await.expect("beats");
        store
            .set_status(&n("n2"), 1, MemberStatus::Leaving)
            .await
            .expect("leaves");
        store
            .set_status(&n("n2"), 1, MemberStatus::Left)
            .await
            .expect("left");
        let changes = store.changes_since(0, 100).await.expect("log");
        let seen: Vec<(u64, &str, MemberStatus)> = changes
            .iter()
            .map(|c| (c.epoch, c.name.as_str(), c.status))
            .collect();
        assert_eq!(
            seen,
            [
                (1, "n1", MemberStatus::Active),
                (2, "n2", MemberStatus::Active),
                (3, "n2", MemberStatus::Leaving),
                (4, "n2", MemberStatus::Left),
            ],
            "a heartbeat is not a change"
        );
        assert_eq!(store.changes_since(2, 1).await.expect("log").len(), 1);
        assert_eq!(store.epoch().await.expect("epoch"), 4);
    }

    #[tokio::test]
    async fn acknowledgements_only_move_forward_and_a_rejoin_starts_them_again() {
        let (_dir, store) = fresh().await;
        store
            .join(&n("n1"), addr(7001), 10_000, 0)
            .await
            .expect("joins");
        assert!(store.ack(&n("n1"), 1, 5).await.expect("acks"));
        assert!(store.ack(&n("n1"), 1, 3).await.expect("acks"));
        let acked = |m: &Membership| m.members[0].acked_epoch;
        assert_eq!(acked(&store.membership(10_000).await.expect("m")), 5);
        assert!(
            !store.ack(&n("n1"), 9, 6).await.expect("answers"),
            "another incarnation"
        );
        store.mark_dead(&n("n1"), 1).await.expect("dead");
        let again = store
            .join(&n("n1"), addr(7001), 11_000, 0)
            .await
            .expect("rejoins");
        assert_eq!(again.incarnation, 2);
        assert_eq!(acked(&store.membership(11_000).await.expect("m")), 0);
    }

    #[tokio::test]
    async fn heartbeats_never_go_back_in_time() {
        let (_dir, store) = fresh().await;
        store
            .join(&n("n1"), addr(7001), 10_000, 0)
            .await
            .expect("joins");
        store.heartbeat(&n("n1"), 1, 12_000).await.expect("beats");
        store.heartbeat(&n("n1"), 1, 11_000).await.expect("beats");
        let m = store.membership(12_500).await.expect("members");
        assert_eq!(m.members[0].heartbeat_age, Duration::from_millis(500));
    }

    #[tokio::test]
    async fn a_member_is_dead_only_once_enough_members_voted_within_the_window() {
        let (_dir, store) = fresh().await;
        for (i, name) in ["n1", "n2", "n3"].iter().enumerate() {
            store
                .join(&n(name), addr(7001 + i as u16), 10_000, 0)
                .await
                .expect("joins");
        }
        assert!(
            !store
                .vote(&n("n3"), 1, &n("n1"), 10_000, 5_000, 2)
                .await
                .expect("votes")
        );
        assert!(
            !store
                .vote(&n("n3"), 1, &n("n1"), 10_100, 5_000, 2)
                .await
                .expect("votes"),
            "one voter twice is one vote"
        );
        assert!(
            !store
                .vote(&n("n3"), 1, &n("n2"), 16_000, 5_000, 2)
                .await
                .expect("votes"),
            "n1's vote has run out"
        );
        assert!(
            store
                .vote(&n("n3"), 1, &n("n1"), 16_100, 5_000, 2)
                .await
                .expect("votes")
        );
        let m = store.membership(16_100).await.expect("members");
        let n3 = m
            .members
            .iter()
            .find(|m| m.name.as_str() == "n3")
            .expect("n3");
        assert_eq!(n3.status, MemberStatus::Dead);
    }
}
