//! One actor: the serial choke point of one id. It reads its mailbox one message at a time,
//! and every turn first asks whether this node may answer for the id now (the ownership check
//! inside the turn, so no answer can slip between a view change and the handoff that follows
//! it). It computes its value on the first `Get` (the miss) unless it was born with an adopted
//! one, answers the rest from the kept value (hits), and ends in one of three ways:
//! - at its TTL it retires: first it leaves the registry, then it closes and drops what is
//!   still queued, so those askers ask again and meet a fresh actor;
//! - on `Surrender` (its id moved to another node) it hands its entry over and stops;
//! - on shutdown.
//!
//! It never answers past its TTL.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use ringshop_shared::{Cached, Handed, ShardError};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::actors::Shared;

/// What an actor is asked.
pub(crate) enum Ask {
    /// The value, as a hit or (first) a miss; or why this node may not answer for it now.
    Get(oneshot::Sender<Result<Cached, ShardError>>),
    /// Stop, handing the kept entry over (None if nothing was kept yet).
    Surrender(oneshot::Sender<Option<Handed>>),
}

/// The value an actor keeps, and its lifetime.
pub(crate) struct Kept {
    pub value: u32,
    pub born: Instant,
    pub created_at: SystemTime,
    pub expires: Instant,
    /// `expires` on the wall clock, for display; kept, not recomputed, so it never drifts.
    pub expires_at: SystemTime,
}

impl Kept {
    fn fresh(ttl: Duration) -> Kept {
        let born = Instant::now();
        let created_at = SystemTime::now();
        Kept {
            value: fastrand::u32(1..=1000),
            born,
            created_at,
            expires: born + ttl,
            expires_at: created_at + ttl,
        }
    }

    /// An entry handed over by another node, aged as it was there; None if its times do not
    /// add up (`Handed::check` refuses those first; this never panics either way).
    pub fn adopted(h: &Handed) -> Option<Kept> {
        let now = Instant::now();
        Some(Kept {
            value: h.value,
            born: now.checked_sub(h.age).unwrap_or(now),
            created_at: h.created_at,
            expires: now.checked_add(h.ttl_left)?,
            expires_at: h.created_at.checked_add(h.age)?.checked_add(h.ttl_left)?,
        })
    }

    fn handed(&self, id: u64) -> Handed {
        let now = Instant::now();
        Handed {
            id,
            value: self.value,
            created_at: self.created_at,
            age: now.saturating_duration_since(self.born),
            ttl_left: self.expires.saturating_duration_since(now),
        }
    }
}

enum End {
    Ttl,
    Surrendered,
    Shutdown,
}

pub(crate) async fn run(
    id: u64,
    generation: u64,
    mut inbox: mpsc::UnboundedReceiver<Ask>,
    shared: Arc<Shared>,
    adopted: Option<Kept>,
) {
    let mut unanswered = None;
    let kept = match adopted {
        Some(kept) => Some(kept),
        None => match inbox.recv().await {
            Some(Ask::Get(reply)) => match shared.claims.check(&id) {
                Ok(()) => {
                    let kept = Kept::fresh(shared.ttl);
                    shared.counters.misses.fetch_add(1, Ordering::Relaxed);
                    shared.counters.activations.fetch_add(1, Ordering::Relaxed);
                    answer(&shared, &kept, reply, false);
                    Some(kept)
                }
                Err(refused) => {
                    // Born for an id it may not answer for: compute nothing and go.
                    let _ = reply.send(Err(refused));
                    None
                }
            },
            Some(Ask::Surrender(reply)) => {
                let _ = reply.send(None);
                None
            }
            None => None,
        },
    };
    if let Some(kept) = kept {
        let end = serve(&mut inbox, &shared, &kept, id, &mut unanswered).await;
        if matches!(end, End::Ttl) {
            shared.counters.retirements.fetch_add(1, Ordering::Relaxed);
        }
    }
    // Leave first, so every retry from here on spawns a fresh actor; then drop what is queued.
    shared.mailboxes.leave(&id, generation);
    inbox.close();
    drop(unanswered);
    while inbox.try_recv().is_ok() {}
}

async fn serve(
    inbox: &mut mpsc::UnboundedReceiver<Ask>,
    shared: &Shared,
    kept: &Kept,
    id: u64,
    unanswered: &mut Option<Ask>,
) -> End {
    loop {
        tokio::select! {
            biased;
            _ = shared.shutdown.cancelled() => return End::Shutdown,
            ask = inbox.recv() => match ask {
                Some(Ask::Get(reply)) if Instant::now() < kept.expires => {
                    match shared.claims.check(&id) {
                        Ok(()) => {
                            shared.counters.hits.fetch_add(1, Ordering::Relaxed);
                            answer(shared, kept, reply, true);
                        }
                        Err(refused) => {
                            let _ = reply.send(Err(refused));
                        }
                    }
                }
                Some(Ask::Surrender(reply)) => {
                    let handed = (Instant::now() < kept.expires).then(|| kept.handed(id));
                    let _ = reply.send(handed);
                    return End::Surrendered;
                }
                Some(expired) => {
                    *unanswered = Some(expired);
                    return End::Ttl;
                }
                None => return End::Surrendered,
            },
            _ = tokio::time::sleep_until(kept.expires) => return End::Ttl,
        }
    }
}

fn answer(
    shared: &Shared,
    kept: &Kept,
    reply: oneshot::Sender<Result<Cached, ShardError>>,
    hit: bool,
) {
    let now = Instant::now();
    let ttl_left = kept.expires.saturating_duration_since(now);
    let value = Cached {
        value: kept.value,
        node: shared.node.clone(),
        hit,
        created_at: kept.created_at,
        expires_at: kept.expires_at,
        age: now.saturating_duration_since(kept.born),
        ttl_left,
    };
    // The asker may have given up (deadline); its answer has nowhere to go.
    let _ = reply.send(Ok(value));
}
