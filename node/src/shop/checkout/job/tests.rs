//! The job's decisions that need no cluster: how long it waits, what it retries, and whether
//! it goes on after an error.

use std::time::{Duration, SystemTime};

use ringshop_shared::{NodeId, Order, OrderId, ProductId, ShardError, Stage};

use super::*;

fn node(name: &str) -> NodeId {
    NodeId::new(name).expect("valid")
}

fn stored(stage: Stage, owner: &str, version: u64) -> StoredOrder {
    StoredOrder {
        order: Order {
            id: OrderId::random(),
            customer: "ada".into(),
            lines: Vec::new(),
            total_cents: 0,
            stage,
            reason: None,
            node: node(owner),
            created_at: SystemTime::UNIX_EPOCH,
            updated_at: SystemTime::UNIX_EPOCH,
            elapsed: Duration::ZERO,
            waiting: None,
            trace_id: None,
        },
        version,
        trace_parent: None,
    }
}

#[test]
fn the_backoff_doubles_from_100_ms_and_stops_growing_at_5_s() {
    let waits: Vec<u128> = (1..=8).map(|n| backoff(n).as_millis()).collect();
    assert_eq!(waits, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    assert_eq!(backoff(u32::MAX), Duration::from_secs(5), "no overflow");
}

#[test]
fn store_errors_and_unreachable_owners_are_retried_not_failed() {
    let me = node("n1");
    assert!(retryable(&ShardError::Store {
        node: me.clone(),
        reason: "database is locked".into()
    }));
    assert!(retryable(&ShardError::PeerUnreachable {
        node: me.clone(),
        target: "the owner of mug".into(),
        reason: "connection refused".into(),
    }));
    assert!(retryable(&ShardError::ShuttingDown { node: me }));
}

#[test]
fn a_released_hold_or_a_closed_order_is_an_answer_about_the_order_not_retried() {
    let (order, mug) = (OrderId::random(), ProductId::new("mug").expect("valid"));
    assert!(!retryable(&ShardError::HoldReleased {
        order,
        product: mug.clone(),
    }));
    assert!(!retryable(&ShardError::NoOpenOrder {
        order,
        product: mug,
        qty: 1,
    }));
    assert!(!retryable(&ShardError::Invalid {
        what: "an argument out of range".into()
    }));
}

#[test]
fn answers_about_the_order_itself_are_not_retried() {
    let mug = ProductId::new("mug").expect("valid");
    assert!(!retryable(&ShardError::OutOfStock {
        product: mug.clone(),
        wanted: 2,
        left: 1
    }));
    assert!(!retryable(&ShardError::UnknownProduct { id: mug }));
}

#[test]
fn after_an_error_a_job_goes_on_from_the_order_as_stored_if_nobody_moved_it() {
    let cur = stored(Stage::Paying, "n1", 3);
    let same = stored(Stage::Paying, "n1", 3);
    assert_eq!(
        resume(&node("n1"), &cur, Some(same.clone())),
        Resume::Continue(Box::new(same))
    );
}

#[test]
fn after_an_error_a_job_goes_on_if_its_own_write_landed() {
    let cur = stored(Stage::Accepted, "n1", 3);
    let landed = stored(Stage::Reserving, "n1", 4);
    assert_eq!(
        resume(&node("n1"), &cur, Some(landed.clone())),
        Resume::Continue(Box::new(landed))
    );
}

#[test]
fn after_an_error_a_job_stops_if_another_node_claimed_the_order() {
    let cur = stored(Stage::Paying, "n1", 3);
    let claimed = stored(Stage::Paying, "n2", 4);
    assert_eq!(resume(&node("n1"), &cur, Some(claimed)), Resume::Stop);
}

#[test]
fn after_an_error_a_job_stops_if_the_order_is_final_or_gone() {
    let cur = stored(Stage::Paying, "n1", 3);
    let done = stored(Stage::Done, "n1", 4);
    assert_eq!(resume(&node("n1"), &cur, Some(done)), Resume::Stop);
    assert_eq!(resume(&node("n1"), &cur, None), Resume::Stop);
}

#[test]
fn an_owner_out_of_reach_for_the_whole_limit_fails_the_order_saying_why() {
    let mug = ProductId::new("mug").expect("valid");
    let reason = gave_up(&mug, "n2 is alive for the cluster but cannot be reached");
    assert!(
        reason.starts_with("mug: its owner could not be reached for 30 s"),
        "{reason}"
    );
    assert!(reason.contains("nothing was charged"), "{reason}");
}
