//! The one loop a request for an id goes through on its owner, whatever kind of actor answers
//! it: ask; if the actor went away under the ask (it retired or was surrendered), ask again,
//! a bounded number of times; if this node may not answer for the id *yet* (`Unavailable`: the
//! id is being handed over, or the lease is being renewed), wait for the view to move, until
//! the hold's deadline, then answer `Unavailable` having computed nothing. Every other refusal
//! (`Moved`, `ShuttingDown`) and every answer goes straight back.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::{ShardError, Unavailable};

use crate::membership::Members;

/// How many times one request may meet an actor that goes away before it answers. Each retry
/// meets a fresh actor, so more than two is already a sign of a stopping node.
const MAX_GONE: usize = 32;
/// The longest a request is held while its id is handed over to this node.
pub const MAX_HOLD: Duration = Duration::from_millis(1_500);
/// A held request is answered this long before its caller's deadline, so the answer arrives.
const ANSWER_MARGIN: Duration = Duration::from_millis(100);

/// Counts of held requests on one node.
#[derive(Default)]
pub struct Holds {
    pub held: AtomicU64,
    pub timed_out: AtomicU64,
    pub redirected: AtomicU64,
    /// Requests refused (after waiting) because this node's lease had run out.
    pub fenced: AtomicU64,
}

/// Until when a request may be held: worked out only when it first must wait (a clock read
/// is not free, and most requests never wait).
#[derive(Clone, Copy)]
pub enum Hold {
    /// Until `hold_until` of the caller's deadline.
    Deadline(std::time::Instant),
    At(Instant),
}

impl Hold {
    fn at(self) -> Instant {
        match self {
            Hold::Deadline(deadline) => hold_until(deadline),
            Hold::At(at) => at,
        }
    }
}

/// Until when a request whose caller gives up at `deadline` may be held.
pub fn hold_until(deadline: std::time::Instant) -> Instant {
    let budget = clock::left(deadline)
        .saturating_sub(ANSWER_MARGIN)
        .min(MAX_HOLD);
    clock::now() + budget
}

/// Asks with `ask` until it answers, as the module doc says.
pub async fn until_answered<T, F, Fut>(
    members: &Members,
    holds: &Holds,
    hold: Hold,
    mut ask: F,
) -> Result<T, ShardError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ShardError>>,
{
    let mut held = false;
    let mut until = None;
    for _ in 0..MAX_GONE {
        loop {
            match ask().await {
                Ok(Some(answer)) => return Ok(answer),
                Ok(None) => break,
                Err(e @ ShardError::Unavailable { .. }) => {
                    if !held {
                        held = true;
                        holds.held.fetch_add(1, Ordering::Relaxed);
                    }
                    let until = *until.get_or_insert_with(|| hold.at());
                    // Boxed: the wait is rare, and its future would be in every request's.
                    if !Box::pin(members.wait_a_moment(until)).await {
                        holds.timed_out.fetch_add(1, Ordering::Relaxed);
                        if let ShardError::Unavailable {
                            reason: Unavailable::Fenced,
                            ..
                        } = e
                        {
                            holds.fenced.fetch_add(1, Ordering::Relaxed);
                        }
                        return Err(e);
                    }
                }
                Err(e) => {
                    if matches!(e, ShardError::Moved { .. }) {
                        holds.redirected.fetch_add(1, Ordering::Relaxed);
                    }
                    return Err(e);
                }
            }
        }
    }
    Err(ShardError::ShuttingDown {
        node: members.me().clone(),
    })
}
