//! This node's membership, kept in step with the store (the Orleans pattern): the node's row is
//! its registration, its heartbeat and its acknowledgement of the epochs it has applied; the
//! live rows make the ring; the epoch counts changes and the log replays them one at a time.
//!
//! It owns three things a request depends on, all read without awaiting:
//! - the view (`view::View`) and the claim rule: may this node answer for an id now;
//! - the lease: a heartbeat that reached the store renews it for the suspicion time minus a
//!   margin; past it, the node answers for no id (self-fence) until a heartbeat lands again,
//!   because by then the others may have declared it dead and given its ids away;
//! - rejoining: a node that finds itself declared dead while alive stops answering, and the
//!   ownership task drops its actors and joins again under a new incarnation.
//!
//! Two loops run here: heartbeats (alone, on the store's membership connection) and polling
//! (reaping silent members, reading the members and acknowledgements). Failure detection by
//! probes and votes is in [`detector`]. It never holds the view's lock across an await.

pub mod detector;
mod health;
mod lease;
mod timing;
pub mod view;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::wire::MemberStatus;
use ringshop_shared::{NodeId, Placed, ShardError, StoreHealth, Unavailable};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::planted::Bug;
use crate::store::{Store, StoreError};

pub use timing::Timing;
pub use view::{Claim, View};

use health::Writes;
use lease::Lease;
use timing::settle;

/// How far past the suspicion time a joining node waits for a name holder's heartbeat to
/// age before asking again (store round trips, and a clock read on another host).
const NAME_MARGIN: Duration = Duration::from_millis(100);

/// Most log rows read in one catch-up; a node further behind treats the gap as unknown.
const MAX_CHANGES: u32 = 10_000;

/// Cheap to clone; every clone is the same membership.
#[derive(Clone)]
pub struct Members {
    inner: Arc<Inner>,
}

struct Inner {
    me: NodeId,
    addr: SocketAddr,
    incarnation: AtomicU64,
    store: Arc<dyn Store>,
    timing: Timing,
    vnodes: u32,
    view: watch::Sender<Arc<View>>,
    refreshing: tokio::sync::Mutex<()>,
    lease: Lease,
    rejoining: AtomicBool,
    /// Set once this node starts leaving: from then on a refused heartbeat means it has left,
    /// not that it was declared dead, and it never rejoins.
    departing: AtomicBool,
    declared_dead: Notify,
    /// What this node's heartbeat writes came to lately.
    writes: Writes,
}

impl Members {
    /// Registers this node (refused if a live member holds the name) and reads the members.
    pub async fn join(
        store: Arc<dyn Store>,
        me: NodeId,
        addr: SocketAddr,
        timing: Timing,
        vnodes: u32,
    ) -> Result<Members, StoreError> {
        let lease = Lease::new();
        let (joined, sent) = join_once_its_old_self_is_gone(&*store, &me, addr, &timing).await?;
        let timing = settle(&*store, &me, timing).await?;
        let view = View::joined(store.membership().await?, vnodes, timing.suspicion);
        tracing::info!(node = %me, incarnation = joined, epoch = view.epoch(), "joined");
        let members = Members {
            inner: Arc::new(Inner {
                me,
                addr,
                incarnation: AtomicU64::new(joined),
                store,
                timing,
                vnodes,
                view: watch::channel(Arc::new(view)).0,
                refreshing: tokio::sync::Mutex::new(()),
                lease,
                rejoining: AtomicBool::new(false),
                departing: AtomicBool::new(false),
                declared_dead: Notify::new(),
                writes: Writes::default(),
            }),
        };
        members.renew(sent);
        members.ack(members.view().epoch()).await?;
        Ok(members)
    }

    pub fn me(&self) -> &NodeId {
        &self.inner.me
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn timing(&self) -> &Timing {
        &self.inner.timing
    }

    /// This node's incarnation: 1 on its first join, one more on each rejoin.
    pub fn incarnation(&self) -> u64 {
        self.inner.incarnation.load(Ordering::Acquire)
    }

    pub fn view(&self) -> Arc<View> {
        self.inner.view.borrow().clone()
    }

    /// Runs `f` on the current view without taking a reference to it (the hot path: no
    /// reference-count traffic). `f` must not block.
    pub fn with_view<T>(&self, f: impl FnOnce(&View) -> T) -> T {
        f(&self.inner.view.borrow())
    }

    /// Whether this node's view still waits for `name` at `incarnation` to let go of its
    /// ids (`view::awaited`): what any other member hands over is void.
    pub fn awaits(&self, name: &NodeId, incarnation: u64) -> bool {
        let suspicion = self.inner.timing.suspicion;
        self.with_view(|v| {
            v.member(name)
                .is_some_and(|m| m.incarnation == incarnation && view::awaited(m, suspicion))
        })
    }

    pub fn subscribe(&self) -> watch::Receiver<Arc<View>> {
        self.inner.view.subscribe()
    }

    /// Whether this node may answer for `id` now: Err while it may not answer for any id.
    pub fn claim<K: Placed + ?Sized>(&self, id: &K) -> Result<Claim, Unavailable> {
        self.serving()?;
        Ok(self.with_view(|view| view.claim(&self.inner.me, id)))
    }

    /// The one ownership check: Ok if this node may answer for `id` now, else the typed
    /// refusal (`Moved`, `Unavailable`, or `ShuttingDown` when nobody owns it).
    pub fn check<K: Placed + ?Sized>(&self, id: &K) -> Result<(), ShardError> {
        let me = &self.inner.me;
        let unavailable = |reason| ShardError::Unavailable {
            node: me.clone(),
            reason,
        };
        match self.claim(id) {
            Ok(Claim::Mine) => Ok(()),
            Ok(Claim::Moved { owner, addr, epoch }) => Err(ShardError::Moved {
                addr: addr.unwrap_or(self.inner.addr),
                owner,
                epoch,
            }),
            Ok(Claim::Held) if crate::planted::on(Bug::ServesBeforeSurrender) => Ok(()),
            Ok(Claim::Held) => Err(unavailable(Unavailable::Transferring)),
            Ok(Claim::NoOwner) => Err(ShardError::ShuttingDown { node: me.clone() }),
            Err(reason) => Err(unavailable(reason)),
        }
    }

    /// Waits until the view changes or a short while passes (a lease may be renewed without
    /// any view change); false if `until` has come.
    pub async fn wait_a_moment(&self, until: Instant) -> bool {
        let now = clock::now();
        if now >= until {
            return false;
        }
        let mut changes = self.subscribe();
        changes.borrow_and_update();
        let nap = (until - now).min(Duration::from_millis(20));
        let _ = tokio::time::timeout(nap, changes.changed()).await;
        true
    }

    /// Ok while the lease holds and the node is not rejoining.
    pub fn serving(&self) -> Result<(), Unavailable> {
        let i = &self.inner;
        if i.rejoining.load(Ordering::Acquire) {
            return Err(Unavailable::Rejoining);
        }
        if !i.lease.holds() && !crate::planted::on(Bug::ServesWithoutLease) {
            return Err(Unavailable::Fenced);
        }
        Ok(())
    }

    /// Renews the lease from `sent`, the moment the heartbeat that reached the store was sent.
    fn renew(&self, sent: Instant) {
        self.inner.lease.renew(sent, self.inner.timing.lease());
    }

    /// What this node's writes to the store come to now.
    pub fn store_health(&self) -> StoreHealth {
        self.inner.writes.health()
    }

    /// Watches this process's own clock until `shutdown` (`Lease::watch_pauses`).
    pub async fn watch_pauses(self, shutdown: CancellationToken) {
        let i = &self.inner;
        i.lease
            .watch_pauses(&i.me, i.timing.heartbeat, shutdown)
            .await
    }

    /// Whether this node has started leaving for good.
    pub fn is_departing(&self) -> bool {
        self.inner.departing.load(Ordering::Acquire)
    }

    /// Whether the cluster declared this node dead and it has not rejoined yet.
    pub fn is_rejoining(&self) -> bool {
        self.inner.rejoining.load(Ordering::Acquire)
    }

    /// Resolves when this node finds itself declared dead.
    pub async fn declared_dead(&self) {
        if self.is_rejoining() {
            return;
        }
        self.inner.declared_dead.notified().await
    }

    fn mark_declared_dead(&self) {
        let i = &self.inner;
        if !i.rejoining.swap(true, Ordering::AcqRel) {
            tracing::error!(node = %i.me, incarnation = self.incarnation(), "declared dead by the cluster while alive; answering for no id until it rejoins");
            i.lease.end();
            i.declared_dead.notify_waiters();
            i.declared_dead.notify_one();
        }
    }

    /// Joins again under a new incarnation, after the caller dropped every actor.
    pub async fn rejoin(&self) -> Result<(), StoreError> {
        let i = &self.inner;
        let _one_at_a_time = i.refreshing.lock().await;
        let sent = clock::now();
        let (joined, view) = register(&*i.store, &i.me, i.addr, &i.timing, i.vnodes).await?;
        let epoch = view.epoch();
        i.incarnation.store(joined, Ordering::Release);
        i.view.send_replace(Arc::new(view));
        self.renew(sent);
        i.rejoining.store(false, Ordering::Release);
        tracing::warn!(node = %i.me, incarnation = joined, epoch, "rejoined under a new incarnation");
        drop(_one_at_a_time);
        self.ack(epoch).await.map(drop)
    }

    /// Records that this node has applied `epoch` and let go of what it lost up to it.
    pub async fn ack(&self, epoch: u64) -> Result<bool, StoreError> {
        let i = &self.inner;
        i.store.ack(&i.me, self.incarnation(), epoch).await
    }

    /// Refreshes first if a caller has seen a newer epoch than this node's view. The common
    /// case (every request asks) touches no reference count.
    pub async fn catch_up(&self, epoch: u64) -> Result<(), StoreError> {
        if epoch <= self.with_view(|view| view.epoch()) {
            return Ok(());
        }
        // Boxed: a store read is a large future, and every request's future would carry it.
        Box::pin(self.refresh()).await.map(drop)
    }

    /// Re-reads the members (and the log since this view) and publishes the next view if the
    /// epoch moved or more of it settled; the newest view.
    pub async fn refresh(&self) -> Result<Arc<View>, StoreError> {
        let i = &self.inner;
        let _one_at_a_time = i.refreshing.lock().await;
        let listing = i.store.membership().await?;
        let current = self.view();
        if listing.epoch < current.epoch() {
            return Ok(current); // a listing older than the view (a replaced database): ignore
        }
        let changes = if listing.epoch > current.epoch() {
            let wanted = (listing.epoch - current.epoch()).min(u64::from(MAX_CHANGES));
            let mut changes = i
                .store
                .changes_since(current.epoch(), wanted as u32)
                .await?;
            changes.retain(|c| c.epoch <= listing.epoch);
            changes
        } else {
            Vec::new()
        };
        let moved = listing.epoch > current.epoch();
        let next = current.next(listing, &changes, i.vnodes, i.timing.suspicion);
        if moved {
            tracing::info!(
                node = %i.me,
                epoch = next.epoch(),
                active = next.ring.len(),
                settled = next.settled,
                "membership changed"
            );
        }
        if moved || next.settled != current.settled {
            i.view.send_replace(Arc::new(next));
        }
        Ok(self.view())
    }

    /// Moves this node to `status` and reads the members again. Leaving (or left) is for
    /// good: the node never rejoins after it.
    pub async fn set_status(&self, status: MemberStatus) -> Result<bool, StoreError> {
        let i = &self.inner;
        if matches!(status, MemberStatus::Leaving | MemberStatus::Left) {
            i.departing.store(true, Ordering::Release);
        }
        let done = i
            .store
            .set_status(&i.me, self.incarnation(), status)
            .await?;
        self.refresh().await?;
        Ok(done)
    }

    /// Heartbeats until `shutdown`. A heartbeat the store refuses means this incarnation was
    /// declared dead: the node stops answering and waits to be rejoined.
    pub async fn heartbeats(self, shutdown: CancellationToken) {
        let i = &self.inner;
        let mut tick = tokio::time::interval(i.timing.heartbeat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            if self.is_rejoining() {
                continue;
            }
            let incarnation = self.incarnation();
            let sent = clock::now();
            let beat = i.store.heartbeat(&i.me, incarnation);
            let beat = tokio::time::timeout(i.timing.suspicion, beat).await;
            match &beat {
                Ok(Ok(_)) => i.writes.note(&i.me, i.timing.margin(), Ok(())),
                Ok(Err(e)) => i.writes.note(&i.me, i.timing.margin(), Err(e)),
                Err(_) => i.writes.note(
                    &i.me,
                    i.timing.margin(),
                    Err(&StoreError::Query {
                        what: "heartbeating",
                        reason: "the write took longer than the suspicion time".into(),
                    }),
                ),
            }
            match beat {
                Ok(Ok(true)) => self.renew(sent),
                // It has left: nothing to renew, nothing to rejoin.
                Ok(Ok(false)) if i.departing.load(Ordering::Acquire) => return,
                Ok(Ok(false)) if incarnation == self.incarnation() => self.mark_declared_dead(),
                Ok(Ok(false)) => {}       // it rejoined meanwhile
                Ok(Err(_)) | Err(_) => {} // noted above
            }
        }
    }

    /// Reaps silent members and reads the members until `shutdown`: every `poll`, and more
    /// often while an epoch is settling.
    pub async fn poll(self, shutdown: CancellationToken) {
        let i = &self.inner;
        let mut last_reap: Option<Instant> = None;
        loop {
            let every = if self.with_view(View::is_settled) {
                i.timing.poll
            } else {
                i.timing.settling_poll()
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            // Reaping every `poll` finds a silent member within the suspicion time plus one
            // poll; it is one idempotent statement (a write: not at the faster settling pace).
            // A reaped member's lease has run out.
            if last_reap.is_none_or(|at| at.elapsed() >= i.timing.poll)
                && i.writes.may_reap(i.timing.suspicion)
            {
                last_reap = Some(clock::now());
                match i.store.reap(i.timing.suspicion).await {
                    Ok(reaped) if !reaped.is_empty() => {
                        tracing::warn!(node = %i.me, ?reaped, "members went silent; marked dead");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(node = %i.me, error = %e, "reaping failed"),
                }
            }
            if let Err(e) = self.refresh().await {
                tracing::warn!(node = %i.me, error = %e, "reading the members failed");
            }
        }
    }
}

/// Joins through the store: the incarnation, and when the accepted join was sent (the lease
/// runs from there). A node restarted right after it crashed finds its old self's heartbeat
/// still fresh and its name taken: it waits once until that heartbeat would be older than the
/// suspicion time and asks again. A live holder renews it meanwhile and the second ask is
/// refused (`NameTaken`, for the caller to report); a dead one is past it and the name is
/// this node's, under a new incarnation.
async fn join_once_its_old_self_is_gone(
    store: &dyn Store,
    me: &NodeId,
    addr: SocketAddr,
    timing: &Timing,
) -> Result<(u64, Instant), StoreError> {
    let sent = clock::now();
    match store.join(me, addr, timing.suspicion).await {
        Ok(joined) => return Ok((joined.incarnation, sent)),
        Err(StoreError::NameTaken {
            addr: held_by,
            heartbeat_age,
            ..
        }) => {
            let wait = timing.suspicion.saturating_sub(heartbeat_age) + NAME_MARGIN;
            tracing::info!(node = %me, %held_by, heartbeat_age_ms = heartbeat_age.as_millis() as u64, wait_ms = wait.as_millis() as u64, "the name is held by a node with a fresh heartbeat; waiting to see whether it is gone");
            tokio::time::sleep(wait).await;
        }
        Err(e) => return Err(e),
    }
    let sent = clock::now();
    let joined = store.join(me, addr, timing.suspicion).await?;
    Ok((joined.incarnation, sent))
}

/// Joins through the store and reads the view right after: (incarnation, view).
async fn register(
    store: &dyn Store,
    me: &NodeId,
    addr: SocketAddr,
    timing: &Timing,
    vnodes: u32,
) -> Result<(u64, View), StoreError> {
    let joined = store.join(me, addr, timing.suspicion).await?;
    let listing = store.membership().await?;
    Ok((
        joined.incarnation,
        View::joined(listing, vnodes, timing.suspicion),
    ))
}

#[cfg(test)]
#[path = "membership/join_tests.rs"]
mod tests;
