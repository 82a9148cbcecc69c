//! The store's clock: where the time comes from when a store stamps a heartbeat, a vote, a
//! hold or an order, and when it measures a silence or an age. Normally the store's own (the
//! PostgreSQL server's `now()`, the machine's clock for SQLite); tests set it by hand, so a
//! contract test says "a heartbeat at 12 000, a reap at 13 600" the same way on every backend.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::Millis;

/// Cheap to clone; clones share one hand-set time.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The store's own clock.
    pub fn own() -> Clock {
        Clock(None)
    }

    /// A clock that shows `at` until it is set again (tests).
    pub fn manual(at: Millis) -> Clock {
        Clock(Some(Arc::new(AtomicI64::new(at))))
    }

    /// Sets a manual clock; does nothing to the store's own.
    pub fn set(&self, at: Millis) {
        if let Some(now) = &self.0 {
            now.store(at, Ordering::Release);
        }
    }

    /// The hand-set time, or None for the store's own clock.
    pub fn fixed(&self) -> Option<Millis> {
        self.0.as_ref().map(|now| now.load(Ordering::Acquire))
    }
}

/// A span of time in whole milliseconds, for SQL (saturating: a century is as good as never).
pub(crate) fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

/// Now on this machine's clock: the SQLite store's clock, and what tests stamp by.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}
