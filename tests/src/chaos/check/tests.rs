//! The checker on hand-made histories: each property flags the history made to break it, and
//! a clean history (with a handover, an expiry and a clean pause) passes all four.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ringshop_node::store::Audit;
use ringshop_shared::{NodeId, Order, OrderId, OrderLine, ProductId, Stage};

use super::super::books;
use super::super::history::{BuyerFailure, Call, Event, EventKind, History, Main, Seen};
use super::super::report::Report;
use super::super::table::{self, Recovery};
use super::*;

const TTL: Duration = Duration::from_secs(5);

/// `ms` milliseconds after the history's origin.
fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_000_000) + Duration::from_millis(ms)
}

fn n(i: usize) -> NodeId {
    crate::name(i)
}

/// A successful call of `id`, started at `start` ms, answered by `node` with (value, created).
fn ok(id: u64, start: u64, node: usize, value: u32, created: u64) -> Call {
    Call {
        id,
        main: Main::Following,
        start: at(start),
        end: at(start + 1),
        outcome: Ok(Seen {
            node: n(node),
            value,
            created_at: at(created),
            hit: start > created + 1,
        }),
    }
}

fn event(ms: u64, kind: EventKind, node: usize) -> Event {
    Event {
        at: at(ms),
        kind,
        node: n(node),
    }
}

fn history(calls: Vec<Call>, events: Vec<Event>) -> History {
    let mut h = History::new(at(0));
    h.stopped = at(20_000);
    h.calls = calls;
    h.events = events;
    h
}

fn order(stage: Stage, product: &str, qty: u32) -> Order {
    Order {
        id: OrderId::random(),
        customer: "chaos".into(),
        lines: vec![OrderLine {
            product: ProductId::new(product).expect("valid"),
            qty,
        }],
        total_cents: 100,
        stage,
        reason: None,
        node: n(1),
        created_at: at(0),
        updated_at: at(0),
        elapsed: Duration::ZERO,
        waiting: None,
        trace_id: None,
    }
}

fn audit(product: &str, initial: u64, left: u64, sold: u64, held: u64) -> Audit {
    Audit {
        product: ProductId::new(product).expect("valid"),
        initial,
        left,
        sold,
        held,
        done_units: sold,
    }
}

/// Id 1's entry is handed from n1 to n2 at a leave; id 2's first value expires and a new one is
/// made after its TTL; n3 is paused and, once back, answers only values made after.
fn clean() -> History {
    history(
        vec![
            ok(1, 1_000, 1, 11, 900),
            ok(2, 1_100, 1, 21, 1_050),
            ok(1, 3_000, 1, 11, 900),
            ok(1, 5_000, 2, 11, 900),
            ok(2, 7_000, 2, 22, 6_990),
            ok(3, 8_000, 3, 31, 7_900),
            ok(3, 13_000, 4, 32, 12_500),
            ok(3, 14_000, 3, 33, 13_990),
        ],
        vec![
            event(4_000, EventKind::Leave, 1),
            event(9_000, EventKind::Stop, 3),
            event(
                12_000,
                EventKind::Resume {
                    declared_dead: true,
                },
                3,
            ),
        ],
    )
}

#[test]
fn a_clean_history_passes_all_four_properties() {
    let h = clean();
    let done = order(Stage::Done, "mug", 2);
    let declined = order(Stage::Failed, "mug", 1);
    let books = books::check(
        &[audit("mug", 10, 8, 2, 0)],
        &[done.clone(), declined.clone()],
        &[done.id, declined.id],
    );
    let report = Report::new(&h, TTL, books);
    assert!(report.holds(), "{report}");
    assert_eq!(report.stale.pauses.len(), 1);
    assert!(report.stale.pauses[0].declared_dead);
}

#[test]
fn a_failed_value_call_is_flagged() {
    let mut h = clean();
    h.calls.push(Call {
        id: 7,
        main: Main::Following,
        start: at(9_100),
        end: at(11_100),
        outcome: Err("no member is up".into()),
    });
    let a = failures(&h);
    assert_eq!((a.value_calls, a.total()), (1, 1));
    assert!(
        a.examples[0].contains("no member is up"),
        "{:?}",
        a.examples
    );
}

#[test]
fn a_buyer_failure_that_is_not_a_business_outcome_is_flagged() {
    let mut h = clean();
    h.buyer_failures.push(BuyerFailure {
        at: at(9_500),
        order: Some(OrderId::random()),
        what: "watch at paying: no member is up".into(),
    });
    assert_eq!(failures(&h).buyers, 1);
}

#[test]
fn an_older_generation_answered_after_a_newer_one_existed_is_flagged() {
    // n2 made value 12 at 5.0 s; n1 still answered value 11 (made at 0.9 s) at 6.0 s.
    let mut h = clean();
    h.calls.push(ok(1, 4_990, 2, 12, 5_000));
    h.calls.push(ok(1, 6_000, 1, 11, 900));
    let b = two_generations(&h);
    assert_eq!((b.ids, b.answers), (1, 1), "{b:?}");
    let e = &b.examples[0];
    assert_eq!((e.old.value, e.new.value), (11, 12));
    assert_eq!((e.old_node.clone(), e.new_node.clone()), (n(1), n(2)));
    assert!(describe_two_live(h.origin, e).contains("id 1: n1 answered value 11"));
}

#[test]
fn two_generations_made_at_once_on_two_nodes_and_both_answered_later_are_flagged() {
    let mut h = clean();
    h.calls.push(ok(8, 1_000, 1, 81, 1_000));
    h.calls.push(ok(8, 1_000, 2, 82, 1_000));
    h.calls.push(ok(8, 3_000, 1, 81, 1_000));
    h.calls.push(ok(8, 3_000, 2, 82, 1_000));
    let b = two_generations(&h);
    assert_eq!((b.ids, b.answers), (1, 1), "{b:?}");
}

#[test]
fn an_answer_starting_within_the_clock_tolerance_of_a_newer_generation_is_not_flagged() {
    let mut h = clean();
    h.calls.push(ok(9, 1_000, 1, 91, 1_000));
    // Made 1 ms before the old one was asked for again: within the tolerance, not believed.
    h.calls.push(ok(9, 2_000, 2, 92, 1_999));
    h.calls.push(ok(9, 2_000, 1, 91, 1_000));
    assert_eq!(two_generations(&h).ids, 0);
}

#[test]
fn an_answer_after_sigcont_of_a_value_from_before_sigstop_is_flagged() {
    let mut h = clean();
    h.calls.push(ok(3, 12_100, 3, 31, 7_900));
    let c = stale_after_resume(&h);
    assert_eq!(c.answers, 1);
    let pause = &c.pauses[0];
    assert_eq!(
        (pause.node.clone(), pause.answered_after, pause.stale),
        (n(3), 2, 1),
        "value 33 (made after the SIGCONT) is not stale"
    );
    assert!(describe_stale(h.origin, pause, &pause.examples[0]).contains("after its SIGCONT"));
}

#[test]
fn a_value_handed_to_a_node_after_its_sigcont_is_not_stale() {
    let mut h = clean();
    // n2 made value 41 before n3's SIGSTOP and held it; after the SIGCONT n2 left and handed
    // it to n3 (the handover keeps created_at): n3 never held it before the stop.
    h.calls.push(ok(4, 8_500, 2, 41, 8_400));
    h.calls.push(ok(4, 12_500, 3, 41, 8_400));
    assert_eq!(stale_after_resume(&h).answers, 0);
    // The same answer is stale if n3 itself had that value before the stop.
    h.calls.push(ok(4, 8_600, 3, 41, 8_400));
    assert_eq!(stale_after_resume(&h).answers, 1);
}

#[test]
fn books_that_do_not_balance_are_flagged() {
    let done = order(Stage::Done, "mug", 2);
    let stuck = order(Stage::Paying, "mug", 1);
    let lost = OrderId::random();
    let books = books::check(
        &[audit("mug", 10, 6, 3, 1), audit("lamp", 5, 4, 0, 0)],
        &[done.clone(), stuck.clone()],
        &[done.id, stuck.id, lost],
    );
    assert!(!books.balanced());
    let all = books.problems.join("\n");
    for says in [
        "mug: initial 10 != left 6 + sold 3",
        "mug: 1 still held",
        "mug: sold 3 but the orders at stage done bought 2",
        "lamp: initial 5 != left 4 + sold 0",
        "stuck at paying",
        "is not in the store",
    ] {
        assert!(all.contains(says), "missing {says:?} in:\n{all}");
    }
    assert_eq!(books.open, 1);
}

#[test]
fn the_table_tells_handed_over_from_recomputed_entries_and_times_recovery() {
    let mut h = clean();
    // Id 4 was on n1 with 5 s of TTL left at the leave, yet n2 made a new value: recomputed.
    h.calls.push(ok(4, 3_500, 1, 41, 3_400));
    h.calls.push(ok(4, 4_500, 2, 42, 4_490));
    let rows = table::rows(&h, TTL);
    let leave = &rows[0];
    assert_eq!(leave.kind, EventKind::Leave);
    assert_eq!(
        (leave.moved, leave.handed, leave.recomputed, leave.expired),
        (3, 1, 1, 1)
    );
    // The first call after the leave for an id n1 answered last ended at 4.501 s.
    assert_eq!(leave.recovery, Recovery::After(Duration::from_millis(501)));
    let stop = &rows[1];
    assert_eq!(
        (stop.kind, stop.calls, stop.failed),
        (EventKind::Stop, 0, 0)
    );
    assert_eq!(
        stop.recovery,
        Recovery::Never,
        "no call for n3's ids while it was stopped"
    );
}

#[test]
fn a_run_that_made_no_call_and_no_fault_fails() {
    let h = History::new(at(0));
    let books = books::check(&[audit("mug", 10, 10, 0, 0)], &[], &[]);
    let report = Report::new(&h, TTL, books);
    assert!(!report.ran(), "{report}");
    assert!(!report.holds(), "an empty run passed: {report}");
    let mut calls_only = clean();
    calls_only.events.clear();
    let books = books::check(&[audit("mug", 10, 10, 0, 0)], &[], &[]);
    assert!(!Report::new(&calls_only, TTL, books).holds());
}
