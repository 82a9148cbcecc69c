//! The demo's per-id actors on one node: asking, surrendering and adopting entries, and the
//! node's counters. The race-free life of an actor is `Mailboxes`'s; this file only starts
//! actors on the mailboxes it is handed. It never answers with a value past its TTL.
//! Mailboxes are unbounded: what can queue is bounded by tarpc's cap on requests in flight per
//! connection (`MAX_IN_FLIGHT_PER_CONNECTION`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ringshop_shared::{Cached, Handed, NodeId, NodeStats, ShardError};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actor::{self, Ask, Kept};
use crate::mailboxes::{Mailboxes, NewMailbox};

/// How many times one request may meet a retiring actor before giving up. Each retry meets a
/// fresh actor that lives a whole TTL, so more than two is already a sign of a stopping node.
const MAX_ATTEMPTS: usize = 32;

#[derive(Default)]
pub(crate) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub retirements: AtomicU64,
    pub handed_off: AtomicU64,
    pub adopted: AtomicU64,
}

pub(crate) struct Shared {
    pub node: NodeId,
    pub ttl: Duration,
    pub counters: Counters,
    pub shutdown: CancellationToken,
    pub mailboxes: Mailboxes<u64, Ask>,
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
                tracker,
                started: Instant::now(),
            }),
        }
    }

    /// The id's value, through its actor: a hit while kept, else computed once. Asks again
    /// when an actor goes away before answering (it retired or surrendered meanwhile).
    pub async fn request(&self, id: u64) -> Result<Cached, ShardError> {
        for _ in 0..MAX_ATTEMPTS {
            if self.shared.shutdown.is_cancelled() {
                break;
            }
            if let Some(value) = self.ask(id).await {
                return Ok(value);
            }
        }
        Err(ShardError::ShuttingDown {
            node: self.shared.node.clone(),
        })
    }

    /// One ask of `id`'s actor (spawned if there is none). None when the actor went away
    /// before answering: the caller checks it still owns the id, then asks again.
    pub async fn ask(&self, id: u64) -> Option<Cached> {
        let (reply, answer) = oneshot::channel();
        if let Some(new) = self.shared.mailboxes.post(&id, Ask::Get(reply)) {
            self.spawn(id, new, None);
        }
        answer.await.ok()
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

    /// Starts an actor that keeps an entry handed over by another node, unless `id` has an
    /// actor here already (then the one here wins: it may have answered someone).
    pub fn adopt(&self, handed: &Handed) -> bool {
        if handed.ttl_left.is_zero() || self.shared.shutdown.is_cancelled() {
            return false;
        }
        let Some(new) = self.shared.mailboxes.create(&handed.id) else {
            return false;
        };
        self.spawn(handed.id, new, Some(Kept::adopted(handed)));
        self.shared.counters.adopted.fetch_add(1, Ordering::Relaxed);
        true
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
        let (hits, misses) = (
            c.hits.load(Ordering::Relaxed),
            c.misses.load(Ordering::Relaxed),
        );
        NodeStats {
            live_actors: self.live() as u64,
            hits,
            misses,
            retirements: c.retirements.load(Ordering::Relaxed),
            requests: hits + misses,
            uptime: self.shared.started.elapsed(),
            handed_off: c.handed_off.load(Ordering::Relaxed),
            adopted: c.adopted.load(Ordering::Relaxed),
            ..NodeStats::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(ttl: Duration) -> Registry {
        let name = NodeId::new("t1").expect("valid");
        Registry::new(name, ttl, CancellationToken::new(), TaskTracker::new())
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
        assert!(new.adopt(&handed));
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
        assert!(!reg.adopt(&handed));
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
}
