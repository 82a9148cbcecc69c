//! Live stock, printed: how soon a purchase made through one main shows in another main that
//! follows the products (`Cluster::follow_stock`, one long-poll per owner). Run with
//! `cargo build --release -p ringshop-node && cargo bench -p ringshop-tests --bench live_stock`.
//!
//! Three node processes (the built binary) on one SQLite file, payment delay 0. Main A follows
//! 12 products; main B (another client, its own connections) buys one unit of one of them at a
//! time, cycling over them (so over every owner), `PURCHASES` per round: the time from B's
//! checkout call until A is told that product's stock is one lower (p50, p99, max), beside the
//! anchor of the same round: B's checkout call itself (until the order is stored and
//! acknowledged; its stock is held right after, by the order's job). Idle, and under a
//! background load of `LOAD_BUYERS` buyers checking out another product, `ROUNDS` interleaved
//! rounds each.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ringshop_shared::{NewOrder, OrderId, OrderLine, ProductId};
use ringshop_tests::{TestCluster, name, paying};
use ringshop_tui::{Cluster, StockEvent};
use tokio::sync::mpsc;

const PURCHASES: usize = 100;
const ROUNDS: usize = 2;
const LOAD_BUYERS: usize = 32;
/// How long one purchase may take to show before the bench gives up on it (a hang, not a
/// measurement).
const GIVE_UP: Duration = Duration::from_secs(10);

fn catalog() -> String {
    let mut csv = String::from("load,Load,bench,100,100000\n");
    for i in 0..12 {
        csv.push_str(&format!("watched-{i},Watched {i},bench,100,100000\n"));
    }
    csv
}

fn watched() -> Vec<ProductId> {
    (0..12)
        .map(|i| ProductId::new(format!("watched-{i}")).expect("valid"))
        .collect()
}

fn order(product: &ProductId) -> NewOrder {
    NewOrder {
        id: OrderId::random(),
        customer: "bench".into(),
        lines: vec![OrderLine {
            product: product.clone(),
            qty: 1,
        }],
    }
}

/// Takes events until `product`'s stock is `want`, keeping `stock` up to date.
async fn until_stock(
    events: &mut mpsc::Receiver<StockEvent>,
    stock: &mut HashMap<ProductId, u32>,
    product: &ProductId,
    want: u32,
) {
    while stock.get(product) != Some(&want) {
        match tokio::time::timeout(GIVE_UP, events.recv()).await {
            Ok(Some(StockEvent::Quotes { quotes, .. })) => {
                for q in quotes {
                    stock.insert(q.value.product.id.clone(), q.value.stock_left);
                }
            }
            Ok(Some(StockEvent::Lost { node, error, .. })) => panic!("{node} lost: {error}"),
            Ok(None) => panic!("the follower ended"),
            Err(_) => panic!("{product} never showed {want} in {GIVE_UP:?}"),
        }
    }
}

/// Buyers checking out the load product until `stop`; how many orders they placed.
fn load(client: &Cluster, stop: &Arc<AtomicBool>) -> Vec<tokio::task::JoinHandle<usize>> {
    let product = ProductId::new("load").expect("valid");
    (0..LOAD_BUYERS)
        .map(|_| {
            let (client, stop, product) = (client.clone(), stop.clone(), product.clone());
            tokio::spawn(async move {
                let mut placed = 0;
                while !stop.load(Ordering::Relaxed) {
                    let Ok(accepted) = client.checkout(&order(&product)).await else {
                        continue;
                    };
                    placed += 1;
                    let mut stages = client.follow_order(accepted.value);
                    while let Some(Ok(next)) = stages.next().await {
                        if next.value.stage.is_final() {
                            break;
                        }
                    }
                }
                placed
            })
        })
        .collect()
}

/// One round: (purchase → shown in the other main, purchase → acknowledged), per purchase;
/// and the load's orders/s.
async fn round(loaded: bool) -> (Vec<Duration>, Vec<Duration>, f64) {
    let mut cluster = TestCluster::shop(Duration::from_secs(5), &catalog(), paying(Duration::ZERO));
    for i in 1..=3 {
        cluster.add_process(name(i));
    }
    let watcher = cluster.client().await;
    let buyer = cluster.client().await;
    let products = watched();
    let mut events = watcher.follow_stock(products.clone());
    let mut stock: HashMap<ProductId, u32> = HashMap::new();
    while stock.len() < products.len() {
        match tokio::time::timeout(GIVE_UP, events.recv()).await {
            Ok(Some(StockEvent::Quotes { quotes, .. })) => {
                for q in quotes {
                    stock.insert(q.value.product.id.clone(), q.value.stock_left);
                }
            }
            other => panic!("the first quotes did not come: {other:?}"),
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let load_client = cluster.client().await;
    let loaders = if loaded {
        load(&load_client, &stop)
    } else {
        Vec::new()
    };
    let started = Instant::now();
    let (mut shown, mut acked) = (Vec::new(), Vec::new());
    for i in 0..PURCHASES {
        let product = &products[i % products.len()];
        let want = stock[product] - 1;
        let t = Instant::now();
        let buy = async {
            buyer.checkout(&order(product)).await.expect("accepted");
            t.elapsed()
        };
        let see = async {
            until_stock(&mut events, &mut stock, product, want).await;
            t.elapsed()
        };
        let (ack, seen) = tokio::join!(buy, see);
        acked.push(ack);
        shown.push(seen);
    }
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut placed = 0;
    for l in loaders {
        placed += l.await.unwrap_or(0);
    }
    (shown, acked, placed as f64 / took.as_secs_f64())
}

fn pct(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1e3
}

fn main() {
    let runtime = ringshop_tests::bench_runtime();
    println!(
        "live stock: 3 node processes, main A follows 12 products, main B buys one at a time \
         ({PURCHASES} purchases per round); ms from B's checkout call"
    );
    println!(
        "{:<9} {:>5} {:>12} {:>12} {:>12} {:>12} {:>12} {:>10}",
        "load", "round", "shown p50", "shown p99", "shown max", "acked p50", "acked p99", "load/s"
    );
    for r in 1..=ROUNDS {
        for loaded in [false, true] {
            let (mut shown, mut acked, load) = runtime.block_on(round(loaded));
            shown.sort();
            acked.sort();
            println!(
                "{:<9} {:>5} {:>12.1} {:>12.1} {:>12.1} {:>12.1} {:>12.1} {:>10.0}",
                if loaded { "32 buyers" } else { "idle" },
                r,
                pct(&shown, 0.5),
                pct(&shown, 0.99),
                pct(&shown, 1.0),
                pct(&acked, 0.5),
                pct(&acked, 0.99),
                load
            );
        }
    }
}
