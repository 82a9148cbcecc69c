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

mod kind;
pub mod product;
mod slots;
pub mod value;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::{NodeId, ShardError};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub use self::kind::{Actor, Claims, Counters, Cx, Flow, Stamp};
use self::kind::{Envelope, Surrender};
use self::slots::{Next, Posted, Slots, Taken};

struct Shared<A: Actor> {
    cx: Cx<A>,
    claims: Arc<dyn Claims>,
    slots: Slots<A>,
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

/// How often retired actors are swept out of the registry: a quarter of the TTL, within these
/// bounds. Sweeping only gives memory back; a retired actor is never read or run meanwhile.
const SWEEP_MIN: Duration = Duration::from_millis(50);
const SWEEP_MAX: Duration = Duration::from_secs(1);

impl<A: Actor> Actors<A> {
    /// The actors of one kind; starts their sweeper (on `tracker`, until `shutdown` or until
    /// the last clone is dropped), so it must be called inside the runtime.
    pub fn new(
        node: NodeId,
        ttl: Duration,
        env: A::Env,
        claims: Arc<dyn Claims>,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> Actors<A> {
        let actors = Actors {
            shared: Arc::new(Shared {
                cx: Cx {
                    node,
                    ttl,
                    env,
                    counters: Counters::default(),
                    started: clock::now(),
                },
                claims,
                slots: Slots::default(),
                shutdown,
                tracker,
            }),
        };
        actors.start_sweeper();
        actors
    }

    fn start_sweeper(&self) {
        let every = (self.shared.cx.ttl / 4).clamp(SWEEP_MIN, SWEEP_MAX);
        let shutdown = self.shared.shutdown.clone();
        let weak = Arc::downgrade(&self.shared);
        self.shared.tracker.spawn(async move {
            let mut ticks = crate::ticks::Ticks::new(every, shutdown);
            while ticks.next().await {
                let Some(shared) = weak.upgrade() else { return };
                let swept = shared.slots.sweep(shared.cx.ttl);
                shared
                    .cx
                    .counters
                    .retirements
                    .fetch_add(swept, Ordering::Relaxed);
            }
        });
    }

    pub fn cx(&self) -> &Cx<A> {
        &self.shared.cx
    }

    /// How long this set of actors has existed.
    pub fn uptime(&self) -> Duration {
        self.shared.cx.started.elapsed()
    }

    /// Whether this node may answer for `key` now (not shutting down, and its claims allow).
    fn may_answer(&self, key: &A::Key) -> Result<(), ShardError> {
        let shared = &self.shared;
        if shared.shutdown.is_cancelled() {
            return Err(ShardError::ShuttingDown {
                node: shared.cx.node.clone(),
            });
        }
        shared.claims.check(key)
    }

    /// A read without a turn: `look` at `key`'s idle actor (one that has not retired by `now`)
    /// under its shard's lock, after checking this node may answer for the key. Ok(None) when
    /// there is no such actor or `look` declines: ask through a turn instead. `look` must be
    /// quick (a copy): it runs under the lock.
    pub fn read<T>(
        &self,
        key: &A::Key,
        now: Instant,
        look: impl FnOnce(&A) -> Option<T>,
    ) -> Result<Option<T>, ShardError> {
        self.may_answer(key)?;
        Ok(self.shared.slots.read(key, self.shared.cx.ttl, now, look))
    }

    /// One ask of `key`'s actor (made if there is none), with a message `make` builds around
    /// the reply. Ok(None) when the actor went away before answering (it stopped meanwhile:
    /// ask again); Err when this node may not answer for the key.
    pub async fn ask_with<T>(
        &self,
        key: &A::Key,
        make: impl FnOnce(oneshot::Sender<Result<T, ShardError>>) -> A::Msg,
    ) -> Result<Option<T>, ShardError> {
        // Checked here so no actor is started for a key this node may not answer for; checked
        // again inside the actor's turn.
        self.may_answer(key)?;
        let (reply, answer) = oneshot::channel();
        let posted = self.shared.slots.post(
            key,
            Envelope::Msg(make(reply), tracing::Span::current()),
            self.shared.cx.ttl,
        );
        if let Posted::Start {
            actor,
            first,
            retired,
        } = posted
        {
            if retired {
                Counters::bump(&self.shared.cx.counters.retirements);
            }
            self.run(key.clone(), actor, first);
        }
        answer.await.ok().transpose()
    }

    /// Takes `key`'s actor out of the registry and its state with it (None if it had none).
    /// Messages queued before this one are still handled first.
    pub async fn surrender(&self, key: &A::Key) -> Option<A::Handoff> {
        let (reply, answer) = oneshot::channel();
        self.take(key, reply);
        answer.await.ok().flatten()
    }

    fn take(&self, key: &A::Key, reply: Surrender<A>) {
        if let Taken::Idle(actor, reply) = self.shared.slots.take(key, reply) {
            let _ = reply.send(self.hand_over(key, &actor));
        }
    }

    fn hand_over(&self, key: &A::Key, actor: &A) -> Option<A::Handoff> {
        let handoff = actor.hand_over(key);
        if handoff.is_some() {
            Counters::bump(&self.shared.cx.counters.handed_off);
        }
        handoff
    }

    /// Stops the actors whose keys `keep` refuses, without waiting and handing nothing over.
    pub fn let_go(&self, keep: impl Fn(&A::Key) -> bool) {
        for key in self.keys() {
            if !keep(&key) {
                let (reply, _) = oneshot::channel();
                self.take(&key, reply);
            }
        }
    }

    /// Stops every actor and waits for each, handing nothing over.
    pub async fn drop_all(&self) {
        for key in self.keys() {
            self.surrender(&key).await;
        }
    }

    /// Puts `actor`, born with state, in place for `key` unless the key has an actor here
    /// already (then the one here wins: it may have answered someone). No task: it waits idle
    /// for its first message.
    pub fn adopt(&self, key: &A::Key, actor: A) -> bool {
        let ttl = self.shared.cx.ttl;
        if self.shared.shutdown.is_cancelled() || !self.shared.slots.create(key, actor, ttl) {
            return false;
        }
        let c = &self.shared.cx.counters;
        Counters::bump(&c.adopted);
        Counters::bump(&c.activations);
        true
    }

    /// The keys that have an actor now.
    pub fn keys(&self) -> Vec<A::Key> {
        self.shared.slots.keys(self.shared.cx.ttl)
    }

    /// Actors alive now (running, or idle and not retired).
    pub fn live(&self) -> usize {
        self.shared.slots.live(self.shared.cx.ttl)
    }

    /// Runs `actor`'s turns, from `first` until its queue is empty, in a task of its own.
    fn run(&self, key: A::Key, actor: A, first: Envelope<A>) {
        let shared = self.shared.clone();
        self.shared.tracker.spawn(turns(key, shared, actor, first));
    }
}

/// The span a message sent in `parent` is handled in; none for a message sent outside any span
/// (it has no trace to show the turn in).
fn turn_span(parent: &tracing::Span, node: &NodeId, batch: usize) -> tracing::Span {
    if parent.is_disabled() {
        return tracing::Span::none();
    }
    tracing::info_span!(parent: parent, "turn", node = %node, batch)
}

async fn turns<A: Actor>(key: A::Key, shared: Arc<Shared<A>>, mut actor: A, first: Envelope<A>) {
    let counters = &shared.cx.counters;
    let mut envelope = first;
    loop {
        if shared.shutdown.is_cancelled() {
            // Dropped unanswered: their askers meet the shutdown.
            drop(shared.slots.remove(&key));
            return;
        }
        match envelope {
            Envelope::Surrender(reply) => {
                let handoff = actor.hand_over(&key);
                if handoff.is_some() {
                    Counters::bump(&counters.handed_off);
                }
                let _ = reply.send(handoff);
                // Whatever was queued after the surrender meets a fresh actor.
                actor = A::default();
            }
            Envelope::Msg(msg, sent_in) => {
                // The messages queued right behind it, up to a surrender, join this turn.
                let behind = if A::MAX_TURN > 1 {
                    shared.slots.take_msgs(&key, A::MAX_TURN - 1)
                } else {
                    Vec::new()
                };
                if let Err(refused) = shared.claims.check(&key) {
                    A::refuse(msg, refused.clone());
                    for (msg, _) in behind {
                        A::refuse(msg, refused.clone());
                    }
                } else {
                    if actor
                        .retires_at(shared.cx.ttl)
                        .is_some_and(|at| clock::now() >= at)
                    {
                        // Never past the TTL: this message meets a fresh actor.
                        Counters::bump(&counters.retirements);
                        actor = A::default();
                    }
                    // Each message's trace sees the turn that handled it (one turn may handle
                    // messages of several traces); the turn runs in the first one's.
                    let batch = 1 + behind.len();
                    let first = turn_span(&sent_in, &shared.cx.node, batch);
                    let flow = if behind.is_empty() {
                        actor.handle(&key, msg, &shared.cx).instrument(first).await
                    } else {
                        let (more, sent): (Vec<_>, Vec<_>) = behind.into_iter().unzip();
                        let _turns: Vec<tracing::Span> = sent
                            .iter()
                            .map(|parent| turn_span(parent, &shared.cx.node, batch))
                            .collect();
                        let msgs = std::iter::once(msg).chain(more).collect();
                        actor
                            .handle_many(&key, msgs, &shared.cx)
                            .instrument(first)
                            .await
                    };
                    if let Flow::Stop = flow {
                        // Dropped unanswered: their askers ask again and meet a fresh actor.
                        drop(shared.slots.remove(&key));
                        return;
                    }
                }
            }
        }
        match shared.slots.next(&key, actor) {
            Next::Turn(a, e) => (actor, envelope) = (a, e),
            Next::Done => return,
        }
    }
}
