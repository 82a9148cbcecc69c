//! One node's view of the membership, and the rule that decides whether it may answer for an
//! id (`View::claim`). Pure: no I/O, no clock, so the rule is tested directly.
//!
//! The rule, which makes "at no instant do two live nodes answer for one id" hold while the
//! ring changes: a node answers for an id only if it owns the id in the current ring AND in
//! every ring since the last epoch every live member has acknowledged (`settled`). A member
//! acknowledges an epoch only after it has applied it and let go of every id it lost up to it,
//! so once all have acknowledged epoch E, none of them answers for an id it does not own at E.
//! An id this node gained after `settled` is therefore held (`Claim::Held`) until the others
//! have let go of it; an id it owned throughout is answered at once. Epochs are replayed one
//! at a time from the store's log, so an owner in between two polls is never skipped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ringshop_shared::wire::{Member, MemberStatus, Membership};
use ringshop_shared::{NodeId, Placed, Ring};

use crate::store::Change;

/// What this node may do with one id now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// It owns the id and nobody else may answer for it: answer.
    Mine,
    /// Another member owns it.
    Moved {
        owner: NodeId,
        addr: Option<SocketAddr>,
        epoch: u64,
    },
    /// It owns the id now, but a member that owned it since the settled epoch may not have let
    /// go of it yet: wait, never compute.
    Held,
    /// Nobody owns it (the ring is empty, or this node is leaving).
    NoOwner,
}

/// One consistent reading of the membership, the ring built from it, and the rings of the
/// epochs not yet settled.
#[derive(Debug)]
pub struct View {
    pub membership: Membership,
    pub ring: Arc<Ring>,
    /// (last epoch it was in effect, ring) for the epochs from `settled` up to the current
    /// one, oldest first; empty once the current epoch is settled.
    unsettled: Vec<(u64, Arc<Ring>)>,
    /// Every member that may still serve has acknowledged this epoch.
    pub settled: u64,
}

impl View {
    /// The view of a node that has just joined at `membership.epoch`: it owns nothing before
    /// that epoch, so every id it owns is held until the others acknowledge the join.
    pub fn joined(membership: Membership, vnodes: u32, suspicion: Duration) -> View {
        let ring = Arc::new(ring_of(&membership, vnodes));
        let before = membership.epoch.saturating_sub(1);
        let nothing = vec![(before, Arc::new(Ring::new(vnodes)))];
        View::settle(membership, ring, nothing, suspicion)
    }

    pub fn epoch(&self) -> u64 {
        self.membership.epoch
    }

    /// Whether `me` may answer for `id` under this view.
    pub fn claim<K: Placed + ?Sized>(&self, me: &NodeId, id: &K) -> Claim {
        match self.ring.owner(id) {
            None => Claim::NoOwner,
            Some(owner) if owner != me => Claim::Moved {
                owner: owner.clone(),
                addr: self.addr_of(owner),
                epoch: self.epoch(),
            },
            Some(_) => {
                if self
                    .unsettled
                    .iter()
                    .all(|(_, ring)| ring.owner(id) == Some(me))
                {
                    Claim::Mine
                } else {
                    Claim::Held
                }
            }
        }
    }

    /// Whether `me` lost `id` at some epoch after `since` (the last epoch it let go at): it does
    /// not own it now, or another member owned it in between. An actor for an id gained
    /// since then (adopted while the id is held) is not lost.
    pub fn lost<K: Placed + ?Sized>(&self, me: &NodeId, id: &K, since: u64) -> bool {
        self.ring.owner(id) != Some(me)
            || self
                .unsettled
                .iter()
                .any(|(last, ring)| *last > since && ring.owner(id) != Some(me))
    }

    /// Where an entry this node lets go of may be handed: the current owner, if no third
    /// member owned the id since the settled epoch (that one may have answered meanwhile, and
    /// its entry would be the newer one).
    pub fn heir<K: Placed + ?Sized>(&self, me: &NodeId, id: &K) -> Option<&NodeId> {
        let heir = self.ring.owner(id).filter(|owner| *owner != me)?;
        let clear = self.unsettled.iter().all(|(_, ring)| {
            ring.owner(id)
                .is_none_or(|owner| owner == me || owner == heir)
        });
        clear.then_some(heir)
    }

    pub fn member(&self, name: &NodeId) -> Option<&Member> {
        self.membership.members.iter().find(|m| &m.name == name)
    }

    pub fn addr_of(&self, name: &NodeId) -> Option<SocketAddr> {
        self.member(name).map(|m| m.addr)
    }

    /// The next view, from a fresh listing and the log of changes since this view's epoch.
    /// `changes` must be the changes right after this epoch up to the listing's; if they are
    /// not (a gap in the log), no ring in between can be known, and every id is held until
    /// the listing's epoch settles.
    pub fn next(
        &self,
        listing: Membership,
        changes: &[Change],
        vnodes: u32,
        suspicion: Duration,
    ) -> View {
        let mut unsettled = self.unsettled.clone();
        let (mut last, mut last_epoch) = (self.ring.clone(), self.epoch());
        if listing.epoch > self.epoch() {
            if replays(self.epoch(), listing.epoch, changes) {
                let mut members = self.membership.members.clone();
                for change in changes {
                    apply(&mut members, change);
                    push(&mut unsettled, last_epoch, &last);
                    last_epoch = change.epoch;
                    last = Arc::new(ring_from(members.iter(), vnodes));
                }
            } else {
                unsettled = vec![(listing.epoch - 1, Arc::new(Ring::new(vnodes)))];
            }
        }
        if listing.epoch <= self.epoch() {
            // Same epoch: keep the ring this view already has (built once per change, not
            // once per poll of the listing).
            return View::settle(listing, self.ring.clone(), unsettled, suspicion);
        }
        let ring = Arc::new(ring_of(&listing, vnodes));
        View::settle(listing, ring, unsettled, suspicion)
    }

    fn settle(
        membership: Membership,
        ring: Arc<Ring>,
        mut unsettled: Vec<(u64, Arc<Ring>)>,
        suspicion: Duration,
    ) -> View {
        let settled = settled_epoch(&membership, suspicion);
        unsettled.retain(|(last, _)| *last >= settled);
        View {
            membership,
            ring,
            unsettled,
            settled,
        }
    }

    /// Whether an id gained since `settled` could still be held.
    pub fn is_settled(&self) -> bool {
        self.unsettled.is_empty()
    }
}

/// Every member that may still answer for ids has acknowledged this epoch: the live ones,
/// and the dead ones whose lease has not run out yet (voted dead while alive; they fence
/// themselves within the suspicion time of their last heartbeat). Members that left have
/// stopped answering before they said so.
pub fn settled_epoch(m: &Membership, suspicion: Duration) -> u64 {
    m.members
        .iter()
        .filter(|member| awaited(member, suspicion))
        .map(|member| member.acked_epoch)
        .min()
        .unwrap_or(m.epoch)
        .min(m.epoch)
}

/// Whether new owners wait for `member` to let go (`settled_epoch`): it is live, or was
/// declared dead and its lease may not have run out yet. What a member that is not awaited
/// hands over is void: its ids may have been answered by their new owners since.
pub fn awaited(member: &Member, suspicion: Duration) -> bool {
    match member.status {
        MemberStatus::Joining | MemberStatus::Active | MemberStatus::Leaving => true,
        MemberStatus::Dead => member.heartbeat_age < suspicion,
        MemberStatus::Left => false,
    }
}

fn replays(from: u64, to: u64, changes: &[Change]) -> bool {
    changes.len() as u64 == to - from
        && changes
            .iter()
            .zip(from + 1..)
            .all(|(c, epoch)| c.epoch == epoch)
}

fn apply(members: &mut Vec<Member>, change: &Change) {
    match members.iter_mut().find(|m| m.name == change.name) {
        Some(m) => {
            m.addr = change.addr;
            m.incarnation = change.incarnation;
            m.status = change.status;
        }
        None => members.push(Member {
            name: change.name.clone(),
            addr: change.addr,
            incarnation: change.incarnation,
            status: change.status,
            heartbeat_age: Duration::ZERO,
            acked_epoch: 0,
        }),
    }
}

/// Appends the ring in effect up to `epoch`, merging it with the previous entry when the
/// member set did not change.
fn push(unsettled: &mut Vec<(u64, Arc<Ring>)>, epoch: u64, ring: &Arc<Ring>) {
    if let Some((last, prev)) = unsettled.last_mut()
        && prev.members().eq(ring.members())
        && prev.len() == ring.len()
    {
        *last = (*last).max(epoch);
        return;
    }
    unsettled.push((epoch, ring.clone()));
}

fn ring_from<'a>(members: impl Iterator<Item = &'a Member>, vnodes: u32) -> Ring {
    Ring::with_members(
        vnodes,
        members
            .filter(|m| m.status.in_ring())
            .map(|m| m.name.clone()),
    )
}

fn ring_of(m: &Membership, vnodes: u32) -> Ring {
    ring_from(m.members.iter(), vnodes)
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
