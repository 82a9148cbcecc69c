//! The reaper of stray holds: holds still held although their order is over or was never
//! stored. A checkout job fails its order before it gives the holds back, so a crash or a
//! failed release in between leaves holds behind; holds from before schema version 4 may have
//! no order at all. Until they are given back they keep stock from buyers, and the books show
//! them as `held`.
//!
//! Each node gives back the strays of the orders it owns under its view, and any stray whose
//! order does not exist (it has no owner to wait for). Only holds older than `STRAY_AFTER` are
//! touched, and each give-back is one conditional statement that checks again that the hold
//! is held, old enough and its order over or missing, so two nodes reaping at once (a split
//! view) give a hold back once. The reaper never touches a hold of an open order.
//!
//! It writes to the store directly, not through the product's actor: a product actor's kept
//! quote may show less stock than the store until its TTL ends, never more.

use std::time::Duration;

use ringshop_shared::OrderId;
use tokio_util::sync::CancellationToken;

use crate::store::{Store, StoreError, StrayHold};

/// How often a node looks for stray holds.
pub const EVERY: Duration = Duration::from_secs(3);
/// How old a stray hold must be before it is given back.
pub const STRAY_AFTER: Duration = Duration::from_secs(10);
/// Most holds one pass looks at, so a pass stays short.
const BATCH: u32 = 256;

/// Whether this node gives `stray` back: its order is this node's (`mine`), or there is no
/// order at all.
pub fn is_ours(stray: &StrayHold, mine: bool) -> bool {
    stray.stage.is_none() || mine
}

/// One pass: gives back the stray holds older than `min_age` (on the store's clock) that are
/// ours; how many.
pub async fn reap_once(
    store: &dyn Store,
    min_age: Duration,
    mine: impl Fn(&OrderId) -> bool,
) -> Result<usize, StoreError> {
    let mut released = 0;
    for stray in store.stray_holds(min_age, BATCH).await? {
        if !is_ours(&stray, mine(&stray.order)) {
            continue;
        }
        if store
            .release_stray(stray.order, &stray.product, min_age)
            .await?
        {
            released += 1;
            let stage = stray.stage.map_or("none", |s| s.as_str());
            tracing::info!(order = %stray.order, product = %stray.product, qty = stray.qty,
                order_stage = stage, "gave back a stray hold");
        }
    }
    Ok(released)
}

/// Reaps every `every` until `shutdown` (which also stops a pass between two statements).
pub async fn run(
    store: std::sync::Arc<dyn Store>,
    every: Duration,
    min_age: Duration,
    mine: impl Fn(&OrderId) -> bool,
    shutdown: CancellationToken,
) {
    let mut ticks = crate::ticks::Ticks::new(every, shutdown.clone());
    while ticks.next().await {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            pass = reap_once(&*store, min_age, &mine) => {
                if let Err(e) = pass {
                    tracing::warn!(error = %e, "reaping stray holds failed; trying again next round");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
