//! Bugs planted on purpose (issue 22): each breaks one promise the way a plausible mistake
//! would, so the simulator can show it catches it (`tests/tests/sim.rs`, `planted_*`). Built
//! only with the `planted` feature (the tests crate's), and even then off unless a test turns
//! one on for its own thread (the simulator runs every host of a run on one thread).

/// One planted bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// A new owner serves an id it gained before the old owner surrendered it (skips the hold
    /// of the ownership handshake).
    ServesBeforeSurrender,
    /// A node answers although its lease ran out (after a pause, before it renewed).
    ServesWithoutLease,
    /// A checkout is acknowledged although its order was not committed (a failed write is
    /// answered as a stored order).
    AcksBeforeCommit,
}

#[cfg(feature = "planted")]
thread_local! {
    static PLANTED: std::cell::Cell<Option<Bug>> = const { std::cell::Cell::new(None) };
}

/// Whether `bug` is planted on this thread.
#[inline]
pub fn on(bug: Bug) -> bool {
    #[cfg(feature = "planted")]
    {
        PLANTED.with(|p| p.get() == Some(bug))
    }
    #[cfg(not(feature = "planted"))]
    {
        let _ = bug;
        false
    }
}

/// Plants `bug` on this thread until the guard drops.
#[cfg(feature = "planted")]
pub fn plant(bug: Bug) -> Planted {
    Planted(PLANTED.with(|p| p.replace(Some(bug))))
}

/// Takes the planted bug out again.
#[cfg(feature = "planted")]
#[must_use = "the bug is planted only while this guard lives"]
pub struct Planted(Option<Bug>);

#[cfg(feature = "planted")]
impl Drop for Planted {
    fn drop(&mut self) {
        PLANTED.with(|p| p.set(self.0));
    }
}
