//! What one kind of actor is (`Actor`: its key, messages, shared environment and handoff), what
//! a turn sees (`Cx`, `Stamp`, `Counters`), the ownership check asked inside every turn
//! (`Claims`), and what a mailbox carries (`Envelope`). The runtime (`actors.rs`) and its
//! mailboxes (`slots.rs`) both build on it.

use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::{NodeId, Placed, Served, ShardError};
use tokio::sync::oneshot;

use crate::membership::Members;

/// Whether this node may answer for a key now: Ok, or the typed refusal to answer with
/// (`Moved`, `Unavailable`, `ShuttingDown`). Asked inside every actor turn.
pub trait Claims: Send + Sync + 'static {
    fn check(&self, id: &dyn Placed) -> Result<(), ShardError>;
}

impl Claims for Members {
    fn check(&self, id: &dyn Placed) -> Result<(), ShardError> {
        Members::check(self, id)
    }
}

/// What a turn decided.
pub enum Flow {
    Continue,
    /// The actor stops (and leaves the registry) after this turn.
    Stop,
}

/// One kind of actor. The runtime calls `handle` one message at a time, after checking that
/// this node may answer for the key.
pub trait Actor: Default + Send + 'static {
    type Key: Placed + Eq + Hash + Clone + Send + Sync + 'static;
    type Msg: Send + 'static;
    /// What every actor of this kind shares (the store, ...).
    type Env: Send + Sync + 'static;
    /// What a surrendered actor hands to the key's next owner.
    type Handoff: Send + 'static;

    /// Handles one message in this actor's turn.
    fn handle(
        &mut self,
        key: &Self::Key,
        msg: Self::Msg,
        cx: &Cx<Self>,
    ) -> impl Future<Output = Flow> + Send;
    /// The most messages one turn takes: 1 (each its own turn, the retirement checked before
    /// each) unless the kind overrides `handle_many`.
    const MAX_TURN: usize = 1;
    /// Handles the messages that were queued behind each other, at most `MAX_TURN`, in one turn:
    /// they were all waiting at once, so any order of them is one a serial actor could have
    /// taken. An actor that can do several in one go (one store call for many reservations)
    /// overrides this; by default, one `handle` after the other. After a `Stop` the rest are
    /// dropped unanswered, as queued messages are (their askers ask again).
    fn handle_many(
        &mut self,
        key: &Self::Key,
        msgs: Vec<Self::Msg>,
        cx: &Cx<Self>,
    ) -> impl Future<Output = Flow> + Send {
        async move {
            for msg in msgs {
                if let Flow::Stop = self.handle(key, msg, cx).await {
                    return Flow::Stop;
                }
            }
            Flow::Continue
        }
    }
    /// Answers `msg` with `refused`, handling nothing.
    fn refuse(msg: Self::Msg, refused: ShardError);
    /// When it retires by itself, if ever (`ttl` is the node's).
    fn retires_at(&self, ttl: Duration) -> Option<Instant>;
    /// Whether it holds nothing yet (an empty actor that must refuse goes at once).
    fn is_empty(&self) -> bool;
    /// Its state for the next owner, if any is worth handing over.
    fn hand_over(&self, key: &Self::Key) -> Option<Self::Handoff>;
}

/// Counts kept by the runtime and by the actors of one kind.
#[derive(Default)]
pub struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub retirements: AtomicU64,
    pub handed_off: AtomicU64,
    pub adopted: AtomicU64,
    pub activations: AtomicU64,
    pub adopt_rejected: AtomicU64,
    pub handoffs_failed: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// What a turn can see: who the node is, the TTL, the kind's shared environment, the counters.
pub struct Cx<A: Actor> {
    pub node: NodeId,
    pub ttl: Duration,
    pub env: A::Env,
    pub counters: Counters,
    pub(super) started: Instant,
}

/// When a kept value was made and when it ends, on both clocks.
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    pub born: Instant,
    pub created_at: SystemTime,
    pub expires: Instant,
    /// `expires` on the wall clock, for display; kept, not recomputed, so it never drifts.
    pub expires_at: SystemTime,
}

impl Stamp {
    /// A value made now that lives `ttl`.
    pub fn fresh(ttl: Duration) -> Stamp {
        let (born, created_at) = (clock::now(), clock::wall());
        Stamp {
            born,
            created_at,
            expires: born + ttl,
            expires_at: created_at + ttl,
        }
    }
}

impl<A: Actor> Cx<A> {
    /// `value` as an answer that says where it came from and how old it is.
    pub fn served<T>(&self, value: T, stamp: &Stamp, hit: bool) -> Served<T> {
        self.served_at(value, stamp, hit, clock::now())
    }

    /// `served`, as of `now`.
    pub fn served_at<T>(&self, value: T, stamp: &Stamp, hit: bool, now: Instant) -> Served<T> {
        Served {
            value,
            node: self.node.clone(),
            hit,
            created_at: stamp.created_at,
            expires_at: stamp.expires_at,
            age: now.saturating_duration_since(stamp.born),
            ttl_left: stamp.expires.saturating_duration_since(now),
        }
    }
}

/// The reply of a surrender: the actor's state for the key's next owner, if any.
pub(super) type Surrender<A> = oneshot::Sender<Option<<A as Actor>::Handoff>>;

pub(super) enum Envelope<A: Actor> {
    /// A message, with the span it was sent in (its handling runs in a child of it).
    Msg(A::Msg, tracing::Span),
    Surrender(Surrender<A>),
}
