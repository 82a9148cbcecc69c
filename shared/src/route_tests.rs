use std::sync::Mutex;

use super::*;

/// A view with one member nobody can reach; the cluster says `verdicts` in turn when asked.
struct Unreachable {
    verdicts: Mutex<Vec<Suspicion>>,
    asked: Mutex<usize>,
}

impl Unreachable {
    fn new(verdicts: &[Suspicion]) -> Unreachable {
        Unreachable {
            verdicts: Mutex::new(verdicts.iter().rev().copied().collect()),
            asked: Mutex::new(0),
        }
    }
}

impl Directory for Unreachable {
    type Error = Routing;

    async fn target(&self, _: &(dyn Placed + Sync)) -> Option<Target> {
        Some(Target {
            name: NodeId::new("n1").expect("valid"),
            addr: SocketAddr::from(([127, 0, 0, 1], 7001)),
            client: None,
            generation: 0,
            epoch: 1,
            members: 1,
        })
    }
    async fn refresh(&self) -> Result<(), Routing> {
        Ok(())
    }
    async fn reconnect(&self, _: &NodeId, _: u64) -> Result<(), String> {
        Err("unreachable".into())
    }
    fn mark_down(&self, _: &NodeId, _: u64, _: &str) {}
    async fn relay(&self, _: &NodeId) -> Option<(NodeId, ShardClient)> {
        None
    }
    async fn suspect(&self, _: &(dyn Placed + Sync), _: &NodeId) -> Suspicion {
        *self.asked.lock().expect("lock") += 1;
        let mut verdicts = self.verdicts.lock().expect("lock");
        verdicts.pop().unwrap_or(Suspicion::Alive)
    }
}

fn policy(patience: Duration) -> Policy {
    Policy {
        deadline: Duration::from_millis(100),
        patience,
        retry_alive_after: Duration::from_millis(5),
        hedge_after: None,
    }
}

async fn call(dir: &Unreachable, patience: Duration) -> Result<Routed<()>, Routing> {
    call_owner(dir, &7u64, &policy(patience), |_, _, _| async {
        Ok::<Result<(), ShardError>, RpcError>(Ok(()))
    })
    .await
}

// On paused time (every test here): the waits are the code's own, measured exactly, and take
// no time on the machine.

#[tokio::test(start_paused = true)]
async fn an_owner_the_cluster_counts_alive_is_waited_for_until_the_patience_runs_out() {
    let dir = Unreachable::new(&[]);
    let started = clock::now();
    let err = call(&dir, Duration::from_secs(5))
        .await
        .expect_err("never answers");
    assert!(matches!(err, Routing::Partitioned { .. }), "{err}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(5) + policy_step(),
        "waited {waited:?}"
    );
    assert!(
        *dir.asked.lock().expect("lock") > 2,
        "asked the cluster again while waiting"
    );
}

/// One wait between two asks (`retry_alive_after`).
fn policy_step() -> Duration {
    policy(Duration::ZERO).retry_alive_after * 2
}

/// Nobody to ask about an owner this caller cannot reach: it waits for the cluster within its
/// patience, on a fresh view each time (the view may be old: seed 3791 of the simulator), and
/// then fails naming what it tried; with no patience left, at once.
#[tokio::test(start_paused = true)]
async fn with_no_witness_the_call_waits_within_its_patience_then_fails_naming_what_was_tried() {
    let patience = Duration::from_secs(1);
    let dir = Unreachable::new(&[Suspicion::NoWitness; 1_000]);
    let started = clock::now();
    let err = call(&dir, patience).await.expect_err("nobody to ask");
    assert_eq!(err, Routing::NoLiveMembers { tried: 1 });
    let waited = started.elapsed();
    assert!(
        waited >= patience && waited < patience + policy_step(),
        "waited {waited:?}"
    );
    assert!(
        *dir.asked.lock().expect("lock") > 100,
        "asked again each pause"
    );

    let dir = Unreachable::new(&[Suspicion::NoWitness]);
    let started = clock::now();
    let err = call(&dir, Duration::ZERO).await.expect_err("nobody to ask");
    assert_eq!(err, Routing::NoLiveMembers { tried: 1 });
    assert_eq!(started.elapsed(), Duration::ZERO, "at once");
}

/// A view with no owner until `owner_after` refreshes, then one that answers.
struct Forming {
    refreshes: std::sync::atomic::AtomicUsize,
    owner_after: usize,
}

impl Directory for Forming {
    type Error = Routing;

    async fn target(&self, _: &(dyn Placed + Sync)) -> Option<Target> {
        let refreshed = self.refreshes.load(std::sync::atomic::Ordering::SeqCst);
        (refreshed >= self.owner_after).then(|| Target {
            name: NodeId::new("n1").expect("valid"),
            addr: SocketAddr::from(([127, 0, 0, 1], 7001)),
            client: Some(idle_client()),
            generation: 0,
            epoch: 1,
            members: 1,
        })
    }
    async fn refresh(&self) -> Result<(), Routing> {
        self.refreshes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
    async fn reconnect(&self, _: &NodeId, _: u64) -> Result<(), String> {
        Ok(())
    }
    fn mark_down(&self, _: &NodeId, _: u64, _: &str) {}
    async fn relay(&self, _: &NodeId) -> Option<(NodeId, ShardClient)> {
        None
    }
    async fn suspect(&self, _: &(dyn Placed + Sync), _: &NodeId) -> Suspicion {
        Suspicion::Alive
    }
}

#[tokio::test(start_paused = true)]
async fn with_no_owner_yet_the_call_waits_for_one_within_the_patience() {
    let forming = Forming {
        refreshes: Default::default(),
        owner_after: 3,
    };
    let answer = |_, _, _| async { Ok::<Result<u32, ShardError>, RpcError>(Ok(42)) };
    let routed = call_owner(&forming, &7u64, &policy(Duration::from_secs(10)), answer)
        .await
        .expect("answered once an owner appeared");
    assert_eq!(routed.value, 42);
    let never = Forming {
        refreshes: Default::default(),
        owner_after: usize::MAX,
    };
    let started = clock::now();
    let err = call_owner(&never, &7u64, &policy(Duration::from_millis(200)), answer)
        .await
        .expect_err("no owner ever");
    assert_eq!(err, Routing::NoLiveMembers { tried: 0 });
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "waited out the patience"
    );
}

/// A client on a connection nobody serves (the calls below never use it: `f` decides).
fn idle_client() -> ShardClient {
    let (transport, _server) = tarpc::transport::channel::unbounded();
    crate::hop::Hop::direct(tarpc::client::new(tarpc::client::Config::default(), transport).client)
}

/// An owner this caller has a connection to, and a relay to it.
struct Reachable;

impl Directory for Reachable {
    type Error = Routing;

    async fn target(&self, _: &(dyn Placed + Sync)) -> Option<Target> {
        Some(Target {
            name: NodeId::new("n1").expect("valid"),
            addr: SocketAddr::from(([127, 0, 0, 1], 7001)),
            client: Some(idle_client()),
            generation: 0,
            epoch: 1,
            members: 3,
        })
    }
    async fn refresh(&self) -> Result<(), Routing> {
        Ok(())
    }
    async fn reconnect(&self, _: &NodeId, _: u64) -> Result<(), String> {
        Ok(())
    }
    fn mark_down(&self, _: &NodeId, _: u64, _: &str) {}
    async fn relay(&self, _: &NodeId) -> Option<(NodeId, ShardClient)> {
        Some((NodeId::new("n2").expect("valid"), idle_client()))
    }
    async fn suspect(&self, _: &(dyn Placed + Sync), _: &NodeId) -> Suspicion {
        Suspicion::Alive
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_the_owner_does_not_answer_in_time_also_goes_through_a_relay() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let policy = Policy {
        deadline: Duration::from_secs(10),
        patience: Duration::from_secs(10),
        retry_alive_after: Duration::from_millis(5),
        hedge_after: Some(Duration::from_millis(20)),
    };
    let started = clock::now();
    // The first call (straight to the owner, over a connection a cut froze) never answers.
    let routed = call_owner(&Reachable, &7u64, &policy, |_, _, _| {
        let first = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
        async move {
            if first {
                std::future::pending::<()>().await;
            }
            Ok::<Result<u32, ShardError>, RpcError>(Ok(42))
        }
    })
    .await
    .expect("answered through the relay");
    assert_eq!(routed.value, 42);
    assert_eq!(routed.via, Some(NodeId::new("n2").expect("valid")));
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(20),
        "the hedge went after hedge_after, not before or later"
    );
}

#[tokio::test(start_paused = true)]
async fn a_busy_owner_is_asked_again_after_its_retry_after() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let policy = Policy {
        deadline: Duration::from_secs(2),
        patience: Duration::from_secs(10),
        retry_alive_after: Duration::from_millis(5),
        hedge_after: None,
    };
    let started = clock::now();
    let routed = call_owner(&Reachable, &7u64, &policy, |_, _, _| {
        let first = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
        async move {
            if first {
                return Ok(Err(ShardError::Busy {
                    node: NodeId::new("n1").expect("valid"),
                    retry_after: Duration::from_millis(40),
                }));
            }
            Ok::<Result<u32, ShardError>, RpcError>(Ok(42))
        }
    })
    .await
    .expect("answered the second time");
    assert_eq!(routed.value, 42);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    // tokio's timer fires on whole milliseconds, rounding a deadline up: a spread drawn
    // near its top (39.9 ms) makes the pause 80 ms on the paused clock, never more than 81.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(40) && waited <= Duration::from_millis(81),
        "waited {waited:?}: retry_after plus at most as much again"
    );
}

/// The owner's database fails for `failing` calls, then works.
async fn owner_whose_store_fails(
    failing: usize,
    patience: Duration,
) -> (Result<Routed<u32>, Routing>, usize) {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let policy = Policy {
        deadline: Duration::from_secs(2),
        patience,
        retry_alive_after: Duration::from_millis(5),
        hedge_after: None,
    };
    let routed = call_owner(&Reachable, &7u64, &policy, |_, _, _| {
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            if n < failing {
                return Ok(Err(ShardError::Store {
                    node: NodeId::new("n1").expect("valid"),
                    reason: "injected: connection to the database lost".into(),
                }));
            }
            Ok::<Result<u32, ShardError>, RpcError>(Ok(42))
        }
    })
    .await;
    (routed, calls.load(std::sync::atomic::Ordering::SeqCst))
}

#[tokio::test(start_paused = true)]
async fn an_owner_whose_database_failed_is_asked_again_within_the_patience() {
    let (routed, calls) = owner_whose_store_fails(5, Duration::from_secs(10)).await;
    assert_eq!(
        routed.expect("answered once the database was back").value,
        42
    );
    assert_eq!(calls, 6);
    let (routed, _) = owner_whose_store_fails(usize::MAX, Duration::from_secs(1)).await;
    match routed {
        Err(Routing::Shard {
            error: ShardError::Store { .. },
            ..
        }) => {}
        other => panic!("past the patience the database's failure is the answer: {other:?}"),
    }
}

/// A node whose view makes itself the owner, with a connection that would reach it.
struct Myself;

impl Directory for Myself {
    type Error = Routing;

    async fn target(&self, id: &(dyn Placed + Sync)) -> Option<Target> {
        Reachable.target(id).await
    }
    async fn refresh(&self) -> Result<(), Routing> {
        Ok(())
    }
    async fn reconnect(&self, _: &NodeId, _: u64) -> Result<(), String> {
        Ok(())
    }
    fn mark_down(&self, _: &NodeId, _: u64, _: &str) {}
    fn is_caller(&self, name: &NodeId) -> bool {
        name.as_str() == "n1"
    }
    async fn relay(&self, _: &NodeId) -> Option<(NodeId, ShardClient)> {
        None
    }
    async fn suspect(&self, _: &(dyn Placed + Sync), _: &NodeId) -> Suspicion {
        Suspicion::Alive
    }
}

#[tokio::test]
async fn a_call_whose_owner_is_the_caller_is_never_sent_over_the_network() {
    let sent = std::sync::atomic::AtomicUsize::new(0);
    let answer = call_owner(
        &Myself,
        &7u64,
        &policy(Duration::from_secs(1)),
        |_, _, _| {
            sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Ok::<Result<(), ShardError>, RpcError>(Ok(())) }
        },
    )
    .await;
    let n1 = NodeId::new("n1").expect("valid");
    assert_eq!(answer.err(), Some(Routing::Local { name: n1 }));
    assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 0);
}
