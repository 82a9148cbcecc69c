//! What successive members snapshots say together about one node: its requests per second
//! (the sparkline) and the p99 of its service times over the last seconds, read from the
//! counters it reports and timed by its own uptime, so neither the screen's refresh nor the
//! network's delays distort them. A node that restarted (its uptime or a count went back)
//! starts a new series. Plain data.

use std::collections::VecDeque;
use std::time::Duration;

use ringshop_shared::latency;

use crate::client::MemberStats;

/// Requests-per-second values kept per node (the sparkline's width at most).
pub const RATES_KEPT: usize = 60;
/// The p99 covers the requests of about this long (the snapshots within it).
pub const P99_WINDOW: Duration = Duration::from_secs(10);

/// One node's recent history.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeHistory {
    /// Its snapshots within `P99_WINDOW`, oldest first: its uptime and latency counts then.
    samples: VecDeque<(Duration, Vec<u64>)>,
    /// Requests per second between successive snapshots, oldest first.
    pub rates: VecDeque<f64>,
    /// The p99 of the requests answered within the window; None when there were none.
    pub p99: Option<Duration>,
}

fn total(counts: &[u64]) -> u64 {
    counts.iter().fold(0u64, |t, c| t.saturating_add(*c))
}

impl NodeHistory {
    /// Takes in one more snapshot of the node's counters.
    pub fn observe(&mut self, stats: &MemberStats) {
        let now = stats.uptime;
        if let Some((then, counts)) = self.samples.back() {
            if now == *then {
                return; // the same snapshot again: nothing new
            }
            let added = latency::since(counts, &stats.latency).filter(|_| now > *then);
            match added {
                Some(added) => {
                    let secs = (now - *then).as_secs_f64();
                    self.rates.push_back(total(&added) as f64 / secs);
                    if self.rates.len() > RATES_KEPT {
                        self.rates.pop_front();
                    }
                }
                // It restarted: its counters began again.
                None => self.samples.clear(),
            }
        }
        self.samples.push_back((now, stats.latency.clone()));
        while self.samples.len() > 2
            && self
                .samples
                .get(1)
                .is_some_and(|(t, _)| now.saturating_sub(*t) >= P99_WINDOW)
        {
            self.samples.pop_front();
        }
        self.p99 = match (self.samples.front(), self.samples.back()) {
            (Some((_, first)), Some((_, last))) if self.samples.len() > 1 => {
                latency::since(first, last).and_then(|added| latency::quantile(&added, 0.99))
            }
            _ => None,
        };
    }

    /// Requests per second between the last two snapshots.
    pub fn rate(&self) -> Option<f64> {
        self.rates.back().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(uptime_s: u64, latency: Vec<u64>) -> MemberStats {
        MemberStats {
            uptime: Duration::from_secs(uptime_s),
            latency,
            ..MemberStats::default()
        }
    }

    /// Counts with `fast` requests under 1 ms (bucket of 500 µs) and `slow` at ~50 ms.
    fn counts(fast: u64, slow: u64) -> Vec<u64> {
        let mut c = vec![0; latency::BUCKETS];
        c[latency::bucket_of(500)] = fast;
        c[latency::bucket_of(50_000)] = slow;
        c
    }

    #[test]
    fn the_rate_is_requests_between_snapshots_over_the_nodes_own_time() {
        let mut h = NodeHistory::default();
        h.observe(&stats(10, counts(100, 0)));
        assert_eq!(h.rate(), None, "one snapshot says no rate");
        h.observe(&stats(12, counts(140, 0)));
        assert_eq!(h.rate(), Some(20.0));
        h.observe(&stats(12, counts(140, 0)));
        assert_eq!(h.rates.len(), 1, "the same snapshot twice adds nothing");
    }

    #[test]
    fn the_p99_covers_the_window_not_the_nodes_whole_life() {
        let mut h = NodeHistory::default();
        h.observe(&stats(1, counts(0, 0)));
        h.observe(&stats(2, counts(0, 50)));
        let slow = h.p99.expect("50 requests");
        assert!(slow > Duration::from_millis(40), "{slow:?}");
        for s in 3..30 {
            h.observe(&stats(s, counts(1000 * s, 50)));
        }
        let fast = h.p99.expect("thousands");
        assert!(
            fast < Duration::from_millis(1),
            "the slow ones left the window: {fast:?}"
        );
    }

    #[test]
    fn a_restarted_node_starts_a_new_series() {
        let mut h = NodeHistory::default();
        h.observe(&stats(100, counts(5000, 0)));
        h.observe(&stats(3, counts(10, 0)));
        assert_eq!(h.rate(), None, "no rate across a restart");
        assert_eq!(h.p99, None);
        h.observe(&stats(4, counts(20, 0)));
        assert_eq!(h.rate(), Some(10.0));
    }
}
