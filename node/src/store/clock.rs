//! The store's clock: where the time comes from when a store stamps a heartbeat, a vote, a
//! hold or an order, and when it measures a silence or an age. Normally the store's own (the
//! PostgreSQL server's `now()`, the machine's clock for SQLite and the memory store); tests set
//! it by hand, so a contract test says "a heartbeat at 12 000, a reap at 13 600" the same way
//! on every backend; a simulator drives it from its own time ([`Clock::driven`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::Millis;

/// Cheap to clone; clones share one hand-set time (or one driver).
#[derive(Clone, Default)]
pub struct Clock(Source);

#[derive(Clone, Default)]
enum Source {
    #[default]
    Own,
    Manual(Arc<AtomicI64>),
    Driven(Arc<dyn Fn() -> Millis + Send + Sync>),
}

impl Clock {
    /// The store's own clock.
    pub fn own() -> Clock {
        Clock(Source::Own)
    }

    /// A clock that shows `at` until it is set again (tests).
    pub fn manual(at: Millis) -> Clock {
        Clock(Source::Manual(Arc::new(AtomicI64::new(at))))
    }

    /// A clock that reads `now` at every stamp and measure: a simulator's time, say.
    pub fn driven(now: impl Fn() -> Millis + Send + Sync + 'static) -> Clock {
        Clock(Source::Driven(Arc::new(now)))
    }

    /// A clock driven by tokio's (paused, in tests) clock, from an arbitrary start: the
    /// store's liveness runs on the same time as the node's timers.
    #[cfg(test)]
    pub fn on_tokio_time() -> Clock {
        let start = ringshop_shared::clock::now();
        Clock::driven(move || {
            let since = ringshop_shared::clock::now()
                .saturating_duration_since(start)
                .as_millis();
            1_000_000 + Millis::try_from(since).unwrap_or(Millis::MAX / 2)
        })
    }

    /// Sets a manual clock; does nothing to the store's own or a driven one.
    pub fn set(&self, at: Millis) {
        if let Source::Manual(now) = &self.0 {
            now.store(at, Ordering::Release);
        }
    }

    /// The time set by hand or by a driver, or None for the store's own clock.
    pub fn fixed(&self) -> Option<Millis> {
        match &self.0 {
            Source::Own => None,
            Source::Manual(now) => Some(now.load(Ordering::Acquire)),
            Source::Driven(now) => Some(now()),
        }
    }

    /// Now on this clock, where the store's own clock is this machine's (SQLite, memory).
    pub(super) fn machine_now(&self) -> Millis {
        self.fixed().unwrap_or_else(now_ms)
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::Own => f.write_str("Clock::own"),
            Source::Manual(now) => write!(f, "Clock::manual({})", now.load(Ordering::Acquire)),
            Source::Driven(_) => f.write_str("Clock::driven"),
        }
    }
}

/// A span of time in whole milliseconds, for SQL (saturating: a century is as good as never).
pub(crate) fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

/// Now on this machine's clock: the SQLite store's clock, and what tests stamp by.
pub fn now_ms() -> Millis {
    ringshop_shared::clock::wall_ms()
}
