//! `patiently`'s retries on paused time: the pauses are exact (10 ms, doubling), a stutter
//! costs the caller only time, and past the caller's patience or on a lasting error the error
//! reaches it.

use std::sync::atomic::{AtomicU32, Ordering};

use ringshop_shared::clock::now;

use super::*;

fn busy() -> StoreError {
    StoreError::Busy {
        reason: "locked".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_stuttering_store_costs_time_not_an_error() {
    let calls = AtomicU32::new(0);
    let started = now();
    let answer = patiently(started + Duration::from_secs(2), || async {
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => Err(busy()),
            _ => Ok(7),
        }
    })
    .await;
    assert_eq!(answer.ok(), Some(7));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(10 + 20),
        "paused 10 ms then 20"
    );
}

#[tokio::test(start_paused = true)]
async fn past_the_patience_the_transient_error_reaches_the_caller() {
    let calls = AtomicU32::new(0);
    let started = now();
    let answer: Result<(), StoreError> = patiently(started + Duration::from_millis(100), || {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Err(busy()) }
    })
    .await;
    assert!(matches!(answer, Err(StoreError::Busy { .. })), "{answer:?}");
    // Tries at 0, 10, 30 and 70 ms; a fifth, 80 ms later, would end past the patience.
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(started.elapsed(), Duration::from_millis(70));
}

#[tokio::test(start_paused = true)]
async fn a_lasting_error_is_not_tried_again() {
    let calls = AtomicU32::new(0);
    let started = now();
    let answer: Result<(), StoreError> = patiently(started + Duration::from_secs(2), || {
        calls.fetch_add(1, Ordering::SeqCst);
        async {
            Err(StoreError::Full {
                what: "writing",
                reason: "disk full".into(),
            })
        }
    })
    .await;
    assert!(matches!(answer, Err(StoreError::Full { .. })), "{answer:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(started.elapsed(), Duration::ZERO);
}
