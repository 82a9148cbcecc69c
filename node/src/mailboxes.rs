//! Key → the mailbox of that key's one actor: the registry every kind of actor uses (the demo's
//! ids, products). It owns the race-free part of an actor's life:
//! - posting and creating happen under one lock, so concurrent first messages for a key meet
//!   one mailbox (and one actor): concurrent misses compute once;
//! - a slot found under the lock belongs to an actor that has not left yet, so sending to it
//!   succeeds; an actor leaves (`leave`) before it stops reading its mailbox, so a message is
//!   either answered or dropped unanswered, and its sender asks again and meets a fresh actor.
//!
//! It never holds its lock across an await, and it spawns nothing itself: `post` hands the
//! caller the inbox of a new mailbox to start the actor on.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

struct Slot<M> {
    generation: u64,
    mailbox: UnboundedSender<M>,
}

/// A new mailbox whose actor the caller must start: its generation and inbox.
pub struct NewMailbox<M> {
    pub generation: u64,
    pub inbox: UnboundedReceiver<M>,
}

pub struct Mailboxes<K, M> {
    slots: Mutex<HashMap<K, Slot<M>>>,
    next_generation: AtomicU64,
}

impl<K: Eq + Hash + Clone, M> Default for Mailboxes<K, M> {
    fn default() -> Self {
        Mailboxes {
            slots: Mutex::new(HashMap::new()),
            next_generation: AtomicU64::new(0),
        }
    }
}

impl<K: Eq + Hash + Clone, M> Mailboxes<K, M> {
    fn slots(&self) -> MutexGuard<'_, HashMap<K, Slot<M>>> {
        // Each use is one insert, lookup or remove: a poisoned lock still holds a whole map.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn insert(
        &self,
        slots: &mut HashMap<K, Slot<M>>,
        key: &K,
    ) -> (UnboundedSender<M>, NewMailbox<M>) {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let (mailbox, inbox) = mpsc::unbounded_channel();
        slots.insert(
            key.clone(),
            Slot {
                generation,
                mailbox: mailbox.clone(),
            },
        );
        (mailbox, NewMailbox { generation, inbox })
    }

    /// Puts `msg` in `key`'s mailbox. When there is none, makes it (with `msg` inside) and
    /// returns it: the caller starts its actor.
    pub fn post(&self, key: &K, msg: M) -> Option<NewMailbox<M>> {
        let mut slots = self.slots();
        if let Some(slot) = slots.get(key) {
            // Cannot fail while the slot is here (the actor leaves before it closes); if it
            // did, `msg` is dropped unanswered and its sender asks again.
            let _ = slot.mailbox.send(msg);
            return None;
        }
        let (mailbox, new) = self.insert(&mut slots, key);
        let _ = mailbox.send(msg);
        Some(new)
    }

    /// Makes an empty mailbox for `key` unless it has one (an actor born with state).
    pub fn create(&self, key: &K) -> Option<NewMailbox<M>> {
        let mut slots = self.slots();
        if slots.contains_key(key) {
            return None;
        }
        Some(self.insert(&mut slots, key).1)
    }

    /// Takes `key`'s mailbox out (new messages then make a fresh actor) after sending it
    /// `last`; false if it had none.
    pub fn take(&self, key: &K, last: M) -> bool {
        match self.slots().remove(key) {
            Some(slot) => {
                let _ = slot.mailbox.send(last);
                true
            }
            None => false,
        }
    }

    /// Removes `key`'s slot if it still belongs to the actor of `generation`.
    pub fn leave(&self, key: &K, generation: u64) {
        let mut slots = self.slots();
        if slots.get(key).is_some_and(|s| s.generation == generation) {
            slots.remove(key);
        }
    }

    pub fn keys(&self) -> Vec<K> {
        self.slots().keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.slots().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
