//! The mains' host: the chaos suite's load through real `Cluster` clients on the simulated
//! network, every id once more after the last fault, then the books.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringshop_node::Store;
use ringshop_shared::transport::Dialer;
use ringshop_shared::{NodeId, ProductId, clock};
use ringshop_tui::{Cluster, ClusterConfig};

use super::net::{PORT, SimNet};
use super::plan::Plan;
use super::world::log_line;
use crate::chaos::books::{self, Books};
use crate::chaos::history::History;
use crate::chaos::load::{FreshMains, Load, LoadConfig};
use crate::chaos::targets::Targets;

/// What the mains' host hands back when it is done.
#[derive(Default)]
pub(super) struct Finished {
    pub(super) history: Option<History>,
    pub(super) books: Option<Books>,
    pub(super) unrecovered: Vec<String>,
}

/// The mains' host: following and slow mains under the chaos suite's load until the plan's
/// load ends, then every id once more (each must answer within the plan's bound), then the
/// books once the open orders have finished.
pub(super) async fn mains(
    plan: Plan,
    seeds: Vec<NodeId>,
    store: Arc<dyn Store>,
    targets: Targets,
    fresh: Arc<Mutex<Option<FreshMains>>>,
    finished: Arc<Mutex<Finished>>,
    log: Rc<RefCell<String>>,
) -> turmoil::Result {
    let note = |what: &str| log_line(&log, format_args!("mains: {what}"));
    let addrs: Vec<SocketAddr> = seeds
        .iter()
        .map(|n| SocketAddr::new(turmoil::lookup(n.as_str()), PORT))
        .collect();
    let config = ClusterConfig {
        watch_for: Duration::from_secs(2),
        probe_every: Duration::from_millis(100),
        dialer: Dialer::on(SimNet),
        patience: plan.patience(),
        ..ClusterConfig::default()
    };
    let slow_config = ClusterConfig {
        follow_membership: false,
        ..config.clone()
    };
    let started = clock::now();
    let mut clients = Vec::new();
    for _ in 0..2 {
        clients.push(Cluster::connect_or_wait(&addrs, config.clone()).await?);
    }
    let slow = vec![Cluster::connect_or_wait(&addrs, slow_config).await?];
    let load_config = LoadConfig {
        clients: clients.len(),
        workers: 4,
        slow_mains: 1,
        slow_workers: 2,
        fresh_workers: 2,
        fresh_for: Duration::from_secs(1),
        ids: plan.ids,
        hot: 2,
        think: Duration::from_millis(5),
        buyers: 2,
        products: ["tea-kettle", "chef-knife", "cutting-board"]
            .into_iter()
            .filter_map(|p| ProductId::new(p).ok())
            .collect(),
        call_limit: plan.patience(),
        deadline: None,
        follow_limit: Duration::from_secs(15),
    };
    let mut history = History::new(clock::wall());
    note("connected; the load starts");
    let load = Load::start(&clients, &slow, &targets, &load_config, config.clone());
    *fresh.lock().unwrap_or_else(|p| p.into_inner()) = Some(load.fresh_mains());
    tokio::time::sleep_until(started + plan.load).await;
    note("the load stops");
    load.stop(&mut history).await;
    note("the load stopped; every id once more");
    // Every id at once, each bounded: the sweep takes at most the plan's bound.
    let client = &clients[0];
    let asks = (0..plan.ids).map(|id| async move {
        match tokio::time::timeout(plan.recover, client.request(id)).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(format!("id {id}: {e}")),
            Err(_) => Some(format!("id {id}: no answer within {:?}", plan.recover)),
        }
    });
    let unrecovered: Vec<String> = futures::future::join_all(asks)
        .await
        .into_iter()
        .flatten()
        .collect();
    note("reading the books");
    let books = books::read_store(&*store, &history.acknowledged, Duration::from_secs(30)).await;
    let mut done = finished.lock().unwrap_or_else(|p| p.into_inner());
    done.history = Some(history);
    done.books = Some(books);
    done.unrecovered = unrecovered;
    Ok(())
}
