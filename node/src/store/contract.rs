//! The store's contract: one suite, run against every backend (`contract_tests!` makes a
//! `sqlite::`, a `postgres::` and a `memory::` test of each fn). What membership promises
//! (`members`), how orders move (`orders`), what a hold may become (`holds`), when an order is
//! bought or failed (`sales`), what the reaper and the audit read (`strays`), and that time is
//! the store's own (`clock`). Shared steps here.

use ringshop_shared::{NewOrder, NodeId, OrderId, OrderLine, Stage};

use super::test_support::{Fixture, p};
use super::{Audit, Millis, Reservation, StoreError};

mod clock;
mod holds;
mod members;
mod orders;
mod prefixes;
mod sales;
mod strays;

/// The books tests' time.
const T0: Millis = 1_000_000;

fn me() -> NodeId {
    NodeId::new("n1").expect("valid")
}

/// A store with 10 mugs and 2 teapots, its clock at `T0`.
async fn shop(f: Fixture) -> Fixture {
    f.at(T0);
    f.seeded().await
}

/// Stores an order of `lines` at stage accepted (at the clock's now); its id.
async fn placed(f: &Fixture, lines: &[(&str, u32)]) -> OrderId {
    let order = NewOrder {
        id: OrderId::random(),
        customer: "ada".into(),
        lines: lines
            .iter()
            .map(|(id, qty)| OrderLine {
                product: p(id),
                qty: *qty,
            })
            .collect(),
    };
    f.store
        .create_order(&order, 1, &me(), None)
        .await
        .expect("stored");
    order.id
}

/// Moves the order to `stage` from whatever version it is at.
async fn to_stage(f: &Fixture, id: OrderId, stage: Stage) -> Result<(), StoreError> {
    let cur = f.store.order(id).await?.expect("stored");
    f.store
        .advance(&cur, stage, &me(), None)
        .await?
        .expect("moved");
    Ok(())
}

async fn reserve(f: &Fixture, id: OrderId, product: &str, qty: u32) -> Reservation {
    f.store.reserve(id, &p(product), qty).await.expect("held")
}

/// A hold the store refuses: the typed refusal.
async fn refusal(f: &Fixture, id: OrderId, product: &str, qty: u32) -> StoreError {
    f.store
        .reserve(id, &p(product), qty)
        .await
        .expect_err("refused")
}

async fn audit_of(f: &Fixture, product: &str) -> Audit {
    f.store
        .audit()
        .await
        .expect("audits")
        .into_iter()
        .find(|a| a.product == p(product))
        .expect("audited")
}

/// A failed order still holding a mug since `held_ms`, as a database from before the books'
/// rules (or a writer that broke them) can hold it. Leaves the clock at `held_ms`.
async fn failed_holding(f: &Fixture, held_ms: Millis) -> OrderId {
    f.at(held_ms);
    let a = placed(f, &[("mug", 1)]).await;
    f.store.reserve(a, &p("mug"), 1).await.expect("held");
    f.fail_keeping_holds(a).await;
    a
}
