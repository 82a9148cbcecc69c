//! Opening a cluster: connect through the given seeds, or start an embedded one in this
//! process when none are given.

use std::net::SocketAddr;
use std::time::Duration;

use super::cluster::Cluster;
use super::embedded::{self, Embedded, NodeError};
use super::types::{ClusterConfig, ClusterError};

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("cannot start the embedded cluster: {0}")]
    Embedded(#[from] NodeError),
}

/// `open`, except that a cluster at `seeds` with no node answering yet is waited for
/// (`Cluster::connect_or_wait`) instead of an error: the TUI opens and waits.
pub async fn open_or_wait(
    seeds: &[SocketAddr],
    config: ClusterConfig,
    ttl: Duration,
) -> Result<(Cluster, Option<Embedded>), OpenError> {
    if seeds.is_empty() {
        return open(seeds, config, ttl).await;
    }
    Ok((Cluster::connect_or_wait(seeds, config).await?, None))
}

/// The cluster at `seeds`, or (with no seeds) an embedded one of `embedded::DEFAULT_SIZE`
/// nodes keeping values for `ttl`, which the caller stops with `Embedded::shutdown`.
pub async fn open(
    seeds: &[SocketAddr],
    config: ClusterConfig,
    ttl: Duration,
) -> Result<(Cluster, Option<Embedded>), OpenError> {
    if seeds.is_empty() {
        let embedded = Embedded::start(embedded::DEFAULT_SIZE, ttl).await?;
        let cluster = Cluster::connect(&embedded.addrs(), config).await?;
        Ok((cluster, Some(embedded)))
    } else {
        Ok((Cluster::connect(seeds, config).await?, None))
    }
}
