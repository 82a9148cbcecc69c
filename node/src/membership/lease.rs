//! The lease: a heartbeat that reached the store lets this node answer for its ids for the
//! suspicion time minus a margin, counted on its own monotonic clock from when the heartbeat
//! was sent; a pause of the process (its clock jumping past a heartbeat) ends it at once.
//! Knows nothing of the membership: `Members` renews it and asks it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ringshop_shared::NodeId;
use ringshop_shared::clock::{self, Instant};
use tokio_util::sync::CancellationToken;

/// Times are nanoseconds since `base`, so they fit atomics.
pub(super) struct Lease {
    base: Instant,
    /// The lease runs until `base + until` nanoseconds.
    until: AtomicU64,
    /// Only a heartbeat sent after `base + renew_after` nanoseconds renews the lease: set when
    /// the node finds it was paused, so a heartbeat from before the pause cannot.
    renew_after: AtomicU64,
}

impl Lease {
    /// A lease that has not begun.
    pub(super) fn new() -> Lease {
        Lease {
            base: clock::now(),
            until: AtomicU64::new(0),
            renew_after: AtomicU64::new(0),
        }
    }

    fn since_base(&self, at: Instant) -> u64 {
        nanos(at.saturating_duration_since(self.base))
    }

    /// Runs for `length` from `sent`, the moment the heartbeat that reached the store was sent
    /// (not when its answer came: the store may have been slow).
    pub(super) fn renew(&self, sent: Instant, length: Duration) {
        let sent_at = self.since_base(sent);
        if sent_at < self.renew_after.load(Ordering::Acquire) {
            return;
        }
        let until = sent_at.saturating_add(nanos(length));
        self.until.fetch_max(until, Ordering::AcqRel);
    }

    /// Whether it holds now.
    pub(super) fn holds(&self) -> bool {
        self.since_base(clock::now()) < self.until.load(Ordering::Acquire)
    }

    /// Ends it now (declared dead: only a rejoin renews it).
    pub(super) fn end(&self) {
        self.until.store(0, Ordering::Release);
    }

    /// Ends it now; only a heartbeat sent after `at` renews it.
    fn revoke(&self, at: Instant) {
        self.renew_after
            .fetch_max(self.since_base(at), Ordering::AcqRel);
        self.end();
    }

    /// Watches this process's own clock until `shutdown`: a tick that comes more than a
    /// `heartbeat` late means the process was paused (SIGSTOP, a VM frozen, a long stall). The
    /// lease then ends until a heartbeat sent after the pause lands: the cluster may have
    /// declared `me` dead meanwhile and given its ids away, and the lease was counted on a
    /// clock that stood still for the others.
    pub(super) async fn watch_pauses(
        &self,
        me: &NodeId,
        heartbeat: Duration,
        shutdown: CancellationToken,
    ) {
        let every = (heartbeat / 5).max(Duration::from_millis(5));
        let mut last = clock::now();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            let now = clock::now();
            let gap = now.saturating_duration_since(last);
            last = now;
            if gap > every + heartbeat {
                self.revoke(now);
                tracing::warn!(node = %me, paused_ms = gap.as_millis() as u64, "this process was paused; answering for no id until a heartbeat sent after the pause lands");
            }
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[path = "lease_tests.rs"]
mod tests;
