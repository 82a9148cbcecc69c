//! The books on one SQLite file: what a hold may become (`holds`), when an order is bought or
//! failed (`sales`), and what the reaper and the audit read (`strays`). Shared setup here.

use std::sync::Arc;

use ringshop_shared::{NewOrder, NodeId, OrderLine};

use super::*;

mod holds;
mod sales;
mod strays;
use crate::store::{SqliteStore, Store};

const T0: Millis = 1_000_000;

use crate::store::test_support::{p, seeded};

fn me() -> NodeId {
    NodeId::new("n1").expect("valid")
}

/// Stores an order of `lines` at stage accepted; its id.
async fn placed(store: &SqliteStore, lines: &[(&str, u32)]) -> OrderId {
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
    store
        .create_order(&order, 1, &me(), T0)
        .await
        .expect("stored");
    order.id
}

/// Moves the order to `stage` from whatever version it is at.
async fn to_stage(store: &SqliteStore, id: OrderId, stage: Stage) -> Result<(), StoreError> {
    let cur = store.order(id).await?.expect("stored");
    store
        .advance(id, cur.version, stage, &me(), None, T0)
        .await?
        .expect("moved");
    Ok(())
}

async fn reserve(store: &SqliteStore, id: OrderId, product: &str, qty: u32) -> Reservation {
    store
        .reserve(id, &p(product), qty, T0)
        .await
        .expect("no store error")
}

async fn audit_of(store: &SqliteStore, product: &str) -> Audit {
    store
        .audit()
        .await
        .expect("audits")
        .into_iter()
        .find(|a| a.product == p(product))
        .expect("audited")
}

/// A failed order still holding a mug since `held_ms`, as a database from before version 4
/// (or a writer that broke the rules) can hold it.
async fn failed_holding(store: &SqliteStore, held_ms: Millis) -> OrderId {
    let a = placed(store, &[("mug", 1)]).await;
    store.reserve(a, &p("mug"), 1, held_ms).await.expect("held");
    store.fail_keeping_holds(a).await;
    a
}
