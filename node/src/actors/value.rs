//! The demo's actor: one per id, it computes a random value in 1..=1000 on its first `Get` (the
//! miss) unless it was born with one handed over by the id's previous owner, answers the rest
//! from the kept value (hits), and retires at its TTL. The life cycle is the runtime's. A hit
//! needs no turn: `Actors::value` reads the kept value of an idle actor where it sits.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::{Cached, Handed, NodeStats, ShardError};
use tokio::sync::oneshot;

use super::{Actor, Actors, Counters, Cx, Flow, Stamp};

/// The demo's actors on one node.
pub type Registry = Actors<Value>;

/// Asks of a value actor.
pub enum Get {
    /// The value, as a hit or (first) a miss; or why this node may not answer for it now.
    Value(oneshot::Sender<Result<Cached, ShardError>>),
}

/// The value an actor keeps, and its lifetime.
#[derive(Default)]
pub struct Value {
    kept: Option<(u32, Stamp)>,
}

impl Value {
    /// An entry handed over by another node, aged as it was there and kept for `left`
    /// (`Handed::left_at`); None if its times do not add up (`Handed::check` refuses those
    /// first; this never panics either way).
    fn adopted(h: &Handed, left: Duration) -> Option<Value> {
        let now = clock::now();
        let stamp = Stamp {
            born: now.checked_sub(h.age).unwrap_or(now),
            created_at: h.created_at,
            expires: now.checked_add(left)?,
            expires_at: h.created_at.checked_add(h.age)?.checked_add(left)?,
        };
        Some(Value {
            kept: Some((h.value, stamp)),
        })
    }
}

impl Actor for Value {
    type Key = u64;
    type Msg = Get;
    type Env = ();
    type Handoff = Handed;

    async fn handle(&mut self, _: &u64, msg: Get, cx: &Cx<Self>) -> Flow {
        let Get::Value(reply) = msg;
        let counters = &cx.counters;
        let (value, stamp, hit) = match self.kept {
            Some((value, stamp)) => {
                Counters::bump(&counters.hits);
                (value, stamp, true)
            }
            None => {
                let kept = (fastrand::u32(1..=1000), Stamp::fresh(cx.ttl));
                self.kept = Some(kept);
                Counters::bump(&counters.misses);
                Counters::bump(&counters.activations);
                (kept.0, kept.1, false)
            }
        };
        // The asker may have given up (deadline); its answer has nowhere to go.
        let _ = reply.send(Ok(cx.served(value, &stamp, hit)));
        Flow::Continue
    }

    fn refuse(msg: Get, refused: ShardError) {
        let Get::Value(reply) = msg;
        let _ = reply.send(Err(refused));
    }

    fn retires_at(&self, _: Duration) -> Option<Instant> {
        self.kept.map(|(_, stamp)| stamp.expires)
    }

    fn is_empty(&self) -> bool {
        self.kept.is_none()
    }

    fn hand_over(&self, id: &u64) -> Option<Handed> {
        let (value, stamp) = self.kept?;
        let now = clock::now();
        (now < stamp.expires).then(|| Handed {
            id: *id,
            value,
            created_at: stamp.created_at,
            age: now.saturating_duration_since(stamp.born),
            ttl_left: stamp.expires.saturating_duration_since(now),
        })
    }
}

impl Actors<Value> {
    /// One ask of `id`'s value: a hit is read from the idle actor without a turn (see
    /// `read`); a miss, an expired value or a running actor go through a turn (`ask_with`).
    pub async fn value(&self, id: u64) -> Result<Option<Cached>, ShardError> {
        // One clock read for a hit: whether it is still kept, and its age and time left.
        let now = clock::now();
        if let Some((value, stamp)) = self.read(&id, now, |actor| actor.kept)? {
            let cx = self.cx();
            Counters::bump(&cx.counters.hits);
            return Ok(Some(cx.served_at(value, &stamp, true, now)));
        }
        self.ask_with(&id, Get::Value).await
    }

    /// Starts an actor that keeps an entry handed over by another node, unless `id` has an
    /// actor here already or the entry's wall-clock expiry has passed on the way (false). An
    /// entry that fails `Handed::check` against this node's TTL is refused (`Err`, with why)
    /// and leaves nothing behind.
    pub fn adopt_entry(&self, handed: &Handed) -> Result<bool, String> {
        let counters = &self.cx().counters;
        if let Err(why) = handed.check(self.cx().ttl) {
            Counters::bump(&counters.adopt_rejected);
            return Err(why);
        }
        let left = handed.left_at(clock::wall());
        if left.is_zero() {
            // Not adopted: the sender counts it among its failed handoffs.
            return Ok(false);
        }
        let checked =
            Value::adopted(handed, left).ok_or_else(|| "its times overflow the clock".to_string());
        match checked {
            Ok(actor) => Ok(self.adopt(&handed.id, actor)),
            Err(why) => {
                Counters::bump(&counters.adopt_rejected);
                Err(why)
            }
        }
    }

    /// Counts entries whose handoff to their new owner did not land.
    pub fn handoffs_failed(&self, n: u64) {
        let counters = &self.cx().counters;
        counters.handoffs_failed.fetch_add(n, Ordering::Relaxed);
    }

    pub fn stats(&self) -> NodeStats {
        let c = &self.cx().counters;
        let (hits, misses) = (Counters::get(&c.hits), Counters::get(&c.misses));
        NodeStats {
            live_actors: self.live() as u64,
            hits,
            misses,
            retirements: Counters::get(&c.retirements),
            requests: hits + misses,
            uptime: self.uptime(),
            handed_off: Counters::get(&c.handed_off),
            adopted: Counters::get(&c.adopted),
            activations: Counters::get(&c.activations),
            adopt_rejected: Counters::get(&c.adopt_rejected),
            handoffs_failed: Counters::get(&c.handoffs_failed),
            ..NodeStats::default()
        }
    }
}

#[cfg(test)]
#[path = "value_tests.rs"]
mod tests;
