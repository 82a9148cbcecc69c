//! Shop fixtures every shop test uses: valid ids, orders, a quick payment, and following an
//! order to a stage.

use std::time::{Duration, Instant};

use ringshop_node::shop::checkout::Payment;
use ringshop_shared::{Order, Stage};
use ringshop_tui::Cluster;

/// A product id a test knows is valid.
pub fn product(id: &str) -> ringshop_shared::ProductId {
    ringshop_shared::ProductId::new(id).expect("a valid product id")
}

/// An order with a fresh id for `customer`, one line per (product, quantity).
pub fn new_order(customer: &str, lines: &[(&str, u32)]) -> ringshop_shared::NewOrder {
    ringshop_shared::NewOrder {
        id: ringshop_shared::OrderId::random(),
        customer: customer.into(),
        lines: lines
            .iter()
            .map(|(id, qty)| ringshop_shared::OrderLine {
                product: product(id),
                qty: *qty,
            })
            .collect(),
    }
}

/// A payment that takes `delay` and never declines.
pub fn paying(delay: Duration) -> Payment {
    Payment {
        delay,
        failure_rate: 0.0,
    }
}

/// Follows `o` until it reaches `stage` or a final one; fails the test after `limit`.
pub async fn follow_until(client: &Cluster, mut o: Order, stage: Stage, limit: Duration) -> Order {
    let started = Instant::now();
    while o.stage < stage && !o.stage.is_final() {
        assert!(
            started.elapsed() < limit,
            "order {} stuck at {} for {limit:?}",
            o.id,
            o.stage
        );
        o = client
            .watch_order(o.id, o.stage)
            .await
            .expect("watch answers")
            .value;
    }
    o
}
