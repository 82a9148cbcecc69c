//! The one periodic loop a node's background tasks share (the actors' sweeper, the failure
//! detector, the reaper): a tick every period, late ticks delayed rather than bunched, until
//! shutdown.

use std::time::Duration;

use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// Ticks every `period` (the first at once) until `shutdown`.
pub struct Ticks {
    interval: Interval,
    shutdown: CancellationToken,
}

impl Ticks {
    pub fn new(period: Duration, shutdown: CancellationToken) -> Ticks {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Ticks { interval, shutdown }
    }

    /// Waits for the next tick: true, or false once `shutdown` is cancelled.
    pub async fn next(&mut self) -> bool {
        tokio::select! {
            _ = self.shutdown.cancelled() => false,
            _ = self.interval.tick() => true,
        }
    }
}
