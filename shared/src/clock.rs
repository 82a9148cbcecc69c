//! The one place node/ and shared/ read the time (a test in `tests/tests/clock.rs` fails on
//! an `Instant::now` or `SystemTime::now` anywhere else).
//!
//! - [`now`]: monotonic time, from tokio's clock. In production it is the machine's monotonic
//!   clock (outside a runtime too: tokio falls back to `std`); a test on paused time
//!   (`#[tokio::test(start_paused = true)]`) moves it by hand, so leases, suspicion, TTLs and
//!   retries run in microseconds and never race the machine's load.
//! - [`wall`], [`wall_ms`]: the calendar, for stamps a person reads (`created_at`, certificate
//!   validity) and for the machine's clock a store measures liveness on. Never for intervals.
//! - [`deadline_after`], [`left`], [`on_clock`]: tarpc keeps a call's deadline as a
//!   `std::time::Instant` and turns it into a duration on `std`'s clock before arming a tokio
//!   timer, so the seam converts through "time left" rather than through `from_std` (which
//!   would mix the two clocks once a test pauses tokio's).
//!
//! - [`simulated`]: a simulator's calendar for this thread. tokio's clock is already the
//!   simulator's inside its runtimes; the calendar is not, so a simulator (which runs every
//!   host on one thread) gives [`wall`] its own time here for as long as it runs.
//!
//! This module never sleeps or spawns, and keeps no state but that one thread-local hook.

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use tokio::time::Instant;

/// Now on the monotonic clock (tokio's: paused and advanced by tests).
pub fn now() -> Instant {
    Instant::now()
}

/// Now on the calendar: for stamps people read, never for measuring an interval.
pub fn wall() -> SystemTime {
    let simulated = CALENDAR
        .with(Cell::get)
        .and_then(|since_epoch| since_epoch());
    simulated.map_or_else(SystemTime::now, |since| UNIX_EPOCH + since)
}

/// A simulator's calendar: time since the epoch, or None when it has no time to give
/// (outside its hosts).
pub type Calendar = fn() -> Option<Duration>;

thread_local! {
    /// The simulator's calendar on this thread, if one runs here.
    static CALENDAR: Cell<Option<Calendar>> = const { Cell::new(None) };
}

/// While the guard lives, [`wall`] on this thread reads `since_epoch` (falling back to the
/// machine's calendar where it gives None). For a simulator only.
pub fn simulated(since_epoch: Calendar) -> Simulated {
    Simulated(CALENDAR.with(|c| c.replace(Some(since_epoch))))
}

/// Gives [`wall`] back the calendar it had before [`simulated`].
#[must_use = "the simulated calendar lasts only while this guard lives"]
pub struct Simulated(Option<Calendar>);

impl Drop for Simulated {
    fn drop(&mut self) {
        CALENDAR.with(|c| c.set(self.0));
    }
}

/// Milliseconds since the Unix epoch on the calendar (0 on a clock set before 1970).
pub fn wall_ms() -> i64 {
    wall()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A tarpc deadline `after` from now. `after` is bounded by its callers (a call's own
/// deadline, or the codec's `MAX_DEADLINE` for what a peer sends); past `Instant`'s range it
/// saturates to a year from now instead of panicking.
pub fn deadline_after(after: Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_add(after)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

/// Time left until a tarpc deadline; zero once it has passed.
pub fn left(deadline: std::time::Instant) -> Duration {
    deadline.saturating_duration_since(std::time::Instant::now())
}

/// A tarpc deadline as an instant on [`now`]'s clock: now plus the time left.
pub fn on_clock(deadline: std::time::Instant) -> Instant {
    let now = now();
    now.checked_add(left(deadline)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paused_time_moves_only_when_advanced() {
        let start = now();
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(now() - start, Duration::from_secs(90));
    }

    #[tokio::test(start_paused = true)]
    async fn a_tarpc_deadline_keeps_its_time_left_on_a_paused_clock() {
        tokio::time::advance(Duration::from_secs(3600)).await;
        let until = on_clock(deadline_after(Duration::from_secs(5)));
        let left = until - now();
        assert!(left <= Duration::from_secs(5) && left > Duration::from_secs(4));
    }

    #[test]
    fn a_simulated_calendar_holds_on_its_thread_while_its_guard_lives() {
        fn at_2001() -> Option<Duration> {
            Some(Duration::from_secs(978_307_200))
        }
        fn nothing() -> Option<Duration> {
            None
        }
        let simulated = simulated(at_2001);
        assert_eq!(wall(), UNIX_EPOCH + Duration::from_secs(978_307_200));
        let elsewhere = std::thread::spawn(wall).join().expect("a thread");
        assert!(elsewhere > UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        {
            let _inner = self::simulated(nothing);
            assert!(wall() > UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        }
        assert_eq!(wall_ms(), 978_307_200_000);
        drop(simulated);
        assert!(wall() > UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    }

    #[test]
    fn now_works_outside_a_runtime() {
        let start = now();
        assert!(now() >= start);
    }

    #[test]
    fn a_deadline_past_the_range_of_instant_saturates() {
        assert!(left(deadline_after(Duration::MAX)) > Duration::from_secs(3600));
        assert_eq!(left(deadline_after(Duration::ZERO)), Duration::ZERO);
    }
}
