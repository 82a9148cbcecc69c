//! The cluster's timings: heartbeat and suspicion, one set per cluster, kept in the store
//! (`settle`), and what a node derives from them (the lease and its margin).

use std::time::Duration;

use ringshop_shared::NodeId;
use ringshop_shared::wire::ClusterTiming;

use crate::store::{Store, StoreError};

/// Timing of the membership protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How often a node writes its heartbeat.
    pub heartbeat: Duration,
    /// A member silent this long counts as dead; a node's lease is this minus `margin()`.
    pub suspicion: Duration,
    /// How often a node reads the members (more often while an epoch is settling).
    pub poll: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            heartbeat: Duration::from_millis(250),
            suspicion: Duration::from_secs(2),
            poll: Duration::from_millis(100),
        }
    }
}

impl Timing {
    /// How long before the others may declare it dead a node stops answering: a quarter of
    /// the suspicion time covers a slow store write. The lease runs on this node's monotonic
    /// clock from when the heartbeat was sent, the silence on the store's clock from when the
    /// store stamped it (later), so no two clocks are ever compared.
    pub fn margin(&self) -> Duration {
        self.suspicion / 4
    }

    /// How long one heartbeat that reached the store lets the node answer for its ids.
    pub fn lease(&self) -> Duration {
        self.suspicion.saturating_sub(self.margin())
    }

    /// How often to poll while an epoch is settling (ids are held meanwhile).
    pub(super) fn settling_poll(&self) -> Duration {
        self.poll.min(Duration::from_millis(20))
    }
}

impl Timing {
    /// The cluster's timings as the wire carries them.
    pub fn cluster(&self) -> ClusterTiming {
        ClusterTiming {
            heartbeat: self.heartbeat,
            suspicion: self.suspicion,
        }
    }
}

/// Proposes `asked` as the cluster's timings (this node has just joined) and answers the
/// timings it runs on: the cluster's, when other live members run on them already. One set
/// per cluster, because single activation rests on every node's lease ending before the
/// others' suspicion: a node with a longer suspicion would hold its lease past the moment
/// the others give its ids away (measured: 16-21 ids answered by two live nodes).
pub(super) async fn settle(
    store: &dyn Store,
    me: &NodeId,
    asked: Timing,
) -> Result<Timing, StoreError> {
    let wanted = ClusterTiming {
        heartbeat: asked.heartbeat,
        suspicion: asked.suspicion,
    };
    let cluster = store.settle_timing(me, wanted).await?;
    if cluster != wanted {
        tracing::warn!(
            node = %me,
            heartbeat_ms = cluster.heartbeat.as_millis() as u64,
            suspicion_ms = cluster.suspicion.as_millis() as u64,
            asked_heartbeat_ms = wanted.heartbeat.as_millis() as u64,
            asked_suspicion_ms = wanted.suspicion.as_millis() as u64,
            "runs on the cluster's timings, not the ones it was started with (one set per cluster; a node that starts alone sets them)"
        );
    }
    Ok(Timing {
        heartbeat: cluster.heartbeat,
        suspicion: cluster.suspicion,
        ..asked
    })
}
