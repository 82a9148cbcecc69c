//! Service times as a histogram a node counts cheaply and a client turns into percentiles.
//!
//! A node counts each request it took (admission's ticket: from admitted to answered) in one
//! of `BUCKETS` buckets by microseconds: exact below 8 µs, then 8 buckets per power of two
//! (each at most 12.5% wide), up to ~134 s (anything slower counts in the last bucket). The
//! counts only grow, so a client takes two snapshots and reads the percentile of the requests
//! between them (`quantile` over the differences): a true p99 of the last seconds, to within
//! one bucket, reported as the bucket's upper bound (never better than it was).
//!
//! On the wire the counts are `NodeStats::latency`, trailing empty buckets left off; a reader
//! takes at most `BUCKETS` of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Buckets below 8 µs, one per microsecond.
const EXACT: u64 = 8;
/// Buckets per power of two past `EXACT` (3 bits).
const SUB_BITS: u32 = 3;
/// Powers of two counted past `EXACT`: 2^3 µs to 2^27 µs (~134 s).
const OCTAVES: u32 = 24;
/// How many buckets a histogram has.
pub const BUCKETS: usize = (EXACT as usize) + ((OCTAVES as usize) << SUB_BITS);

/// The bucket a service time of `micros` counts in.
pub fn bucket_of(micros: u64) -> usize {
    if micros < EXACT {
        return micros as usize;
    }
    let octave = 63 - micros.leading_zeros(); // ≥ 3
    let sub = (micros >> (octave - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    let index = EXACT as usize + (((octave - SUB_BITS) as usize) << SUB_BITS) + sub as usize;
    index.min(BUCKETS - 1)
}

/// The longest service time bucket `index` holds (its upper bound, exclusive).
pub fn upper_bound(index: usize) -> Duration {
    let index = index.min(BUCKETS - 1) as u64;
    if index < EXACT {
        return Duration::from_micros(index + 1);
    }
    let octave = (index - EXACT) >> SUB_BITS;
    let sub = (index - EXACT) & ((1 << SUB_BITS) - 1);
    Duration::from_micros(((1 << SUB_BITS) + sub + 1) << octave)
}

/// The `q` quantile (0 < q ≤ 1) of the times counted in `counts`: the upper bound of the
/// bucket the `ceil(q × total)`-th time falls in. None when nothing was counted.
pub fn quantile(counts: &[u64], q: f64) -> Option<Duration> {
    let total = counts.iter().fold(0u64, |t, c| t.saturating_add(*c));
    if total == 0 {
        return None;
    }
    let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
    let mut seen = 0u64;
    for (i, c) in counts.iter().enumerate().take(BUCKETS) {
        seen = seen.saturating_add(*c);
        if seen >= rank {
            return Some(upper_bound(i));
        }
    }
    Some(upper_bound(counts.len().min(BUCKETS).saturating_sub(1)))
}

/// The counts added between two snapshots `before` and `after` of one histogram, bucket by
/// bucket; None when a count went down (not the same histogram: its node restarted).
pub fn since(before: &[u64], after: &[u64]) -> Option<Vec<u64>> {
    let len = after.len().max(before.len()).min(BUCKETS);
    (0..len)
        .map(|i| {
            let (b, a) = (
                before.get(i).copied().unwrap_or(0),
                after.get(i).copied().unwrap_or(0),
            );
            a.checked_sub(b)
        })
        .collect()
}

/// A histogram counted from many tasks at once (relaxed atomics: each count is exact, a
/// snapshot is one moment's counts give or take a request in flight).
#[derive(Debug)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: [const { AtomicU64::new(0) }; BUCKETS],
        }
    }
}

impl Histogram {
    pub fn record(&self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.counts[bucket_of(micros)].fetch_add(1, Ordering::Relaxed);
    }

    /// The counts now, trailing empty buckets left off.
    pub fn snapshot(&self) -> Vec<u64> {
        let mut counts: Vec<u64> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        while counts.last() == Some(&0) {
            counts.pop();
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_falls_in_a_bucket_whose_bounds_hold_it_within_an_eighth() {
        let mut last = 0;
        for micros in (0..100_000u64).chain([1 << 26, (1 << 27) - 1]) {
            let i = bucket_of(micros);
            assert!(i >= last, "buckets grow with time");
            last = i;
            let upper = upper_bound(i).as_micros() as u64;
            assert!(
                micros < upper,
                "{micros} µs is below its bucket's bound {upper}"
            );
            let lower = if i == 0 {
                0
            } else {
                upper_bound(i - 1).as_micros() as u64
            };
            assert!(
                micros >= lower,
                "{micros} µs is past the previous bound {lower}"
            );
            assert!(upper - lower <= (lower / 8).max(1), "bucket {i} is narrow");
        }
        assert_eq!(
            bucket_of(u64::MAX),
            BUCKETS - 1,
            "anything slower: the last one"
        );
    }

    #[test]
    fn the_p99_of_a_hundred_times_is_the_bucket_of_the_99th() {
        let h = Histogram::default();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let p99 = quantile(&h.snapshot(), 0.99).expect("counted");
        assert!(
            p99 >= Duration::from_millis(99) && p99 <= Duration::from_millis(112),
            "{p99:?}"
        );
        let p50 = quantile(&h.snapshot(), 0.5).expect("counted");
        assert!(p50 >= Duration::from_millis(50) && p50 <= Duration::from_millis(57));
        assert_eq!(quantile(&[], 0.99), None);
    }

    #[test]
    fn differences_between_snapshots_are_the_requests_between_them() {
        let h = Histogram::default();
        h.record(Duration::from_secs(2));
        let before = h.snapshot();
        for _ in 0..10 {
            h.record(Duration::from_micros(300));
        }
        let between = since(&before, &h.snapshot()).expect("only grew");
        let p99 = quantile(&between, 0.99).expect("ten");
        assert!(
            p99 < Duration::from_micros(340),
            "the old 2 s is not in it: {p99:?}"
        );
        assert_eq!(since(&h.snapshot(), &before), None, "a count went down");
    }
}
