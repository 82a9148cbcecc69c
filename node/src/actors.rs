//! The demo's per-id actors on one node: asking, surrendering and adopting entries, and the
//! node's counters. The race-free life of an actor is `Mailboxes`'s; this file only starts
//! actors on the mailboxes it is handed. It never answers with a value past its TTL, and every
//! actor checks in its own turn that this node may answer for its id (`Claims`).
//! Mailboxes are unbounded: what can queue is bounded by tarpc's cap on requests in flight per
//! connection (`MAX_IN_FLIGHT_PER_CONNECTION`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ringshop_shared::{Cached, Handed, NodeId, NodeStats, Placed, ShardError};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actor::{self, Ask, Kept};
use crate::mailboxes::{Mailboxes, NewMailbox};
use crate::membership::Members;

/// Whether this node may answer for an id now: Ok, or the typed refusal to answer with
/// (`Moved`, `Unavailable`, `ShuttingDown`). Asked inside every actor turn.
pub trait Claims: Send + Sync + 'static {
    fn check(&self, id: &dyn Placed) -> Result<(), ShardError>;
}

impl Claims for Members {
    fn check(&self, id: &dyn Placed) -> Result<(), ShardError> {
        Members::check(self, id)
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub retirements: AtomicU64,
    pub handed_off: AtomicU64,
    pub adopted: AtomicU64,
    pub activations: AtomicU64,
    pub adopt_rejected: AtomicU64,
    pub handoffs_failed: AtomicU64,
}

pub(crate) struct Shared {
    pub node: NodeId,
    pub ttl: Duration,
    pub counters: Counters,
    pub shutdown: CancellationToken,
    pub mailboxes: Mailboxes<u64, Ask>,
    pub claims: Arc<dyn Claims>,
    tracker: TaskTracker,
    started: Instant,
}

/// Cheap to clone; every clone is the same registry.
#[derive(Clone)]
pub struct Registry {
    shared: Arc<Shared>,
}

impl Registry {
    pub fn new(
        node: NodeId,
        ttl: Duration,
        claims: Arc<dyn Claims>,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> Registry {
        Registry {
            shared: Arc::new(Shared {
                node,
                ttl,
                counters: Counters::default(),
                shutdown,
                mailboxes: Mailboxes::default(),
                claims,
                tracker,
                started: Instant::now(),
            }),
        }
    }

    /// One ask of `id`'s actor (spawned if there is none): Ok(None) when the actor went away
    /// before answering (it retired or surrendered meanwhile; ask again), Err when this node
    /// may not answer for the id now.
    pub async fn ask(&self, id: u64) -> Result<Option<Cached>, ShardError> {
        if self.shared.shutdown.is_cancelled() {
            return Err(ShardError::ShuttingDown {
                node: self.shared.node.clone(),
            });
        }
        let (reply, answer) = oneshot::channel();
        if let Some(new) = self.shared.mailboxes.post(&id, Ask::Get(reply)) {
            self.spawn(id, new, None);
        }
        answer.await.ok().transpose()
    }

    /// Takes `id`'s actor out of the registry and its entry with it (None if it had none or
    /// it was past its TTL). Asks queued before this one are still answered first.
    pub async fn surrender(&self, id: u64) -> Option<Handed> {
        let (reply, answer) = oneshot::channel();
        if !self.shared.mailboxes.take(&id, Ask::Surrender(reply)) {
            return None;
        }
        let handed = answer.await.ok().flatten();
        if handed.is_some() {
            self.shared
                .counters
                .handed_off
                .fetch_add(1, Ordering::Relaxed);
        }
        handed
    }

    /// Stops every actor without handing anything over (this node was declared dead).
    pub async fn drop_all(&self) {
        for id in self.ids() {
            self.surrender(id).await;
        }
    }

    /// Starts an actor that keeps an entry handed over by another node, unless `id` has an
    /// actor here already (then the one here wins: it may have answered someone). An entry
    /// that fails `Handed::check` against this node's TTL is refused (`Err`, with why).
    pub fn adopt(&self, handed: &Handed) -> Result<bool, String> {
        let checked = handed
            .check(self.shared.ttl)
            .and_then(|()| Kept::adopted(handed).ok_or_else(|| "times overflow".to_string()));
        let kept = match checked {
            Ok(kept) => kept,
            Err(why) => {
                self.shared
                    .counters
                    .adopt_rejected
                    .fetch_add(1, Ordering::Relaxed);
                return Err(why);
            }
        };
        if self.shared.shutdown.is_cancelled() {
            return Ok(false);
        }
        let Some(new) = self.shared.mailboxes.create(&handed.id) else {
            return Ok(false);
        };
        self.spawn(handed.id, new, Some(kept));
        let c = &self.shared.counters;
        c.adopted.fetch_add(1, Ordering::Relaxed);
        c.activations.fetch_add(1, Ordering::Relaxed);
        Ok(true)
    }

    /// Counts entries whose handoff to their new owner did not land.
    pub fn handoffs_failed(&self, n: u64) {
        self.shared
            .counters
            .handoffs_failed
            .fetch_add(n, Ordering::Relaxed);
    }

    /// The ids that have an actor now.
    pub fn ids(&self) -> Vec<u64> {
        self.shared.mailboxes.keys()
    }

    fn spawn(&self, id: u64, new: NewMailbox<Ask>, adopted: Option<Kept>) {
        self.shared.tracker.spawn(actor::run(
            id,
            new.generation,
            new.inbox,
            self.shared.clone(),
            adopted,
        ));
    }

    /// Actors alive now.
    pub fn live(&self) -> usize {
        self.shared.mailboxes.len()
    }

    pub fn stats(&self) -> NodeStats {
        let c = &self.shared.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (hits, misses) = (load(&c.hits), load(&c.misses));
        NodeStats {
            live_actors: self.live() as u64,
            hits,
            misses,
            retirements: load(&c.retirements),
            requests: hits + misses,
            uptime: self.shared.started.elapsed(),
            handed_off: load(&c.handed_off),
            adopted: load(&c.adopted),
            activations: load(&c.activations),
            adopt_rejected: load(&c.adopt_rejected),
            handoffs_failed: load(&c.handoffs_failed),
            ..NodeStats::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This node may answer for every id (one node, no ring).
    struct Everything;

    impl Claims for Everything {
        fn check(&self, _: &dyn Placed) -> Result<(), ShardError> {
            Ok(())
        }
    }

    fn registry(ttl: Duration) -> Registry {
        let name = NodeId::new("t1").expect("valid");
        let claims = Arc::new(Everything);
        Registry::new(
            name,
            ttl,
            claims,
            CancellationToken::new(),
            TaskTracker::new(),
        )
    }

    impl Registry {
        /// Asks until answered (an actor that retired under the ask is asked again).
        async fn request(&self, id: u64) -> Result<Cached, ShardError> {
            loop {
                if let Some(answer) = self.ask(id).await? {
                    return Ok(answer);
                }
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_misses_compute_once() {
        let reg = registry(Duration::from_secs(5));
        let answers = futures::future::join_all((0..1000).map(|_| reg.request(42))).await;
        let values: Vec<u32> = answers
            .into_iter()
            .map(|a| a.expect("answered").value)
            .collect();
        assert!(values.iter().all(|v| *v == values[0]));
        let stats = reg.stats();
        assert_eq!((stats.misses, stats.hits, stats.requests), (1, 999, 1000));
        assert_eq!(stats.live_actors, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn kept_value_is_a_hit_that_ages_and_names_its_node() {
        let reg = registry(Duration::from_secs(5));
        let first = reg.request(7).await.expect("miss");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let second = reg.request(7).await.expect("hit");
        assert!(!first.hit && second.hit);
        assert_eq!(first.value, second.value);
        assert!((1..=1000).contains(&first.value));
        assert_eq!(second.node.as_str(), "t1");
        assert!(second.age >= Duration::from_secs(2));
        assert!(second.ttl_left <= Duration::from_secs(3));
        assert_eq!(second.expires_at, first.expires_at);
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_ttl_the_actor_retires_and_a_new_value_is_made() {
        let reg = registry(Duration::from_secs(5));
        reg.request(7).await.expect("miss");
        tokio::time::sleep(Duration::from_millis(5_001)).await;
        // Let the actor's own timer fire and leave the registry.
        tokio::task::yield_now().await;
        assert_eq!(reg.live(), 0);
        assert_eq!(reg.stats().retirements, 1);
        let again = reg.request(7).await.expect("fresh miss");
        assert!(!again.hit);
        assert_eq!(reg.stats().misses, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn requests_across_many_ttls_never_error() {
        let reg = registry(Duration::from_millis(10));
        let workers = (0..8).map(|_| {
            let reg = reg.clone();
            async move {
                for _ in 0..500 {
                    reg.request(1).await.expect("never an error");
                    tokio::time::sleep(Duration::from_micros(300)).await;
                }
            }
        });
        futures::future::join_all(workers).await;
        let stats = reg.stats();
        assert_eq!(stats.requests, 4000);
        assert!(
            stats.retirements >= 10,
            "only {} retirements",
            stats.retirements
        );
        assert_eq!(stats.misses, stats.retirements + reg.live() as u64);
    }

    #[tokio::test(start_paused = true)]
    async fn a_surrendered_entry_is_adopted_elsewhere_as_a_hit_with_its_age() {
        let old = registry(Duration::from_secs(5));
        let new = registry(Duration::from_secs(5));
        let first = old.request(9).await.expect("miss");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let handed = old.surrender(9).await.expect("an entry to hand over");
        assert_eq!(old.live(), 0);
        assert_eq!(handed.value, first.value);
        assert_eq!(handed.ttl_left, Duration::from_secs(3));
        assert_eq!(new.adopt(&handed), Ok(true));
        let there = new.request(9).await.expect("hit");
        assert!(there.hit);
        assert_eq!(there.value, first.value);
        assert!(there.age >= Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(3_001)).await;
        tokio::task::yield_now().await;
        assert_eq!(new.live(), 0, "it still expires at its original time");
        assert_eq!((old.stats().handed_off, new.stats().adopted), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn adoption_never_replaces_a_live_actor() {
        let reg = registry(Duration::from_secs(5));
        let here = reg.request(4).await.expect("miss");
        let handed = Handed {
            id: 4,
            value: here.value % 1000 + 1,
            created_at: here.created_at,
            age: Duration::ZERO,
            ttl_left: Duration::from_secs(1),
        };
        assert_eq!(reg.adopt(&handed), Ok(false));
        assert_eq!(reg.request(4).await.expect("hit").value, here.value);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stopping_registry_refuses_with_shutting_down() {
        let reg = registry(Duration::from_secs(5));
        reg.request(3).await.expect("before shutdown");
        reg.shared.shutdown.cancel();
        let err = reg.request(3).await.expect_err("after shutdown");
        assert!(matches!(err, ShardError::ShuttingDown { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn entries_from_the_wire_that_do_not_add_up_are_refused_and_leave_nothing_behind() {
        let reg = registry(Duration::from_secs(5));
        let good = Handed {
            id: 11,
            value: 500,
            created_at: std::time::SystemTime::now(),
            age: Duration::from_secs(1),
            ttl_left: Duration::from_secs(2),
        };
        let bad = [
            Handed {
                ttl_left: Duration::MAX,
                ..good.clone()
            },
            Handed {
                ttl_left: Duration::from_secs(6),
                ..good.clone()
            },
            Handed {
                ttl_left: Duration::ZERO,
                ..good.clone()
            },
            Handed {
                age: Duration::MAX,
                ..good.clone()
            },
            Handed {
                value: 0,
                ..good.clone()
            },
            Handed {
                created_at: std::time::UNIX_EPOCH + Duration::from_secs(u64::MAX / 2),
                ..good.clone()
            },
        ];
        for handed in &bad {
            assert!(reg.adopt(handed).is_err(), "{handed:?} was kept");
        }
        assert_eq!(reg.live(), 0, "no slot was made for a refused entry");
        assert_eq!(reg.stats().adopt_rejected, bad.len() as u64);
        let fresh = reg.request(11).await.expect("the id still answers");
        assert!(!fresh.hit);
        assert_eq!(reg.adopt(&good), Ok(false), "a live actor wins");
    }
}
