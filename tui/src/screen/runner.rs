//! Runs effects on tokio tasks and sends their results back as actions, then
//! `Action::Finished`; the only part of the screen that talks to the cluster (through the
//! client). Nothing here is awaited by the render loop.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use ringshop_shared::shop::GUEST;
use ringshop_shared::{NewOrder, OrderId};
use tokio::sync::{Mutex, mpsc};

use super::action::Action;
use super::app::{Cache, LogLine, ProductRow};
use super::effect::Effect;
use crate::client::demo::{self, Step};
use crate::client::{Cluster, Embedded, Report};

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

    /// Runs `effect` on its own task; `Action::Finished` follows whatever it sends.
    pub fn spawn(&self, effect: Effect) {
        let this = self.clone();
        tokio::spawn(async move {
            this.run(effect).await;
            this.send(Action::Finished);
        });
    }

    async fn run(&self, effect: Effect) {
        match effect {
            Effect::LoadMembers => match self.cluster.snapshot().await {
                Ok(snapshot) => self.send(Action::Members {
                    epoch: snapshot.epoch,
                    members: snapshot.members,
                }),
                Err(e) => self.send(Action::Failed(format!("members: {e}"))),
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
                                cache: match (r.stale, r.quote.hit) {
                                    (true, _) => Cache::Stale,
                                    (false, true) => Cache::Hit,
                                    (false, false) => Cache::Miss,
                                },
                                age: r.quote.age.saturating_add(r.seen_ago),
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
                Ok(list) => self.send(Action::Orders(list)),
                Err(e) => self.send(Action::Failed(format!("orders: {e}"))),
            },
            Effect::Checkout(lines) => self.checkout(lines).await,
            Effect::KillNode(name) => self.stop_node(name, false).await,
            Effect::LeaveNode(name) => self.stop_node(name, true).await,
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

    /// Kills an embedded node (as a crash would), or lets it leave gracefully.
    async fn stop_node(&self, name: ringshop_shared::NodeId, graceful: bool) {
        let Some(embedded) = &self.embedded else {
            return;
        };
        let mut embedded = embedded.lock().await;
        let stopped = if graceful {
            embedded.stop(&name).await
        } else {
            embedded.kill(&name).await
        };
        drop(embedded);
        match stopped {
            Some(_) => self.send(Action::NodeStopped { name, graceful }),
            None => self.send(Action::Failed(format!("{name} is not running here"))),
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
        self.send(Action::Order(accepted.value.clone()));
        let mut stages = self.cluster.follow_order(accepted.value);
        while let Some(next) = stages.next().await {
            match next {
                Ok(next) => {
                    self.send(Action::Called(log_line(
                        format!("order {}", next.value.stage),
                        &next.report,
                        None,
                    )));
                    self.send(Action::Order(next.value));
                }
                // The stream keeps following after a failure; the screen hears of each one.
                Err(e) => self.send(Action::Failed(format!("following order {}: {e}", order.id))),
            }
        }
    }

    async fn demo(&self) {
        demo::cycle(&self.cluster, &[1, 2, 3, 4], |step| match step {
            Step::Pass(pass) => {
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
                self.send(Action::DemoPass(pass));
            }
            Step::Waiting(wait) => self.send(Action::DemoWaiting(wait)),
        })
        .await;
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
