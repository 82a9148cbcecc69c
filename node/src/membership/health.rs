//! What this node's own writes to the store come to (its heartbeats tell), shown in its stats
//! (`ringshop cluster`'s store column), and the rule that a node does not judge others by
//! their silence while, or right after, the store failed it too. Knows nothing of the
//! membership: `Members` tells it each heartbeat's outcome.

use std::sync::Mutex;
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::{NodeId, StoreHealth};

use crate::store::StoreError;

/// The store as this node's writes find it.
#[derive(Default)]
pub(super) struct Writes {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Since when its heartbeats have failed, while they do.
    failing_since: Option<Instant>,
    /// When the last outage (heartbeats failing for longer than the lease margin) ended.
    outage_ended: Option<Instant>,
    health: StoreHealth,
}

impl Writes {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What this node's writes to the store come to now.
    pub(super) fn health(&self) -> StoreHealth {
        self.state().health.clone()
    }

    /// Notes what a heartbeat write of `me` came to; logs only when it changes. Failing for at
    /// least `margin` is an outage.
    pub(super) fn note(&self, me: &NodeId, margin: Duration, outcome: Result<(), &StoreError>) {
        let mut w = self.state();
        match outcome {
            Ok(()) => {
                if let Some(since) = w.failing_since.take() {
                    let failed_for = since.elapsed();
                    tracing::warn!(node = %me, failed_ms = failed_for.as_millis() as u64, "store writes work again");
                    if failed_for >= margin {
                        w.outage_ended = Some(clock::now());
                    }
                }
                w.health = StoreHealth::Ok;
            }
            Err(e) => {
                let health = match e {
                    StoreError::Full { .. } => StoreHealth::Full,
                    other => StoreHealth::Failing {
                        reason: other.to_string(),
                    },
                };
                if w.failing_since.is_none() || w.health.word() != health.word() {
                    tracing::error!(node = %me, error = %e, "store writes fail");
                }
                w.failing_since.get_or_insert_with(clock::now);
                w.health = health;
            }
        }
    }

    /// Whether this node may judge others by their silence in the store: not while its own
    /// writes fail, and not for `suspicion` after an outage of the store ended. While the store
    /// fails for it, it most likely fails for the others too, and right after it works again
    /// the others have not had their turn to heartbeat: reaping then would declare the whole
    /// cluster dead at once (seen with a full disk: every node reaped the others).
    pub(super) fn may_reap(&self, suspicion: Duration) -> bool {
        let w = self.state();
        w.failing_since.is_none() && w.outage_ended.is_none_or(|at| at.elapsed() >= suspicion)
    }
}
