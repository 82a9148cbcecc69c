//! The lease: a heartbeat that reached the store lets this node answer for its ids for the
//! suspicion time minus a margin, counted on its own monotonic clock from when the heartbeat
//! was sent; a pause of the process (its clock jumping past a heartbeat) ends it at once.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::Members;

impl Members {
    /// The lease runs for `lease()` from `sent`, the moment the heartbeat that reached the
    /// store was sent (not when its answer came: the store may have been slow).
    pub(super) fn renew(&self, sent: Instant) {
        let i = &self.inner;
        let sent_at = sent.saturating_duration_since(i.base);
        if nanos(sent_at) < i.renew_after.load(Ordering::Acquire) {
            return;
        }
        let until = sent_at + i.timing.lease();
        let until = u64::try_from(until.as_nanos()).unwrap_or(u64::MAX);
        i.lease_until.fetch_max(until, Ordering::AcqRel);
    }

    /// Watches this process's own clock until `shutdown`: a tick that comes more than a
    /// heartbeat late means the process was paused (SIGSTOP, a VM frozen, a long GC-like
    /// stall). It then answers for no id until a heartbeat sent after the pause lands: the
    /// cluster may have declared it dead meanwhile and given its ids away, and the lease it
    /// held was counted on a clock that stood still for the others.
    pub async fn watch_pauses(self, shutdown: CancellationToken) {
        let i = &self.inner;
        let every = (i.timing.heartbeat / 5).max(Duration::from_millis(5));
        let mut last = Instant::now();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            let now = Instant::now();
            let gap = now.saturating_duration_since(last);
            last = now;
            if gap > every + i.timing.heartbeat {
                self.revoke_lease(now);
                tracing::warn!(node = %i.me, paused_ms = gap.as_millis() as u64, "this process was paused; answering for no id until a heartbeat sent after the pause lands");
            }
        }
    }

    /// Ends the lease now; only a heartbeat sent after `at` renews it.
    fn revoke_lease(&self, at: Instant) {
        let i = &self.inner;
        let at = nanos(at.saturating_duration_since(i.base));
        i.renew_after.fetch_max(at, Ordering::AcqRel);
        i.lease_until.store(0, Ordering::Release);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
