//! Bounded load through `Cluster` clients while the nemesis works: value workers asking for
//! ids (every call recorded with its wall-clock start and end), and buyers placing orders and
//! following each to its final stage.
//!
//! Three kinds of main, as real users run them:
//! - following mains follow the membership on their own, so their views differ for a moment
//!   after each change; their workers ask for any id, their buyers buy;
//! - slow mains do not follow it: they learn a change only when a node answers `Moved` or an
//!   owner cannot be reached, as a main left open on an old view does. Each asks for the ids
//!   the next fault takes from one node ([`Targets`]), so it keeps the old view exactly as
//!   long as that node does;
//! - a fresh main is opened on each node that joins, seeded with that node alone, as an
//!   operator checking a new node (or a balancer sending new sessions to it) does. It knows
//!   the new membership before the old owners may, and asks for the ids being moved.
//!
//! So an old owner that still answers on the old view while a new owner already computes is
//! caught in the act. Every call has a time limit and every loop ends when the load is stopped
//! (a fresh main's sooner), so the load always ends.

use std::net::SocketAddr;
use std::time::Duration;

use ringshop_shared::clock;

use ringshop_shared::{NewOrder, Order, OrderId, OrderLine, ProductId, ShardError, Stage};
use ringshop_tui::{Cluster, ClusterConfig, ClusterError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use super::history::{BuyerFailure, Call, History, Main, Purchases, Seen};
use super::targets::Targets;

#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// Independent following clients the workers and buyers are spread over, in turn.
    pub clients: usize,
    /// Concurrent value workers on the following clients, asking for any id.
    pub workers: usize,
    /// Clients that do not follow the membership (slow mains).
    pub slow_mains: usize,
    /// Concurrent value workers on the slow mains, spread over them in turn; those of the
    /// k-th slow main ask for the ids the next fault takes from the k-th node that loses some.
    pub slow_workers: usize,
    /// Value workers on each fresh main, asking for the ids the next fault will move.
    pub fresh_workers: usize,
    /// How long a fresh main is used.
    pub fresh_for: Duration,
    /// Ids asked for: `0..ids`.
    pub ids: u64,
    /// Of the ids the next fault will move, how many per node losing them are asked for.
    pub hot: usize,
    /// Each worker's pause between calls (keeps two cores from saturating).
    pub think: Duration,
    /// Concurrent buyers.
    pub buyers: usize,
    /// What the buyers buy (one line of 1 or 2 units per order).
    pub products: Vec<ProductId>,
    /// Longest one call may take before it counts as failed.
    pub call_limit: Duration,
    /// The mains' deadline per attempt (None: `ClusterConfig`'s default, 2 s). A patient main
    /// (more than a pause) gets the answers a frozen node sends once it runs again.
    pub deadline: Option<Duration>,
    /// Longest a buyer follows one order before it counts as stuck.
    pub follow_limit: Duration,
}

/// What one buyer did.
#[derive(Clone, Debug, Default)]
pub struct BuyerLog {
    pub acknowledged: Vec<OrderId>,
    pub failures: Vec<BuyerFailure>,
    pub purchases: Purchases,
}

impl BuyerLog {
    fn fail(&mut self, order: Option<OrderId>, what: String) {
        self.failures.push(BuyerFailure {
            at: clock::wall(),
            order,
            what,
        });
    }
}

/// The running load; `stop` ends it and hands over what it recorded.
pub struct Load {
    stop: CancellationToken,
    values: Vec<JoinHandle<Vec<Call>>>,
    buyers: Vec<JoinHandle<BuyerLog>>,
    fresh: FreshMains,
}

/// Where the nemesis tells the load that a node joined, so it opens a fresh main on it.
#[derive(Clone, Debug)]
pub struct FreshMains(mpsc::UnboundedSender<SocketAddr>);

impl FreshMains {
    /// Opens a fresh main seeded with `addr` alone (once the load stopped, none).
    pub fn open(&self, addr: SocketAddr) {
        let _ = self.0.send(addr);
    }
}

impl Load {
    /// Starts the workers and buyers, spread over `clients` in turn (at least one), and the
    /// slow workers, spread over `slow` (none if it is empty). Fresh mains are connected with
    /// `fresh_config`.
    pub fn start(
        clients: &[Cluster],
        slow: &[Cluster],
        targets: &Targets,
        config: &LoadConfig,
        fresh_config: ClusterConfig,
    ) -> Load {
        assert!(!clients.is_empty(), "the load needs a client");
        let client = |i: usize| clients[i % clients.len()].clone();
        let stop = CancellationToken::new();
        let worker = |client: Cluster, ask: Ask| {
            let (config, stop) = (config.clone(), stop.clone());
            tokio::spawn(value_worker(client, ask, config, stop))
        };
        let any = (0..config.workers).map(|i| worker(client(i), Ask::Any(targets.clone())));
        let slow_workers = if slow.is_empty() {
            0
        } else {
            config.slow_workers
        };
        let slow = (0..slow_workers).map(|i| {
            let k = i % slow.len();
            worker(slow[k].clone(), Ask::TakenFrom(targets.clone(), k))
        });
        let mut values: Vec<_> = any.chain(slow).collect();
        let (fresh, joined) = mpsc::unbounded_channel();
        values.push(tokio::spawn(fresh_mains(
            joined,
            fresh_config,
            targets.clone(),
            config.clone(),
            stop.clone(),
        )));
        let buyers = (0..config.buyers)
            .map(|i| tokio::spawn(buyer(client(i), config.clone(), stop.clone())))
            .collect();
        Load {
            stop,
            values,
            buyers,
            fresh: FreshMains(fresh),
        }
    }

    /// The handle the nemesis opens fresh mains with.
    pub fn fresh_mains(&self) -> FreshMains {
        self.fresh.clone()
    }

    /// Stops every worker and buyer (a buyer first follows its current order to the end, within
    /// its limit) and adds what they recorded to `history`.
    pub async fn stop(self, history: &mut History) {
        self.stop.cancel();
        history.stopped = clock::wall();
        for worker in self.values {
            history.calls.extend(
                worker
                    .await
                    .expect("a value worker ended without panicking"),
            );
        }
        for buyer in self.buyers {
            let log = buyer.await.expect("a buyer ended without panicking");
            history.acknowledged.extend(log.acknowledged);
            history.buyer_failures.extend(log.failures);
            history.purchases.add(log.purchases);
        }
        history.calls.sort_by_key(|c| c.start);
    }
}

/// Opens a fresh main for each address the nemesis sends, runs its workers for
/// `config.fresh_for` (or until the load stops), and hands over their calls.
async fn fresh_mains(
    mut joined: mpsc::UnboundedReceiver<SocketAddr>,
    main_config: ClusterConfig,
    targets: Targets,
    config: LoadConfig,
    stop: CancellationToken,
) -> Vec<Call> {
    let mut workers = Vec::new();
    loop {
        let addr = tokio::select! {
            _ = stop.cancelled() => break,
            addr = joined.recv() => match addr {
                Some(addr) => addr,
                None => break,
            },
        };
        let seeds = [addr];
        let connect = Cluster::connect(&seeds, main_config.clone());
        let main = match timeout(config.call_limit, connect).await {
            Ok(Ok(main)) => main,
            // Any call the node cannot answer shows up in the other mains' calls.
            Ok(Err(e)) => {
                eprintln!("load: no fresh main on {addr}: {e}");
                continue;
            }
            Err(_) => {
                eprintln!(
                    "load: no fresh main on {addr} within {:?}",
                    config.call_limit
                );
                continue;
            }
        };
        let until = stop.child_token();
        let (timer, fresh_for) = (until.clone(), config.fresh_for);
        tokio::spawn(async move {
            tokio::select! {
                _ = timer.cancelled() => {}
                _ = tokio::time::sleep(fresh_for) => timer.cancel(),
            }
        });
        for _ in 0..config.fresh_workers {
            let ask = Ask::Moving(targets.clone());
            let (main, config, until) = (main.clone(), config.clone(), until.clone());
            workers.push(tokio::spawn(value_worker(main, ask, config, until)));
        }
    }
    let mut calls = Vec::new();
    for worker in workers {
        calls.extend(
            worker
                .await
                .expect("a fresh worker ended without panicking"),
        );
    }
    calls
}

/// Which ids a value worker asks for.
enum Ask {
    /// Any id, uniformly (a following main).
    Any(Targets),
    /// The ids the next fault will move (a fresh main).
    Moving(Targets),
    /// The ids the next fault takes from one node: group k of the targets (a slow main).
    TakenFrom(Targets, usize),
}

async fn value_worker(
    client: Cluster,
    ask: Ask,
    config: LoadConfig,
    stop: CancellationToken,
) -> Vec<Call> {
    let mut calls = Vec::new();
    while !stop.is_cancelled() {
        let (id, main) = match &ask {
            Ask::Any(targets) => (targets.any(), Main::Following),
            Ask::Moving(targets) => (targets.pick(), Main::Fresh),
            Ask::TakenFrom(targets, k) => (targets.pick_in(*k), Main::Slow),
        };
        let start = clock::wall();
        let outcome = match timeout(config.call_limit, client.request(id)).await {
            Ok(Ok(answer)) => Ok(Seen {
                node: answer.value.node,
                value: answer.value.value,
                created_at: answer.value.created_at,
                hit: answer.value.hit,
            }),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {:?}", config.call_limit)),
        };
        calls.push(Call {
            id,
            main,
            start,
            end: clock::wall(),
            outcome,
        });
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(config.think) => {}
        }
    }
    calls
}

async fn buyer(client: Cluster, config: LoadConfig, stop: CancellationToken) -> BuyerLog {
    let mut log = BuyerLog::default();
    if config.products.is_empty() {
        return log;
    }
    while !stop.is_cancelled() {
        let product = config.products[fastrand::usize(..config.products.len())].clone();
        let order = NewOrder {
            id: OrderId::random(),
            customer: "chaos".into(),
            lines: vec![OrderLine {
                product,
                qty: fastrand::u32(1..=2),
            }],
        };
        log.purchases.placed += 1;
        match timeout(config.call_limit, client.checkout(&order)).await {
            Ok(Ok(accepted)) => {
                log.acknowledged.push(order.id);
                follow(&client, &config, accepted.value, &mut log).await;
            }
            Ok(Err(ClusterError::Shard {
                error: ShardError::OutOfStock { .. },
                ..
            })) => log.purchases.out_of_stock += 1,
            // A full disk: nothing was placed, and the buyer was told so.
            Ok(Err(ClusterError::Shard {
                error: ShardError::StoreFull { .. },
                ..
            })) => log.purchases.store_full += 1,
            Ok(Err(e)) => log.fail(Some(order.id), format!("checkout: {e}")),
            Err(_) => log.fail(
                Some(order.id),
                format!("checkout: no answer within {:?}", config.call_limit),
            ),
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    }
    log
}

/// Follows an order to its final stage and tallies how it ended.
async fn follow(client: &Cluster, config: &LoadConfig, mut order: Order, log: &mut BuyerLog) {
    let started = clock::now();
    while !order.stage.is_final() {
        if started.elapsed() > config.follow_limit {
            let what = format!("stuck at {} for {:?}", order.stage, config.follow_limit);
            log.fail(Some(order.id), what);
            return;
        }
        match timeout(
            config.call_limit,
            client.watch_order(order.id, order.progress()),
        )
        .await
        {
            Ok(Ok(next)) => order = next.value,
            Ok(Err(e)) => {
                log.fail(Some(order.id), format!("watch at {}: {e}", order.stage));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(_) => log.fail(
                Some(order.id),
                format!("watch: no answer within {:?}", config.call_limit),
            ),
        }
    }
    let reason = order.reason.as_deref().unwrap_or("");
    match order.stage {
        Stage::Done => log.purchases.done += 1,
        _ if reason == "payment declined" => log.purchases.declined += 1,
        _ if reason.contains("wanted but only") => log.purchases.out_of_stock += 1,
        _ => log.fail(Some(order.id), format!("failed: {reason}")),
    }
}
