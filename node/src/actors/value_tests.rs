use std::sync::Arc;
use std::time::Duration;

use ringshop_shared::{NodeId, Placed};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::*;
use crate::actors::Claims;

/// This node may answer for every id (one node, no ring).
struct Everything;

impl Claims for Everything {
    fn check(&self, _: &dyn Placed) -> Result<(), ShardError> {
        Ok(())
    }
}

fn registry(ttl: Duration) -> Registry {
    let name = NodeId::new("t1").expect("valid");
    let claims = Arc::new(Everything);
    Registry::new(
        name,
        ttl,
        (),
        claims,
        CancellationToken::new(),
        TaskTracker::new(),
    )
}

impl Registry {
    /// Asks until answered (an actor that retired under the ask is asked again).
    async fn request(&self, id: u64) -> Result<Cached, ShardError> {
        loop {
            if let Some(answer) = self.value(id).await? {
                return Ok(answer);
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn concurrent_misses_compute_once() {
    let reg = registry(Duration::from_secs(5));
    let answers = futures::future::join_all((0..1000).map(|_| reg.request(42))).await;
    let values: Vec<u32> = answers
        .into_iter()
        .map(|a| a.expect("answered").value)
        .collect();
    assert!(values.iter().all(|v| *v == values[0]));
    let stats = reg.stats();
    assert_eq!((stats.misses, stats.hits, stats.requests), (1, 999, 1000));
    assert_eq!(stats.live_actors, 1);
}

#[tokio::test(start_paused = true)]
async fn kept_value_is_a_hit_that_ages_and_names_its_node() {
    let reg = registry(Duration::from_secs(5));
    let first = reg.request(7).await.expect("miss");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let second = reg.request(7).await.expect("hit");
    assert!(!first.hit && second.hit);
    assert_eq!(first.value, second.value);
    assert!((1..=1000).contains(&first.value));
    assert_eq!(second.node.as_str(), "t1");
    assert!(second.age >= Duration::from_secs(2));
    assert!(second.ttl_left <= Duration::from_secs(3));
    assert_eq!(second.expires_at, first.expires_at);
}

#[tokio::test(start_paused = true)]
async fn after_the_ttl_the_actor_retires_and_a_new_value_is_made() {
    let reg = registry(Duration::from_secs(5));
    reg.request(7).await.expect("miss");
    tokio::time::sleep(Duration::from_millis(5_001)).await;
    // Let the sweeper remove it.
    tokio::task::yield_now().await;
    assert_eq!(reg.live(), 0);
    assert_eq!(reg.stats().retirements, 1);
    let again = reg.request(7).await.expect("fresh miss");
    assert!(!again.hit);
    assert_eq!(reg.stats().misses, 2);
}

#[tokio::test(start_paused = true)]
async fn requests_across_many_ttls_never_error() {
    let reg = registry(Duration::from_millis(10));
    let workers = (0..8).map(|_| {
        let reg = reg.clone();
        async move {
            for _ in 0..500 {
                reg.request(1).await.expect("never an error");
                tokio::time::sleep(Duration::from_micros(300)).await;
            }
        }
    });
    futures::future::join_all(workers).await;
    let stats = reg.stats();
    assert_eq!(stats.requests, 4000);
    assert!(
        stats.retirements >= 10,
        "only {} retirements",
        stats.retirements
    );
    // Once the last value retired and the sweeper took it, every miss was retired once.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stats = reg.stats();
    assert_eq!(reg.live(), 0);
    assert_eq!(stats.misses, stats.retirements);
}

#[tokio::test(start_paused = true)]
async fn a_surrendered_entry_is_adopted_elsewhere_as_a_hit_with_its_age() {
    let old = registry(Duration::from_secs(5));
    let new = registry(Duration::from_secs(5));
    let first = old.request(9).await.expect("miss");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let handed = old.surrender(&9).await.expect("an entry to hand over");
    assert_eq!(old.live(), 0);
    assert_eq!(handed.value, first.value);
    assert_eq!(handed.ttl_left, Duration::from_secs(3));
    assert_eq!(new.adopt_entry(&handed), Ok(true));
    let there = new.request(9).await.expect("hit");
    assert!(there.hit);
    assert_eq!(there.value, first.value);
    assert!(there.age >= Duration::from_secs(2));
    tokio::time::sleep(Duration::from_millis(3_001)).await;
    tokio::task::yield_now().await;
    assert_eq!(new.live(), 0, "it still expires at its original time");
    assert_eq!((old.stats().handed_off, new.stats().adopted), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn adoption_never_replaces_a_live_actor() {
    let reg = registry(Duration::from_secs(5));
    let here = reg.request(4).await.expect("miss");
    let handed = Handed {
        id: 4,
        value: here.value % 1000 + 1,
        created_at: here.created_at,
        age: Duration::ZERO,
        ttl_left: Duration::from_secs(1),
    };
    assert_eq!(reg.adopt_entry(&handed), Ok(false));
    assert_eq!(reg.request(4).await.expect("hit").value, here.value);
}

/// Found by simulator seed 5482: an entry read with 0.25 s left, whose handoff frame a
/// partition held up for 0.65 s, lived 0.65 s past its TTL on the adopter, which counted its
/// `ttl_left` from the frame's arrival. The wall-clock expiry it carries bounds it now.
#[tokio::test(start_paused = true)]
async fn an_entry_held_up_in_transit_past_its_expiry_is_not_adopted() {
    let reg = registry(Duration::from_secs(5));
    let now = ringshop_shared::clock::wall();
    // Read 0.65 s ago with 0.25 s left: it expired 0.4 s ago.
    let late = Handed {
        id: 21,
        value: 41,
        created_at: now - Duration::from_millis(4_650),
        age: Duration::from_secs(4),
        ttl_left: Duration::from_millis(250),
    };
    assert_eq!(reg.adopt_entry(&late), Ok(false), "expired on the way");
    let asked = reg.request(21).await.expect("answered");
    assert!(!asked.hit, "nothing adopted: a miss makes a fresh value");
    // One held up for less than it had left is kept only for what remains by the wall clock.
    let held = Handed {
        id: 22,
        value: 42,
        created_at: now - Duration::from_millis(4_100),
        age: Duration::from_secs(4),
        ttl_left: Duration::from_millis(250),
    };
    assert_eq!(reg.adopt_entry(&held), Ok(true));
    assert_eq!(reg.request(22).await.expect("hit").value, 42);
    tokio::time::advance(Duration::from_millis(160)).await;
    let after = reg.request(22).await.expect("answered");
    assert!(
        !after.hit,
        "kept 150 ms (its wall-clock expiry), not the 250 ms it was read with"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stopping_registry_refuses_with_shutting_down() {
    let reg = registry(Duration::from_secs(5));
    reg.request(3).await.expect("before shutdown");
    reg.shared.shutdown.cancel();
    let err = reg.request(3).await.expect_err("after shutdown");
    assert!(matches!(err, ShardError::ShuttingDown { .. }));
}

#[tokio::test(start_paused = true)]
async fn entries_from_the_wire_that_do_not_add_up_are_refused_and_leave_nothing_behind() {
    let reg = registry(Duration::from_secs(5));
    let good = Handed {
        id: 11,
        value: 500,
        created_at: ringshop_shared::clock::wall(),
        age: Duration::from_secs(1),
        ttl_left: Duration::from_secs(2),
    };
    let bad = [
        Handed {
            ttl_left: Duration::MAX,
            ..good.clone()
        },
        Handed {
            ttl_left: Duration::from_secs(6),
            ..good.clone()
        },
        Handed {
            ttl_left: Duration::ZERO,
            ..good.clone()
        },
        Handed {
            age: Duration::MAX,
            ..good.clone()
        },
        Handed {
            value: 0,
            ..good.clone()
        },
        Handed {
            created_at: std::time::UNIX_EPOCH + Duration::from_secs(u64::MAX / 2),
            ..good.clone()
        },
    ];
    for handed in &bad {
        assert!(reg.adopt_entry(handed).is_err(), "{handed:?} was kept");
    }
    assert_eq!(reg.live(), 0, "no slot was made for a refused entry");
    assert_eq!(reg.stats().adopt_rejected, bad.len() as u64);
    let fresh = reg.request(11).await.expect("the id still answers");
    assert!(!fresh.hit);
    assert_eq!(reg.adopt_entry(&good), Ok(false), "a live actor wins");
}

/// The race a read without a turn must win: readers on 4 threads' worth of tasks read ids whose
/// values live 3 ms, while the actors retire, are swept, are surrendered under them, and
/// misses make new values. For each id: no answer was expired when its call began, no answer
/// is of an older generation than an answer that ended before its call began, and each
/// generation is one value.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_without_a_turn_never_see_a_retired_or_older_value() {
    use std::collections::BTreeMap;
    use std::time::SystemTime;

    const IDS: u64 = 4;
    const TTL: Duration = Duration::from_millis(3);
    let reg = registry(TTL);
    let run_for = Duration::from_millis(500);
    let started = clock::now();
    let mut tasks = Vec::new();
    for r in 0..16u64 {
        let reg = reg.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut i = r;
            while started.elapsed() < run_for {
                let id = i % IDS;
                i += 1;
                let (start, wall) = (clock::now(), clock::wall());
                let answer = reg.request(id).await.expect("never an error");
                seen.push((id, start, clock::now(), wall, answer));
                if i % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            seen
        }));
    }
    // One more task surrenders ids under the readers.
    let surrenders = {
        let reg = reg.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            while started.elapsed() < run_for {
                reg.surrender(&(n % IDS)).await;
                n += 1;
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
            n
        })
    };
    let mut seen = Vec::new();
    for task in tasks {
        seen.extend(task.await.expect("a reader ends"));
    }
    let surrendered = surrenders.await.expect("the surrenderer ends");
    let stats = reg.stats();
    let slack = Duration::from_micros(200);
    let mut generations: BTreeMap<(u64, SystemTime), u32> = BTreeMap::new();
    for (id, _, _, wall, a) in &seen {
        assert!(
            a.expires_at + slack > *wall,
            "id {id}: value {} expired at {:?}, before its call began at {wall:?}",
            a.value,
            a.expires_at
        );
        let value = generations.entry((*id, a.created_at)).or_insert(a.value);
        assert_eq!(*value, a.value, "id {id}: one generation, two values");
    }
    for id in 0..IDS {
        let mut calls: Vec<_> = seen.iter().filter(|s| s.0 == id).collect();
        calls.sort_by_key(|s| s.1);
        // Newest generation among calls that ended before each call began.
        let mut by_end: Vec<_> = calls.iter().map(|s| (s.2, s.4.created_at)).collect();
        by_end.sort();
        let mut newest_ended = None::<SystemTime>;
        let mut j = 0;
        for call in &calls {
            while j < by_end.len() && by_end[j].0 < call.1 {
                newest_ended = newest_ended.max(Some(by_end[j].1));
                j += 1;
            }
            if let Some(newest) = newest_ended {
                assert!(
                    call.4.created_at >= newest,
                    "id {id}: an older generation after a newer one had been answered"
                );
            }
        }
    }
    assert_eq!(
        generations.len() as u64,
        stats.misses,
        "one miss per generation"
    );
    assert!(stats.hits > stats.misses, "{stats:?}");
    assert!(stats.retirements > 0 && surrendered > 100, "{stats:?}");
    eprintln!(
        "{} reads, {} generations, {} retirements, {surrendered} surrenders",
        seen.len(),
        generations.len(),
        stats.retirements
    );
}

#[tokio::test(start_paused = true)]
async fn an_entry_handed_over_replaces_a_retired_actor_the_sweeper_has_not_taken_yet() {
    let reg = registry(Duration::from_secs(5));
    // The sweeper passes every second from 0: made at 0.5 s, the value retires at 5.5 s and
    // at 5.6 s is retired but still in its slot.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let old = reg.request(12).await.expect("miss");
    tokio::time::sleep(Duration::from_millis(5_100)).await;
    let handed = Handed {
        id: 12,
        value: old.value % 1000 + 1,
        created_at: ringshop_shared::clock::wall(),
        age: Duration::ZERO,
        ttl_left: Duration::from_secs(3),
    };
    assert_eq!(
        reg.adopt_entry(&handed),
        Ok(true),
        "the retired actor gives way"
    );
    let now = reg.request(12).await.expect("hit");
    assert!(now.hit);
    assert_eq!(now.value, handed.value);
}
