use ringshop_shared::prefix::IdPrefix;
use ringshop_shared::trace::{SpanRecord, SpanStatus, TraceId};

use super::*;

fn record(trace: u128, span: u64) -> SpanRecord {
    SpanRecord {
        trace: TraceId(trace),
        span,
        parent: 0,
        node: "n1".into(),
        name: "x".into(),
        start_ns: 1,
        duration_ns: 1,
        status: SpanStatus::Ok,
    }
}

#[test]
fn the_ring_keeps_the_newest_spans_and_answers_one_trace() {
    let ring = SpanRing::new(4);
    for i in 0..6u64 {
        ring.push(record(u128::from(i % 2) + 1, i));
    }
    assert_eq!(ring.len(), 4, "bounded");
    let ones: Vec<u64> = ring.of(TraceId(1)).iter().map(|s| s.span).collect();
    assert_eq!(ones, vec![2, 4], "oldest first, the first one pushed out");
    assert!(ring.of(TraceId(9)).is_empty());
    let none = SpanRing::new(0);
    none.push(record(1, 1));
    assert!(none.is_empty(), "a ring of 0 keeps nothing");
}

#[test]
fn the_ring_lists_the_traces_a_prefix_starts_each_once_sorted_and_bounded() {
    let ring = SpanRing::new(64);
    let a = 0xabcdef01_u128 << 96;
    for (trace, span) in [
        (a + 2, 1),
        (a + 1, 2),
        (a + 2, 3),
        (0x1234_u128 << 96, 4),
        (a + 3, 5),
    ] {
        ring.push(record(trace, span));
    }
    let prefix = IdPrefix::parse("abcdef").expect("a prefix");
    assert_eq!(
        ring.traces_starting(&prefix, 10),
        vec![TraceId(a + 1), TraceId(a + 2), TraceId(a + 3)]
    );
    assert_eq!(ring.traces_starting(&prefix, 2).len(), 2, "bounded");
    let none = IdPrefix::parse("999999").expect("a prefix");
    assert!(ring.traces_starting(&none, 10).is_empty());
}
