//! The one actor runtime of a node. An actor is the serial choke point of one key on its
//! owner; every kind of actor (the demo's values in [`value`], the shop's products in
//! [`product`]) is an implementation of [`Actor`], and this runtime owns everything they share:
//! - spawning on first message, through `Mailboxes` (concurrent first messages for a key meet
//!   one actor: concurrent misses compute once), and race-free retirement: an actor leaves the
//!   registry before it stops reading its mailbox, so a message is answered, or dropped and its
//!   asker asks again and meets a fresh actor (never an error);
//! - the ownership check INSIDE every turn (`Claims`), so no answer slips between a view change
//!   and the handoff that follows it; a refused message is answered with the typed refusal and
//!   nothing is computed;
//! - the TTL: an actor never handles a message past the time it retires;
//! - surrender (its state for the key's next owner), adoption (an actor born with state),
//!   dropping everything, and the counters every kind reports.
//!
//! Mailboxes are unbounded: what can queue is bounded by tarpc's cap on requests in flight per
//! connection (`MAX_IN_FLIGHT_PER_CONNECTION`). It never holds a lock across an await.

pub mod product;
pub mod value;

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use ringshop_shared::{NodeId, Placed, Served, ShardError};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::mailboxes::{Mailboxes, NewMailbox};
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
    started: Instant,
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
        let (born, created_at) = (Instant::now(), SystemTime::now());
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
        let now = Instant::now();
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

enum Envelope<A: Actor> {
    Msg(A::Msg),
    Surrender(oneshot::Sender<Option<A::Handoff>>),
}

struct Shared<A: Actor> {
    cx: Cx<A>,
    claims: Arc<dyn Claims>,
    mailboxes: Mailboxes<A::Key, Envelope<A>>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

/// The actors of one kind on this node. Cheap to clone; every clone is the same set.
pub struct Actors<A: Actor> {
    shared: Arc<Shared<A>>,
}

impl<A: Actor> Clone for Actors<A> {
    fn clone(&self) -> Self {
        Actors {
            shared: self.shared.clone(),
        }
    }
}

impl<A: Actor> Actors<A> {
    pub fn new(
        node: NodeId,
        ttl: Duration,
        env: A::Env,
        claims: Arc<dyn Claims>,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> Actors<A> {
        Actors {
            shared: Arc::new(Shared {
                cx: Cx {
                    node,
                    ttl,
                    env,
                    counters: Counters::default(),
                    started: Instant::now(),
                },
                claims,
                mailboxes: Mailboxes::default(),
                shutdown,
                tracker,
            }),
        }
    }

    pub fn cx(&self) -> &Cx<A> {
        &self.shared.cx
    }

    /// How long this set of actors has existed.
    pub fn uptime(&self) -> Duration {
        self.shared.cx.started.elapsed()
    }

    /// One ask of `key`'s actor (spawned if there is none), with a message `make` builds
    /// around the reply. Ok(None) when the actor went away before answering (it retired or
    /// was surrendered meanwhile: ask again); Err when this node may not answer for the key.
    pub async fn ask_with<T>(
        &self,
        key: &A::Key,
        make: impl FnOnce(oneshot::Sender<Result<T, ShardError>>) -> A::Msg,
    ) -> Result<Option<T>, ShardError> {
        let shared = &self.shared;
        if shared.shutdown.is_cancelled() {
            return Err(ShardError::ShuttingDown {
                node: shared.cx.node.clone(),
            });
        }
        // Checked here so no actor is started for a key this node may not answer for; checked
        // again inside the actor's turn.
        shared.claims.check(key)?;
        let (reply, answer) = oneshot::channel();
        if let Some(new) = shared.mailboxes.post(key, Envelope::Msg(make(reply))) {
            self.spawn(key.clone(), new, A::default());
        }
        answer.await.ok().transpose()
    }

    /// Takes `key`'s actor out of the registry and its state with it (None if it had none).
    /// Messages queued before this one are still handled first.
    pub async fn surrender(&self, key: &A::Key) -> Option<A::Handoff> {
        let (reply, answer) = oneshot::channel();
        if !self.shared.mailboxes.take(key, Envelope::Surrender(reply)) {
            return None;
        }
        answer.await.ok().flatten()
    }

    /// Stops the actors whose keys `keep` refuses, without waiting and handing nothing over.
    pub fn let_go(&self, keep: impl Fn(&A::Key) -> bool) {
        for key in self.keys() {
            if !keep(&key) {
                let (reply, _) = oneshot::channel();
                self.shared.mailboxes.take(&key, Envelope::Surrender(reply));
            }
        }
    }

    /// Stops every actor and waits for each, handing nothing over.
    pub async fn drop_all(&self) {
        for key in self.keys() {
            self.surrender(&key).await;
        }
    }

    /// Starts `actor`, born with state, for `key` unless the key has an actor here already
    /// (then the one here wins: it may have answered someone).
    pub fn adopt(&self, key: &A::Key, actor: A) -> bool {
        if self.shared.shutdown.is_cancelled() {
            return false;
        }
        let Some(new) = self.shared.mailboxes.create(key) else {
            return false;
        };
        self.spawn(key.clone(), new, actor);
        let c = &self.shared.cx.counters;
        Counters::bump(&c.adopted);
        Counters::bump(&c.activations);
        true
    }

    /// The keys that have an actor now.
    pub fn keys(&self) -> Vec<A::Key> {
        self.shared.mailboxes.keys()
    }

    /// Actors alive now.
    pub fn live(&self) -> usize {
        self.shared.mailboxes.len()
    }

    fn spawn(&self, key: A::Key, new: NewMailbox<Envelope<A>>, actor: A) {
        let shared = self.shared.clone();
        self.shared
            .tracker
            .spawn(run(key, new.generation, new.inbox, shared, actor));
    }
}

/// Sleeps until `at`, or forever without one.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn run<A: Actor>(
    key: A::Key,
    generation: u64,
    mut inbox: mpsc::UnboundedReceiver<Envelope<A>>,
    shared: Arc<Shared<A>>,
    mut actor: A,
) {
    let counters = &shared.cx.counters;
    loop {
        let retires = actor.retires_at(shared.cx.ttl);
        let envelope = tokio::select! {
            biased;
            _ = shared.shutdown.cancelled() => break,
            envelope = inbox.recv() => envelope,
            _ = until(retires) => {
                Counters::bump(&counters.retirements);
                break;
            }
        };
        match envelope {
            None => break,
            Some(Envelope::Surrender(reply)) => {
                let handoff = actor.hand_over(&key);
                if handoff.is_some() {
                    Counters::bump(&counters.handed_off);
                }
                let _ = reply.send(handoff);
                break;
            }
            Some(Envelope::Msg(msg)) => {
                if let Err(refused) = shared.claims.check(&key) {
                    A::refuse(msg, refused);
                    if actor.is_empty() {
                        break;
                    }
                    continue;
                }
                if retires.is_some_and(|at| Instant::now() >= at) {
                    // Never past the TTL: the message goes unanswered and its asker meets a
                    // fresh actor.
                    drop(msg);
                    Counters::bump(&counters.retirements);
                    break;
                }
                if let Flow::Stop = actor.handle(&key, msg, &shared.cx).await {
                    break;
                }
            }
        }
    }
    // Leave first, so every retry from here on spawns a fresh actor; then drop what is queued.
    shared.mailboxes.leave(&key, generation);
    inbox.close();
    while inbox.try_recv().is_ok() {}
}
