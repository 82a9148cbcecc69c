//! The headless verbs: `demo`, `cluster`, `products`, `buy`, `order`, `orders`, `trace`, `info`.
//! Each file holds one verb's run and output; `args.rs` the flags of all of them (clap),
//! `settings.rs` the config file's under them, `failure.rs` what they fail with. Data goes to
//! stdout, messages to stderr; with `--json` each verb prints JSON on stdout. The binary
//! (`main.rs`) turns a `Failure` into its exit code.

pub mod args;
mod buy;
pub mod cluster;
pub mod demo;
pub mod failure;
pub mod info;
mod orders;
mod output;
mod products;
pub mod settings;
mod trace;

use std::future::Future;

use ringshop_shared::prefix::IdPrefix;

use self::args::{Target, Verb, node_ttl_default};
use self::failure::Failure;
use crate::client::Cluster;

/// Runs one verb to its end.
pub async fn run(verb: Verb) -> Result<(), Failure> {
    match verb {
        Verb::Demo(args) => demo::run(args).await,
        Verb::Cluster(args) => cluster::run(args).await,
        Verb::Products(a) => {
            with_cluster(&a.target, |c| async move {
                let watch = a.watch.then_some(products::Watch { count: a.count });
                products::run(
                    &c,
                    a.category.as_deref(),
                    a.search.as_deref(),
                    a.target.json,
                    watch,
                )
                .await
            })
            .await
        }
        // Arguments are checked before a cluster is opened: a usage error is exit 2 whatever
        // state the cluster is in.
        Verb::Buy(a) => {
            let lines = buy::lines(&a.items, a.yes)?;
            with_cluster(&a.target, |c| async move {
                buy::run(&c, lines, a.customer.clone(), a.yes, a.target.json).await
            })
            .await
        }
        Verb::Order(a) => {
            let id = IdPrefix::parse(&a.id)?;
            with_cluster(&a.target, |c| async move {
                orders::one(&c, &id, a.target.json).await
            })
            .await
        }
        Verb::Orders(a) => {
            with_cluster(&a.target, |c| async move {
                orders::list(&c, a.customer.clone(), a.target.json).await
            })
            .await
        }
        Verb::Trace(a) => {
            let id = IdPrefix::parse(&a.id)?;
            with_cluster(&a.target, |c| async move {
                trace::run(&c, &id, a.target.json).await
            })
            .await
        }
        Verb::Info(a) => info::run(&a),
    }
}

/// Runs `verb` on the target cluster (embedded if no nodes are given), then stops an embedded
/// cluster gracefully.
async fn with_cluster<F, Fut>(target: &Target, verb: F) -> Result<(), Failure>
where
    F: FnOnce(Cluster) -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let (cluster, embedded) = target.open(node_ttl_default()).await?;
    let result = verb(cluster).await;
    if let Some(embedded) = embedded {
        embedded.shutdown().await;
    }
    result
}
