//! Key → that key's one actor: the registry every kind of actor lives in. An actor is a slot
//! in a sharded map, not a task: between turns its state sits in the slot (idle), where a read
//! can look at it under the shard's lock without waking anything; a message for an idle actor
//! takes the state out and starts one task that runs turns until the slot's queue is empty, then
//! puts the state back and ends. So an idle actor costs its slot and nothing else (no task, no
//! channel), and 10,000 concurrent first messages for one key meet one slot: one computes, the
//! rest queue behind it.
//!
//! What keeps one activation per key on this node:
//! - every change to a slot happens under its shard's lock, and the lock is never held across
//!   an await;
//! - a slot whose actor is out (running) is only removed by its own task; everyone else queues
//!   behind it, a surrender included, so messages queued before a surrender are handled first
//!   and the ones after it meet a fresh actor;
//! - an idle slot past its retirement time is never read: `read` checks the time under the lock,
//!   `post` replaces it with a fresh actor, and the sweeper removes it (and gives the memory
//!   back: shards shrink when they are mostly empty).

use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::hash::{Map, State};

use super::kind::{Actor, Envelope, Surrender};

/// Shards of the map: enough that concurrent requests rarely meet on one lock.
const SHARDS: usize = 64;

struct Slot<A: Actor> {
    /// The actor between turns; None while a task runs its turns.
    idle: Option<A>,
    /// Messages that arrived while it ran, in order.
    queue: VecDeque<Envelope<A>>,
}

/// What `post` found: queued behind a running actor, or a turn for the caller to start.
pub enum Posted<A: Actor> {
    Queued,
    /// Start a task with this actor (a fresh one, or the idle one taken out) on `first`;
    /// `retired` when an idle actor past its time was replaced.
    Start {
        actor: A,
        first: Envelope<A>,
        retired: bool,
    },
}

/// What `take` found.
pub enum Taken<A: Actor> {
    /// No actor for the key.
    None,
    /// An idle actor, now out of the registry: hand it over to `reply`.
    Idle(A, Surrender<A>),
    /// A running actor: the surrender is queued behind its messages.
    Queued,
}

/// After a turn: the next message, or done (the actor went back idle, or away if empty).
pub enum Next<A: Actor> {
    Turn(A, Envelope<A>),
    Done,
}

type Shard<A> = Map<<A as Actor>::Key, Slot<A>>;

pub struct Slots<A: Actor> {
    shards: Box<[Mutex<Shard<A>>]>,
    hasher: State,
}

impl<A: Actor> Default for Slots<A> {
    fn default() -> Self {
        Slots {
            shards: (0..SHARDS).map(|_| Mutex::new(Map::default())).collect(),
            hasher: State::default(),
        }
    }
}

fn retired<A: Actor>(actor: &A, ttl: Duration, now: Instant) -> bool {
    actor.retires_at(ttl).is_some_and(|at| now >= at)
}

impl<A: Actor> Slots<A> {
    fn shard(&self, key: &A::Key) -> MutexGuard<'_, Shard<A>> {
        let i = self.hasher.hash_one(key) as usize % SHARDS;
        // Each use is a few map operations with no await and no user code that can panic
        // halfway: a poisoned lock still holds a whole map.
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `look` at `key`'s idle actor, if it has one that has not retired by `now`.
    pub fn read<T>(
        &self,
        key: &A::Key,
        ttl: Duration,
        now: Instant,
        look: impl FnOnce(&A) -> Option<T>,
    ) -> Option<T> {
        let shard = self.shard(key);
        let actor = shard.get(key)?.idle.as_ref()?;
        if retired(actor, ttl, now) {
            return None;
        }
        look(actor)
    }

    /// Queues `msg` behind `key`'s running actor, or has the caller start a turn with it.
    pub fn post(&self, key: &A::Key, msg: Envelope<A>, ttl: Duration) -> Posted<A> {
        let mut shard = self.shard(key);
        let (actor, retired_one) = match shard.entry(key.clone()) {
            Entry::Occupied(mut slot) => {
                let slot = slot.get_mut();
                match slot.idle.take() {
                    None => {
                        slot.queue.push_back(msg);
                        return Posted::Queued;
                    }
                    Some(actor) if retired(&actor, ttl, clock::now()) => (A::default(), true),
                    Some(actor) => (actor, false),
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(Slot {
                    idle: None,
                    queue: VecDeque::new(),
                });
                (A::default(), false)
            }
        };
        Posted::Start {
            actor,
            first: msg,
            retired: retired_one,
        }
    }

    /// After a turn of `key`'s running actor: its next queued message, or it goes back idle (or
    /// away, if it holds nothing).
    pub fn next(&self, key: &A::Key, actor: A) -> Next<A> {
        let mut shard = self.shard(key);
        let Some(slot) = shard.get_mut(key) else {
            // Only its own task removes a running slot: unreachable, and harmless.
            return Next::Done;
        };
        if let Some(envelope) = slot.queue.pop_front() {
            return Next::Turn(actor, envelope);
        }
        if actor.is_empty() {
            shard.remove(key);
        } else {
            if slot.queue.capacity() > 0 {
                // A burst queued here once; an idle slot keeps no buffer.
                slot.queue = VecDeque::new();
            }
            slot.idle = Some(actor);
        }
        Next::Done
    }

    /// The messages at the front of `key`'s queue, up to the first surrender and at most `max`,
    /// taken out for its running actor's turn.
    pub fn take_msgs(&self, key: &A::Key, max: usize) -> Vec<(A::Msg, tracing::Span)> {
        let mut shard = self.shard(key);
        let Some(slot) = shard.get_mut(key) else {
            return Vec::new();
        };
        let mut msgs = Vec::new();
        while msgs.len() < max {
            match slot.queue.pop_front() {
                Some(Envelope::Msg(msg, span)) => msgs.push((msg, span)),
                Some(surrender) => {
                    slot.queue.push_front(surrender);
                    break;
                }
                None => break,
            }
        }
        msgs
    }

    /// Removes `key`'s running slot (its actor stopped); the messages still queued, for the
    /// caller to drop unanswered (their askers ask again and meet a fresh actor).
    pub fn remove(&self, key: &A::Key) -> VecDeque<Envelope<A>> {
        self.shard(key)
            .remove(key)
            .map(|slot| slot.queue)
            .unwrap_or_default()
    }

    /// Surrenders `key`'s actor: out of the registry at once when idle, else queued behind its
    /// messages. With no actor, `reply` is dropped.
    pub fn take(&self, key: &A::Key, reply: Surrender<A>) -> Taken<A> {
        let mut shard = self.shard(key);
        let Some(slot) = shard.get_mut(key) else {
            return Taken::None;
        };
        if slot.idle.is_none() {
            slot.queue.push_back(Envelope::Surrender(reply));
            return Taken::Queued;
        }
        match shard.remove(key).and_then(|s| s.idle) {
            Some(actor) => Taken::Idle(actor, reply),
            None => Taken::None,
        }
    }

    /// Puts `actor`, born with state, in `key`'s slot unless the key has one that is running or
    /// has not retired (a retired idle one, not swept yet, gives way).
    pub fn create(&self, key: &A::Key, actor: A, ttl: Duration) -> bool {
        match self.shard(key).entry(key.clone()) {
            Entry::Occupied(mut slot) => {
                let slot = slot.get_mut();
                let gives_way = slot
                    .idle
                    .as_ref()
                    .is_some_and(|old| retired(old, ttl, clock::now()));
                if gives_way {
                    slot.idle = Some(actor);
                }
                gives_way
            }
            Entry::Vacant(slot) => {
                slot.insert(Slot {
                    idle: Some(actor),
                    queue: VecDeque::new(),
                });
                true
            }
        }
    }

    /// Removes the idle actors past their retirement time, shard by shard, and shrinks the
    /// shards that are mostly empty so the memory goes back; how many were removed.
    pub fn sweep(&self, ttl: Duration) -> u64 {
        let mut removed = 0;
        for shard in self.shards.iter() {
            let now = clock::now();
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            let before = shard.len();
            shard.retain(|_, slot| slot.idle.as_ref().is_none_or(|a| !retired(a, ttl, now)));
            removed += (before - shard.len()) as u64;
            let len = shard.len();
            if shard.capacity() > 64 && shard.capacity() > 4 * len {
                shard.shrink_to(2 * len);
            }
        }
        removed
    }

    /// The keys that have an actor now (running, or idle and not retired).
    pub fn keys(&self, ttl: Duration) -> Vec<A::Key> {
        let mut keys = Vec::new();
        self.each_live(ttl, |key| keys.push(key.clone()));
        keys
    }

    /// Actors alive now: running, or idle and not retired.
    pub fn live(&self, ttl: Duration) -> usize {
        let mut n = 0;
        self.each_live(ttl, |_| n += 1);
        n
    }

    fn each_live(&self, ttl: Duration, mut each: impl FnMut(&A::Key)) {
        for shard in self.shards.iter() {
            let now = clock::now();
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            for (key, slot) in shard.iter() {
                if slot.idle.as_ref().is_none_or(|a| !retired(a, ttl, now)) {
                    each(key);
                }
            }
        }
    }
}
