//! This node's view of the membership, kept in step with the store (the Orleans pattern): the
//! node's row is its registration and heartbeat; the live rows make the ring; the epoch
//! counts changes.
//!
//! The loop here heartbeats, reaps members whose heartbeats stopped (any node may; the write is
//! one idempotent statement), and polls the epoch, re-reading the members when it moves. A
//! node whose own row was declared dead stops itself: another node may own its name now.
//! It must never hold the view's lock across an await (it is a `watch` channel).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ringshop_shared::wire::{Member, MemberStatus, Membership};
use ringshop_shared::{NodeId, Ring};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::store::{Store, StoreError, now_ms};

/// Timing of the membership protocol.
#[derive(Clone, Debug)]
pub struct Timing {
    /// How often a node writes its heartbeat.
    pub heartbeat: Duration,
    /// A member silent this long counts as dead.
    pub suspicion: Duration,
    /// How often a node polls the epoch.
    pub poll: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            heartbeat: Duration::from_millis(500),
            suspicion: Duration::from_secs(2),
            poll: Duration::from_millis(100),
        }
    }
}

/// One consistent reading of the membership and the ring built from it.
#[derive(Debug)]
pub struct View {
    pub membership: Membership,
    pub ring: Ring,
}

impl View {
    fn new(membership: Membership, vnodes: u32) -> View {
        let ring = Ring::with_members(vnodes, membership.active().map(|m| m.name.clone()));
        View { membership, ring }
    }

    pub fn epoch(&self) -> u64 {
        self.membership.epoch
    }

    pub fn member(&self, name: &NodeId) -> Option<&Member> {
        self.membership.members.iter().find(|m| &m.name == name)
    }

    pub fn addr_of(&self, name: &NodeId) -> Option<SocketAddr> {
        self.member(name).map(|m| m.addr)
    }
}

/// Cheap to clone; every clone is the same membership.
#[derive(Clone)]
pub struct Members {
    inner: Arc<Inner>,
}

struct Inner {
    me: NodeId,
    incarnation: u64,
    store: Arc<dyn Store>,
    timing: Timing,
    vnodes: u32,
    view: watch::Sender<Arc<View>>,
    refreshing: tokio::sync::Mutex<()>,
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
        let now = now_ms();
        let stale_before = now - timing.suspicion.as_millis() as i64;
        let joined = store.join(&me, addr, now, stale_before).await?;
        let membership = store.membership(now_ms()).await?;
        let (view, _) = watch::channel(Arc::new(View::new(membership, vnodes)));
        tracing::info!(node = %me, incarnation = joined.incarnation, "joined");
        Ok(Members {
            inner: Arc::new(Inner {
                me,
                incarnation: joined.incarnation,
                store,
                timing,
                vnodes,
                view,
                refreshing: tokio::sync::Mutex::new(()),
            }),
        })
    }

    pub fn me(&self) -> &NodeId {
        &self.inner.me
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn view(&self) -> Arc<View> {
        self.inner.view.borrow().clone()
    }

    /// Runs `f` on the current view without taking a reference to it (the hot path: no
    /// reference-count traffic). `f` must not block.
    pub fn with_view<T>(&self, f: impl FnOnce(&View) -> T) -> T {
        f(&self.inner.view.borrow())
    }

    pub fn subscribe(&self) -> watch::Receiver<Arc<View>> {
        self.inner.view.subscribe()
    }

    /// Re-reads the members now and publishes them if the epoch moved; the newest view.
    pub async fn refresh(&self) -> Result<Arc<View>, StoreError> {
        let _one_at_a_time = self.inner.refreshing.lock().await;
        let membership = self.inner.store.membership(now_ms()).await?;
        if membership.epoch > self.view().epoch() {
            tracing::info!(
                node = %self.inner.me,
                epoch = membership.epoch,
                active = membership.active().count(),
                "membership changed"
            );
            self.inner
                .view
                .send_replace(Arc::new(View::new(membership, self.inner.vnodes)));
        }
        Ok(self.view())
    }

    /// Moves this node to `status` and reads the members again.
    pub async fn set_status(&self, status: MemberStatus) -> Result<bool, StoreError> {
        let i = &self.inner;
        let done = i.store.set_status(&i.me, i.incarnation, status).await?;
        self.refresh().await?;
        Ok(done)
    }

    /// Marks `name` dead at once (it was voted dead); true if this call did it.
    pub async fn vote_dead(&self, name: &NodeId) -> Result<bool, StoreError> {
        let Some(incarnation) = self.view().member(name).map(|m| m.incarnation) else {
            return Ok(false);
        };
        let done = self.inner.store.mark_dead(name, incarnation).await?;
        self.refresh().await?;
        Ok(done)
    }

    /// Heartbeats, reaps and polls until `shutdown`; cancels `evicted` (and returns) if this
    /// node's own row is no longer live.
    pub async fn run(self, shutdown: CancellationToken, evicted: CancellationToken) {
        let i = &self.inner;
        let mut tick = tokio::time::interval(i.timing.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_beat = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            if last_beat.elapsed() >= i.timing.heartbeat {
                last_beat = tokio::time::Instant::now();
                match i.store.heartbeat(&i.me, i.incarnation, now_ms()).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!(node = %i.me, "this node was declared dead by the cluster; stopping");
                        evicted.cancel();
                        return;
                    }
                    Err(e) => tracing::warn!(node = %i.me, error = %e, "heartbeat failed"),
                }
            }
            // Reaping every tick (not every heartbeat) finds a silent member within the
            // suspicion timeout plus one tick; it is one idempotent statement.
            let stale_before = now_ms() - i.timing.suspicion.as_millis() as i64;
            match i.store.reap(stale_before).await {
                Ok(reaped) if !reaped.is_empty() => {
                    tracing::warn!(node = %i.me, ?reaped, "members went silent; marked dead");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(node = %i.me, error = %e, "reaping failed"),
            }
            match i.store.epoch().await {
                Ok(epoch) if epoch != self.view().epoch() => {
                    if let Err(e) = self.refresh().await {
                        tracing::warn!(node = %i.me, error = %e, "reading the members failed");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(node = %i.me, error = %e, "reading the epoch failed"),
            }
        }
    }
}
