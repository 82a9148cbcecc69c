//! Runs effects on tokio tasks and sends their results back as actions; the only part of the
//! TUI that talks to the cluster. Nothing here is awaited by the render loop.

use std::sync::Arc;
use std::time::Duration;

use ringshop_shared::shop::GUEST;
use ringshop_shared::{NewOrder, OrderId};
use tokio::sync::{Mutex, mpsc};

use crate::action::Action;
use crate::app::{LogLine, MemberRow, OrderRow, ProductRow};
use crate::cluster::{Cluster, Report};
use crate::demo::run_pass;
use crate::effect::Effect;
use crate::embedded::Embedded;
use crate::members_table;

#[derive(Clone)]
pub struct Runner {
    cluster: Cluster,
    embedded: Option<Arc<Mutex<Embedded>>>,
    customer: String,
    tx: mpsc::UnboundedSender<Action>,
}

fn log_line(what: impl Into<String>, report: &Report, hit: Option<bool>) -> LogLine {
    LogLine {
        what: what.into(),
        node: Some(report.node.clone()),
        hit,
        latency: report.latency,
        failover: report.failed_over(),
        error: None,
    }
}

fn order_row(o: &ringshop_shared::Order) -> OrderRow {
    OrderRow {
        id: o.id,
        stage: o.stage,
        node: o.node.clone(),
        lines: o.lines.clone(),
        total_cents: o.total_cents,
        reason: o.reason.clone(),
        elapsed: o.elapsed,
    }
}

impl Runner {
    pub fn new(
        cluster: Cluster,
        embedded: Option<Embedded>,
        customer: Option<String>,
        tx: mpsc::UnboundedSender<Action>,
    ) -> Runner {
        Runner {
            cluster,
            embedded: embedded.map(|e| Arc::new(Mutex::new(e))),
            customer: customer.unwrap_or_else(|| GUEST.to_string()),
            tx,
        }
    }

    fn send(&self, action: Action) {
        // The loop is gone only when the app is quitting.
        let _ = self.tx.send(action);
    }

    pub fn spawn(&self, effect: Effect) {
        let this = self.clone();
        tokio::spawn(async move { this.run(effect).await });
    }

    async fn run(&self, effect: Effect) {
        match effect {
            Effect::LoadMembers => match members_table::snapshot(&self.cluster).await {
                Ok(table) => {
                    let members = table
                        .members
                        .iter()
                        .filter_map(|r| {
                            Some(MemberRow {
                                name: r.name.clone()?,
                                addr: r.addr,
                                status: r.status,
                                heartbeat: Duration::from_millis(r.heartbeat_age_ms.unwrap_or(0)),
                                share: r.ring_share_pct / 100.0,
                                actors: r.live_actors,
                                hits: r.hits,
                                misses: r.misses,
                            })
                        })
                        .collect();
                    self.send(Action::Members {
                        epoch: table.epoch,
                        members,
                    });
                }
                Err(f) => self.send(Action::Failed(format!("members: {}", f.message))),
            },
            Effect::LoadProducts => match self.cluster.catalog().await {
                Ok(catalog) => {
                    let ids: Vec<_> = catalog.iter().map(|p| p.id.clone()).collect();
                    let quotes = self.cluster.quotes(&ids).await;
                    let mut rows = Vec::new();
                    for (id, q) in quotes {
                        match q {
                            Ok(r) => rows.push(ProductRow {
                                id,
                                name: r.quote.value.product.name.clone(),
                                category: r.quote.value.product.category.clone(),
                                price_cents: r.quote.value.product.price_cents,
                                stock: r.quote.value.stock_left,
                                node: r.quote.node.clone(),
                                hit: r.quote.hit,
                                age: r.quote.age.saturating_add(r.seen_ago),
                                stale: r.stale,
                            }),
                            Err(e) => self.send(Action::Failed(format!("quote {id}: {e}"))),
                        }
                    }
                    self.send(Action::Called(LogLine {
                        what: format!("quotes ({} products)", rows.len()),
                        node: None,
                        hit: None,
                        latency: Duration::ZERO,
                        failover: false,
                        error: None,
                    }));
                    self.send(Action::Products(rows));
                }
                Err(e) => self.send(Action::Failed(format!("products: {e}"))),
            },
            Effect::LoadOrders => match self.cluster.orders(Some(self.customer.clone())).await {
                Ok(list) => self.send(Action::Orders(list.iter().map(order_row).collect())),
                Err(e) => self.send(Action::Failed(format!("orders: {e}"))),
            },
            Effect::Checkout(lines) => self.checkout(lines).await,
            Effect::StopNode(name) => {
                let Some(embedded) = &self.embedded else {
                    return;
                };
                let stopped = embedded.lock().await.kill(&name).await;
                match stopped {
                    Some(_) => self.send(Action::NodeStopped(name)),
                    None => self.send(Action::Failed(format!("{name} is not running here"))),
                }
            }
            Effect::StartNode(name) => {
                let Some(embedded) = self.embedded.clone() else {
                    return;
                };
                // Starting a node opens its store, whose sqlx future the compiler cannot prove
                // `Send` for a spawned task; so it runs to completion on a blocking thread.
                let runtime = tokio::runtime::Handle::current();
                let start = name.clone();
                let started = tokio::task::spawn_blocking(move || {
                    runtime.block_on(async move {
                        let mut embedded = embedded.lock().await;
                        embedded.start_node(start).await.map_err(|e| e.to_string())
                    })
                })
                .await;
                match started {
                    Ok(Ok(_)) => self.send(Action::NodeStarted(name)),
                    Ok(Err(e)) => self.send(Action::Failed(format!("start {name}: {e}"))),
                    Err(e) => self.send(Action::Failed(format!("start {name}: {e}"))),
                }
            }
            Effect::RunDemo => self.demo().await,
        }
    }

    async fn checkout(&self, lines: Vec<ringshop_shared::OrderLine>) {
        let order = NewOrder {
            id: OrderId::random(),
            customer: self.customer.clone(),
            lines,
        };
        let accepted = match self.cluster.checkout(&order).await {
            Ok(a) => a,
            Err(e) => return self.send(Action::Failed(format!("checkout: {e}"))),
        };
        self.send(Action::Called(log_line("checkout", &accepted.report, None)));
        let mut current = accepted.value;
        self.send(Action::Order(order_row(&current)));
        while !current.stage.is_final() {
            match self.cluster.watch_order(current.id, current.stage).await {
                Ok(next) => {
                    if next.value.stage != current.stage {
                        self.send(Action::Called(log_line(
                            format!("order {}", next.value.stage),
                            &next.report,
                            None,
                        )));
                        self.send(Action::Order(order_row(&next.value)));
                    }
                    current = next.value;
                }
                Err(e) => {
                    self.send(Action::Failed(format!(
                        "following order {}: {e}",
                        current.id
                    )));
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    async fn demo(&self) {
        let ids = [1u64, 2, 3, 4];
        let titles = [
            "cold: every id is a miss",
            "again within the TTL: hits",
            "after the TTL: new values",
        ];
        for (i, title) in titles.iter().enumerate() {
            let pass = run_pass(&self.cluster, i + 1, *title, &ids).await;
            for r in &pass.rows {
                self.send(Action::Called(LogLine {
                    what: format!("request id {}", r.id),
                    node: r.node.clone(),
                    hit: r.hit,
                    latency: r.latency,
                    failover: !r.failover_from.is_empty(),
                    error: r.error.clone(),
                }));
            }
            let wait = pass
                .longest_ttl_left()
                .saturating_add(Duration::from_millis(100));
            self.send(Action::DemoPass(pass));
            if i == 1 {
                self.send(Action::DemoWaiting(wait));
                tokio::time::sleep(wait).await;
            }
        }
        self.send(Action::DemoDone);
    }

    /// Stops an embedded cluster gracefully.
    pub async fn shutdown(self) {
        if let Some(embedded) = self.embedded
            && let Ok(embedded) = Arc::try_unwrap(embedded)
        {
            embedded.into_inner().shutdown().await;
        }
    }
}
