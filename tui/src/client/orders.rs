//! Following an order: `Cluster::follow_order` turns repeated `watch_order` long-polls into a
//! stream of the order's stages, the one implementation the screen, the `buy` verb, the tests
//! and the benchmarks use.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use ringshop_shared::Order;

use super::cluster::Cluster;
use super::types::{Answer, ClusterError};

/// How long the stream waits before asking again after a failed watch.
const AFTER_A_FAILURE: Duration = Duration::from_millis(500);

struct Following {
    cluster: Cluster,
    current: Order,
    failed: bool,
}

impl Cluster {
    /// The stages `order` goes through after the one it is at, each once and in order, with
    /// the report of the call that saw it (and, between them, the order again whenever its
    /// checkout starts or stops waiting on a member: `Order::waiting`); the stream ends after a final stage. A failed watch
    /// is an `Err` item, and the stream keeps following (after a short pause) for as long as
    /// it is polled: whoever follows decides when to give up. It owns a clone of the client,
    /// so it can live on its own task.
    pub fn follow_order(
        &self,
        order: Order,
    ) -> BoxStream<'static, Result<Answer<Order>, ClusterError>> {
        let start = Following {
            cluster: self.clone(),
            current: order,
            failed: false,
        };
        futures::stream::unfold(start, |mut f| async move {
            if f.current.stage.is_final() {
                return None;
            }
            if f.failed {
                tokio::time::sleep(AFTER_A_FAILURE).await;
            }
            loop {
                match f
                    .cluster
                    .watch_order(f.current.id, f.current.progress())
                    .await
                {
                    // The watch ended without a change (its long-poll ran out): watch again.
                    Ok(next) if next.value.progress() == f.current.progress() => continue,
                    Ok(next) => {
                        f.current = next.value.clone();
                        f.failed = false;
                        return Some((Ok(next), f));
                    }
                    Err(e) => {
                        f.failed = true;
                        return Some((Err(e), f));
                    }
                }
            }
        })
        .boxed()
    }
}
