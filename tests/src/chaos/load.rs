//! Bounded load through `Cluster` clients while the nemesis works: value workers asking for
//! random ids (every call recorded with its wall-clock start and end), and buyers placing
//! orders and following each to its final stage. The workers are spread over several clients,
//! as several mains would be: each follows the membership on its own, so their views differ
//! for a moment after each change, as real clients' do. Every call has a time limit and every
//! loop ends when the load is stopped, so the load always ends.

use std::time::{Duration, Instant, SystemTime};

use ringshop_shared::{NewOrder, Order, OrderId, OrderLine, ProductId, ShardError, Stage};
use ringshop_tui::{Cluster, ClusterError};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use super::history::{BuyerFailure, Call, History, Purchases, Seen};

#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// Independent clients the workers and buyers are spread over, in turn.
    pub clients: usize,
    /// Concurrent value workers.
    pub workers: usize,
    /// Ids asked for: `0..ids`, uniformly.
    pub ids: u64,
    /// Each worker's pause between calls (keeps two cores from saturating).
    pub think: Duration,
    /// Concurrent buyers.
    pub buyers: usize,
    /// What the buyers buy (one line of 1 or 2 units per order).
    pub products: Vec<ProductId>,
    /// Longest one call may take before it counts as failed.
    pub call_limit: Duration,
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
            at: SystemTime::now(),
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
}

impl Load {
    /// Starts the workers and buyers, spread over `clients` in turn (at least one).
    pub fn start(clients: &[Cluster], config: &LoadConfig) -> Load {
        assert!(!clients.is_empty(), "the load needs a client");
        let client = |i: usize| clients[i % clients.len()].clone();
        let stop = CancellationToken::new();
        let values = (0..config.workers)
            .map(|i| tokio::spawn(value_worker(client(i), config.clone(), stop.clone())))
            .collect();
        let buyers = (0..config.buyers)
            .map(|i| tokio::spawn(buyer(client(i), config.clone(), stop.clone())))
            .collect();
        Load {
            stop,
            values,
            buyers,
        }
    }

    /// Stops every worker and buyer (a buyer first follows its current order to the end, within
    /// its limit) and adds what they recorded to `history`.
    pub async fn stop(self, history: &mut History) {
        self.stop.cancel();
        history.stopped = SystemTime::now();
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

async fn value_worker(client: Cluster, config: LoadConfig, stop: CancellationToken) -> Vec<Call> {
    let mut calls = Vec::new();
    while !stop.is_cancelled() {
        let id = fastrand::u64(0..config.ids.max(1));
        let start = SystemTime::now();
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
            start,
            end: SystemTime::now(),
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
    let started = Instant::now();
    while !order.stage.is_final() {
        if started.elapsed() > config.follow_limit {
            let what = format!("stuck at {} for {:?}", order.stage, config.follow_limit);
            log.fail(Some(order.id), what);
            return;
        }
        match timeout(config.call_limit, client.watch_order(order.id, order.stage)).await {
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
