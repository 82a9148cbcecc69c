//! (d) The books at quiesce, read straight from the store once the open orders have finished:
//! for every product initial == left + sold and nothing held; what was sold is what the orders
//! at stage done bought; every acknowledged order is done or failed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ringshop_node::store::Audit;
use ringshop_node::{Db, Store};
use ringshop_shared::clock;
use ringshop_shared::{Order, OrderId, Stage};

/// What the store says, and what is wrong with it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Books {
    pub products: usize,
    pub orders: usize,
    pub done: usize,
    pub failed: usize,
    /// Orders not at a final stage when the books were read.
    pub open: usize,
    pub acknowledged: usize,
    /// How long the open orders took to finish after the load stopped.
    pub settled_in: Option<Duration>,
    pub problems: Vec<String>,
}

impl Books {
    pub fn balanced(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks one reading of the store against the acknowledged orders.
pub fn check(audit: &[Audit], orders: &[Order], acknowledged: &[OrderId]) -> Books {
    let mut problems = Vec::new();
    let mut bought: BTreeMap<String, u64> = BTreeMap::new();
    for o in orders.iter().filter(|o| o.stage == Stage::Done) {
        for line in &o.lines {
            *bought.entry(line.product.to_string()).or_default() += u64::from(line.qty);
        }
    }
    for a in audit {
        let product = a.product.to_string();
        if a.initial != a.left + a.sold {
            problems.push(format!(
                "{product}: initial {} != left {} + sold {}",
                a.initial, a.left, a.sold
            ));
        }
        if a.held != 0 {
            problems.push(format!("{product}: {} still held", a.held));
        }
        let done = bought.remove(&product).unwrap_or(0);
        if a.sold != done {
            problems.push(format!(
                "{product}: sold {} but the orders at stage done bought {done}",
                a.sold
            ));
        }
    }
    for (product, qty) in bought {
        problems.push(format!(
            "{product}: done orders bought {qty} of a product the store does not list"
        ));
    }
    let stages: BTreeMap<OrderId, Stage> = orders.iter().map(|o| (o.id, o.stage)).collect();
    let acked: BTreeSet<OrderId> = acknowledged.iter().copied().collect();
    for id in &acked {
        match stages.get(id) {
            Some(s) if s.is_final() => {}
            Some(s) => problems.push(format!("acknowledged order {id} stuck at {s}")),
            None => problems.push(format!("acknowledged order {id} is not in the store")),
        }
    }
    let count = |stage: Stage| orders.iter().filter(|o| o.stage == stage).count();
    Books {
        products: audit.len(),
        orders: orders.len(),
        done: count(Stage::Done),
        failed: count(Stage::Failed),
        open: orders.iter().filter(|o| !o.stage.is_final()).count(),
        acknowledged: acked.len(),
        settled_in: None,
        problems,
    }
}

/// Waits (at most `limit`) for the store's open orders to finish, then reads and checks the
/// books. A store that cannot be read is a problem in the result, not a panic.
pub async fn read(db: &Db, acknowledged: &[OrderId], limit: Duration) -> Books {
    match ringshop_node::store::open(db).await {
        Ok(store) => read_store(&*store, acknowledged, limit).await,
        Err(e) => unreadable(format!("cannot open the store: {e}")),
    }
}

/// [`read`] on an open store (the simulator's, in memory).
pub async fn read_store(store: &dyn Store, acknowledged: &[OrderId], limit: Duration) -> Books {
    let started = clock::now();
    let mut settled_in = None;
    while started.elapsed() < limit {
        match store.open_orders().await {
            Ok(open) if open.is_empty() => {
                settled_in = Some(started.elapsed());
                break;
            }
            Ok(_) => {}
            Err(e) => return unreadable(format!("cannot list open orders: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let audit = match store.audit().await {
        Ok(audit) => audit,
        Err(e) => return unreadable(format!("cannot audit: {e}")),
    };
    let orders = match store.orders(None, u32::MAX).await {
        Ok(orders) => orders,
        Err(e) => return unreadable(format!("cannot list orders: {e}")),
    };
    let mut books = check(&audit, &orders, acknowledged);
    books.settled_in = settled_in;
    if settled_in.is_none() {
        books.problems.push(format!(
            "{} orders still open {limit:?} after the load stopped",
            books.open
        ));
    }
    books
}

fn unreadable(why: String) -> Books {
    Books {
        problems: vec![why],
        ..Books::default()
    }
}
