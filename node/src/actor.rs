//! One actor: the serial choke point of one id. It reads its mailbox one message at a time,
//! computes its value on the first (the miss), answers the rest from the kept value (hits), and
//! retires at its TTL: first it leaves the registry, then it closes and drops what is still
//! queued, so those askers retry and meet a fresh actor. It never answers past its TTL.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use ringshop_shared::Cached;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::actors::{Ask, Shared};

/// The value an actor keeps, and when it was made.
struct Kept {
    value: u32,
    born: Instant,
    created_at: SystemTime,
}

pub(crate) async fn run(
    id: u64,
    generation: u64,
    mut inbox: mpsc::UnboundedReceiver<Ask>,
    shared: Arc<Shared>,
) {
    let ttl = shared.ttl;
    let mut unanswered = None;
    if let Some(first) = inbox.recv().await {
        let kept = Kept {
            value: fastrand::u32(1..=1000),
            born: Instant::now(),
            created_at: SystemTime::now(),
        };
        shared.counters.misses.fetch_add(1, Ordering::Relaxed);
        answer(&shared, &kept, first, false);
        let expires = kept.born + ttl;
        let mut by_ttl = false;
        loop {
            tokio::select! {
                biased;
                _ = shared.shutdown.cancelled() => break,
                ask = inbox.recv() => match ask {
                    Some(ask) if Instant::now() < expires => {
                        shared.counters.hits.fetch_add(1, Ordering::Relaxed);
                        answer(&shared, &kept, ask, true);
                    }
                    Some(ask) => {
                        unanswered = Some(ask);
                        by_ttl = true;
                        break;
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(expires) => {
                    by_ttl = true;
                    break;
                }
            }
        }
        if by_ttl {
            shared.counters.retirements.fetch_add(1, Ordering::Relaxed);
        }
    }
    // Leave first, so every retry from here on spawns a fresh actor; then drop what is queued.
    shared.leave(id, generation);
    inbox.close();
    drop(unanswered);
    while inbox.try_recv().is_ok() {}
    tracing::trace!(id, generation, "actor retired");
}

fn answer(shared: &Shared, kept: &Kept, ask: Ask, hit: bool) {
    let now = Instant::now();
    let age = now.saturating_duration_since(kept.born);
    let value = Cached {
        value: kept.value,
        node: shared.node.clone(),
        hit,
        created_at: kept.created_at,
        expires_at: kept.created_at + shared.ttl,
        age,
        ttl_left: shared.ttl.saturating_sub(age),
    };
    // The asker may have given up (deadline); its answer has nowhere to go.
    let _ = ask.reply.send(value);
}
