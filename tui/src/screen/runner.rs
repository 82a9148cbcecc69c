//! Runs effects on tokio tasks and sends their results back as actions, then
//! `Action::Finished`; the only part of the screen that talks to the cluster (through the
//! client). Nothing here is awaited by the render loop.

use std::sync::Arc;
use std::time::Instant;

use ringshop_shared::prefix::IdPrefix;
use ringshop_shared::shop::GUEST;
use ringshop_shared::{NewOrder, OrderId, ProductId};
use ringshop_telemetry as telemetry;
use tokio::sync::{Mutex, mpsc};
use tracing::Instrument;

use super::action::Action;
use super::app::{Cache, LogLine, ProductRow};
use super::effect::Effect;
use super::following;
use crate::client::demo::{self, Step};
use crate::client::{Cluster, Embedded, OwnerCall, QuoteRow, Report, ResolveError, StockEvent};

#[derive(Clone)]
pub struct Runner {
    cluster: Cluster,
    embedded: Option<Arc<Mutex<Embedded>>>,
    customer: String,
    tx: mpsc::UnboundedSender<Action>,
    /// The task passing live stock on to the screen, stopped when another one starts.
    stock: Arc<std::sync::Mutex<Option<tokio::task::AbortHandle>>>,
}

fn log_line(what: impl Into<String>, report: &Report, hit: Option<bool>) -> LogLine {
    LogLine {
        hit,
        failover: report.failed_over(),
        ..LogLine::call(what, Some(report.node.clone()), report.latency)
    }
}

/// A quotes call's log line: "quotes ×14 (9 hit)" on its node, or why it got none.
fn call_line(call: &OwnerCall) -> LogLine {
    let how = if call.batch { "" } else { " one by one" };
    LogLine {
        failover: call.failover,
        error: call
            .error
            .as_ref()
            .map(|e| format!("no answer ({e}); asked one by one")),
        ..LogLine::call(
            format!("quotes ×{} ({} hit){how}", call.products, call.hits),
            Some(call.node.clone()),
            call.latency,
        )
    }
}

/// A listed product, asked for at `asked` (its age grows from then).
fn product_row(id: ProductId, r: QuoteRow, asked: Instant) -> ProductRow {
    let product = &r.quote.value.product;
    ProductRow {
        name: product.name.clone(),
        category: product.category.clone(),
        price_cents: product.price_cents,
        stock: r.quote.value.stock_left,
        node: r.quote.node.clone(),
        cache: match (r.stale, r.quote.hit) {
            (true, _) => Cache::Stale,
            (false, true) => Cache::Hit,
            (false, false) => Cache::Miss,
        },
        age: r.quote.age.saturating_add(r.seen_ago),
        seen_at: asked,
        was: None,
        id,
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
            stock: Arc::default(),
        }
    }

    fn send(&self, mut action: Action) {
        if let Action::Failed { .. } = action {
            // Whether nothing answers, told before the failure it explains.
            let _ = self.tx.send(Action::Searching(self.cluster.searching()));
        }
        // A call's (or failure's) line says the trace of the action it was part of (this
        // task's root span).
        let slot = match &mut action {
            Action::Called(line) => Some(&mut line.trace),
            Action::Failed { trace, .. } => Some(trace),
            _ => None,
        };
        if let Some(slot) = slot
            && slot.is_none()
        {
            *slot = telemetry::ids_of(&tracing::Span::current()).map(|(trace, _)| trace);
        }
        // The loop is gone only when the app is quitting.
        let _ = self.tx.send(action);
    }

    /// Runs `effect` on its own task; `Action::Finished` follows whatever it sends. Each
    /// effect a person asked for is one action, one trace (root span); the periodic members
    /// poll is not traced, so the kept traces are the ones people made.
    pub fn spawn(&self, effect: Effect) {
        let this = self.clone();
        let name = effect.name();
        let root = if matches!(
            effect,
            Effect::LoadMembers | Effect::LoadTrace(_) | Effect::FollowStock(_)
        ) {
            tracing::Span::none()
        } else {
            telemetry::action(name)
        };
        tokio::spawn(
            async move {
                this.run(effect).await;
                this.send(Action::Finished);
            }
            .instrument(root),
        );
    }

    async fn run(&self, effect: Effect) {
        match effect {
            Effect::LoadMembers => {
                let snapshot = self.cluster.snapshot().await;
                self.send(Action::Searching(self.cluster.searching()));
                match snapshot {
                    Ok(snapshot) => self.send(Action::Members {
                        epoch: snapshot.epoch,
                        members: snapshot.members,
                    }),
                    Err(e) => self.send(Action::failed("members", e)),
                }
            }
            Effect::LoadProducts => match self.cluster.catalog().await {
                Ok(catalog) => self.quotes(catalog).await,
                Err(e) => self.send(Action::failed("products", e)),
            },
            Effect::LoadOrders => match self.cluster.orders(Some(self.customer.clone())).await {
                Ok(list) => self.send(Action::Orders(list)),
                Err(e) => self.send(Action::failed("orders", e)),
            },
            Effect::FollowStock(products) => self.follow_stock(products),
            Effect::Checkout { id, lines } => self.checkout(id, lines).await,
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
                    Ok(Err(e)) => self.send(Action::failed(format!("start {name}"), e)),
                    Err(e) => self.send(Action::failed(format!("start {name}"), e)),
                }
            }
            Effect::RunDemo => self.demo().await,
            Effect::LoadTrace(trace) => self.send(Action::Trace(self.cluster.trace(trace).await)),
            Effect::FindId(prefix) => self.find_id(prefix).await,
        }
    }

    /// Quotes the catalog (one call per owner), logging each call; products that got no quote
    /// make one failure, not one each.
    async fn quotes(&self, catalog: Vec<ringshop_shared::Product>) {
        let ids: Vec<_> = catalog.iter().map(|p| p.id.clone()).collect();
        let asked = Instant::now();
        let (quotes, calls) = self.cluster.quotes_with_calls(&ids).await;
        for call in &calls {
            self.send(Action::Called(call_line(call)));
        }
        let mut rows = Vec::new();
        let mut missing = Vec::new();
        for (id, q) in quotes {
            match q {
                Ok(r) => rows.push(product_row(id, r, asked)),
                Err(e) => missing.push((id, e)),
            }
        }
        if let Some((first, e)) = missing.first() {
            let error = match missing.len() {
                1 => format!("{first}: {e}"),
                n => format!("{n} products have none ({first}: {e})"),
            };
            self.send(Action::failed("quotes", error));
        }
        self.send(Action::Products(rows));
    }

    /// Follows `products`' stock on a task of its own, in place of the one before, sending
    /// each change to the screen as it comes. Not traced: it lives as long as the screen.
    fn follow_stock(&self, products: Vec<ProductId>) {
        let mut events = self.cluster.follow_stock(products);
        let this = self.clone();
        let task = tokio::spawn(
            async move {
                while let Some(event) = events.recv().await {
                    this.send(match event {
                        StockEvent::Quotes { quotes, .. } => Action::Stock {
                            quotes,
                            at: Instant::now(),
                        },
                        StockEvent::Lost {
                            node,
                            products,
                            error,
                        } => Action::StockLost {
                            node,
                            products,
                            error,
                        },
                    });
                }
            }
            .instrument(tracing::Span::none()),
        );
        let mut slot = self.stock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(before) = slot.replace(task.abort_handle()) {
            before.abort();
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
        let what = if graceful { "leave" } else { "kill" };
        match stopped {
            Some(_) => self.send(Action::NodeStopped { name, graceful }),
            None => self.send(Action::failed(
                format!("{what} {name}"),
                format!("{name} is not running here"),
            )),
        }
    }

    /// Places order `id` (minted by `update`) and follows it until it ends or following it
    /// gives up (`following.rs`).
    async fn checkout(&self, id: OrderId, lines: Vec<ringshop_shared::OrderLine>) {
        let order = NewOrder {
            id,
            customer: self.customer.clone(),
            lines,
        };
        let accepted = match self.cluster.checkout(&order).await {
            Ok(a) => a,
            Err(e) => {
                return self.send(Action::CheckoutFailed {
                    order: id,
                    error: e.to_string(),
                });
            }
        };
        self.send(Action::Called(log_line("checkout", &accepted.report, None)));
        if let Some((trace, _)) = telemetry::ids_of(&tracing::Span::current()) {
            self.send(Action::OrderTrace(order.id, trace));
        }
        self.send(Action::Order(accepted.value.clone()));
        let stages = self.cluster.follow_order(accepted.value);
        following::follow(id, stages, following::FOLLOW_PATIENCE, |a| self.send(a)).await;
    }

    /// The order `prefix` names, else the trace; "find" fails saying why (none, or several).
    async fn find_id(&self, prefix: IdPrefix) {
        let order = match self.cluster.resolve_order(&prefix).await {
            Ok(id) => self.cluster.order(id).await.map_err(ResolveError::from),
            Err(e) => Err(e),
        };
        let found = match order {
            Ok(order) => return self.send(Action::FoundOrder(order)),
            Err(ResolveError::NoOrder { .. }) => self.cluster.resolve_trace(&prefix).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(trace) => self.send(Action::FoundTrace(trace)),
            Err(ResolveError::NoTrace { .. }) => self.send(Action::failed(
                "find",
                format!("no order or trace id starts with {prefix}"),
            )),
            Err(e) => self.send(Action::failed("find", e)),
        }
    }

    async fn demo(&self) {
        demo::cycle(&self.cluster, &[1, 2, 3, 4], |step| match step {
            Step::Pass(pass) => {
                for r in &pass.rows {
                    self.send(Action::Called(LogLine {
                        hit: r.hit,
                        failover: !r.failover_from.is_empty(),
                        error: r.error.clone(),
                        ..LogLine::call(format!("request id {}", r.id), r.node.clone(), r.latency)
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
