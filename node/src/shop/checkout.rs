//! Checkout jobs: an order's job runs on the owner of its order id and moves it through
//! accepted → reserving → paying → done, or → failed with every reservation released. A job
//! runs on one node at a time, the way an id has one actor: it starts only where the order id
//! is `Claim::Mine` (owned, and settled: the previous owner has let go), and when the order id
//! moves away its job is stopped (`let_go`) before the epoch is acknowledged. Every stage
//! change is also a compare-and-set on the order's version in the store, so even a job that
//! outlived its ownership cannot move the order. A job that meets an error retries on its own
//! with a capped backoff (`checkout/job.rs`).
//!
//! A job is safe to run again from any stored stage: reserving holds each line once per order,
//! releasing and selling act once, and the payment's outcome is a pure function of the order
//! id, so a resumed payment decides as the first attempt did. When membership changes or a node
//! starts, it resumes the open orders it owns; all along, the reaper gives back the stray holds
//! of the orders it owns (`reaper.rs`).

mod job;
mod owner;

use std::hash::Hasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringshop_shared::clock::Instant;
use ringshop_shared::hash::Map;
use ringshop_shared::shop::GUEST;
use ringshop_shared::{NewOrder, NodeId, Order, OrderId, Progress, ShardError};
use ringshop_telemetry as telemetry;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::actors::product::Products;
use crate::holding::Holds;
use crate::membership::detector::Detector;
use crate::membership::{Claim, Members};
use crate::peers::Peers;
use crate::shop::reaper;
use crate::store::{Store, StoredOrder, patiently};

/// The simulated payment.
#[derive(Clone, Debug)]
pub struct Payment {
    /// How long paying takes.
    pub delay: Duration,
    /// The share of orders whose payment is declined, 0.0..=1.0.
    pub failure_rate: f64,
}

impl Default for Payment {
    fn default() -> Self {
        Payment {
            delay: Duration::from_millis(2_800),
            failure_rate: 0.0,
        }
    }
}

impl Payment {
    /// Declined or not: the same answer every time for one order.
    fn declines(&self, order: OrderId) -> bool {
        if self.failure_rate <= 0.0 {
            return false;
        }
        let mut h = ringshop_shared::ring::StableHasher::default();
        h.write(order.as_bytes());
        (h.finish() as f64 / u64::MAX as f64) < self.failure_rate
    }
}

/// How long a job keeps trying to reach a product's owner before failing the order.
const REACH_FOR: Duration = Duration::from_secs(30);
/// How long a product call goes unanswered before the buyer is told which member the checkout
/// waits on.
const SHOW_WAITING_AFTER: Duration = Duration::from_secs(1);
/// How long one node-to-node call may take.
const CALL_DEADLINE: Duration = Duration::from_secs(2);
/// How long a product call waits on its owner's connection before it also goes through
/// another member. A reserve takes ~1 ms (its p99 at 2,000 orders/s is tens of ms); one slower
/// than this is sent again through a relay, which costs one forward and holds nothing twice.
const HEDGE_AFTER: Duration = Duration::from_millis(100);

struct Shared {
    me: NodeId,
    store: Arc<dyn Store>,
    members: Members,
    peers: Arc<Peers>,
    detector: Detector,
    products: Products,
    payment: Payment,
    /// Local product calls held while a product is handed over to this node.
    holds: Holds,
    /// Orders with a job on this node: their latest state, and the job's stop.
    jobs: Mutex<Map<OrderId, Job>>,
    /// The last orders whose job here ended them (done or failed), as stored: a final order
    /// never changes, so a watch that comes after its job (common: a job with no payment
    /// delay ends in milliseconds) answers from here instead of reading the store.
    ended: Mutex<Ended>,
    generations: AtomicU64,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

/// How many ended orders a node keeps (`Shared::ended`): a few hundred bytes each.
const ENDED_KEPT: usize = 4_096;

/// The last `ENDED_KEPT` orders whose job ended them, oldest first out.
#[derive(Default)]
struct Ended {
    orders: Map<OrderId, Order>,
    oldest_first: std::collections::VecDeque<OrderId>,
}

impl Ended {
    fn keep(&mut self, order: Order) {
        if self.orders.insert(order.id, order.clone()).is_none() {
            self.oldest_first.push_back(order.id);
        }
        while self.oldest_first.len() > ENDED_KEPT {
            if let Some(oldest) = self.oldest_first.pop_front() {
                self.orders.remove(&oldest);
            }
        }
    }

    fn get(&self, id: &OrderId) -> Option<Order> {
        self.orders.get(id).cloned()
    }
}

/// One order's job on this node.
struct Job {
    /// Tells this job from a later one for the same order.
    generation: u64,
    state: watch::Sender<Order>,
    stop: CancellationToken,
    done: Option<tokio::task::JoinHandle<()>>,
}

/// How often a node looks for open orders it may run, besides after every membership change.
const RESUME_EVERY: Duration = Duration::from_secs(1);
/// How long letting go of an order waits for its job to stop.
const STOP_WITHIN: Duration = Duration::from_secs(2);

/// Cheap to clone; every clone is the same set of jobs.
#[derive(Clone)]
pub struct Checkout {
    shared: Arc<Shared>,
}

impl Checkout {
    pub fn new(
        members: Members,
        peers: Arc<Peers>,
        detector: Detector,
        products: Products,
        payment: Payment,
        tracker: TaskTracker,
        shutdown: CancellationToken,
    ) -> Checkout {
        Checkout {
            shared: Arc::new(Shared {
                me: members.me().clone(),
                store: members.store().clone(),
                members,
                peers,
                detector,
                products,
                payment,
                holds: Holds::default(),
                jobs: Mutex::new(Map::default()),
                ended: Mutex::new(Ended::default()),
                generations: AtomicU64::new(0),
                tracker,
                shutdown,
            }),
        }
    }

    /// Checks the order, stores it (the ack), and starts its job. The same id again answers
    /// the stored order (`create_order` returns it) and starts nothing new.
    /// Stores a new order (or finds the one stored under its id) and starts its job;
    /// transient store errors are tried again until `until`.
    pub async fn submit(&self, mut new: NewOrder, until: Instant) -> Result<Order, ShardError> {
        if new.customer.trim().is_empty() {
            new.customer = GUEST.to_string();
        }
        new.validate()?;
        let store = &self.shared.store;
        let mut total = 0u64;
        for line in &new.lines {
            let refused = match patiently(until, || store.product(&line.product))
                .await
                .map_err(|e| e.on(&self.shared.me))?
            {
                None => ShardError::UnknownProduct {
                    id: line.product.clone(),
                },
                Some((_, left)) if line.qty > left => ShardError::OutOfStock {
                    product: line.product.clone(),
                    wanted: line.qty,
                    left,
                },
                Some((product, _)) => {
                    total += product.price_cents * u64::from(line.qty);
                    continue;
                }
            };
            // The same id again answers the stored order, whatever the stock says now (the
            // common case, a new order, needs no read of it: storing it says).
            return match patiently(until, || store.order(new.id))
                .await
                .map_err(|e| e.on(&self.shared.me))?
            {
                Some(existing) => {
                    self.ensure_job(existing.clone());
                    Ok(existing.order)
                }
                None => Err(refused),
            };
        }
        let trace_parent = telemetry::traceparent(&tracing::Span::current());
        // Safe to repeat: the same id stores once, and a second try answers the stored order.
        let stored = patiently(until, || {
            store.create_order(&new, total, &self.shared.me, trace_parent.as_deref())
        })
        .await;
        #[cfg(feature = "planted")]
        if stored.is_err() && crate::planted::on(crate::planted::Bug::AcksBeforeCommit) {
            return Ok(self.as_if_stored(new, total));
        }
        let stored = stored.map_err(|e| e.on(&self.shared.me))?;
        self.ensure_job(stored.clone());
        Ok(stored.order)
    }

    /// The order `create_order` would have answered (the planted `AcksBeforeCommit` only).
    #[cfg(feature = "planted")]
    fn as_if_stored(&self, new: NewOrder, total_cents: u64) -> Order {
        let now = ringshop_shared::clock::wall();
        Order {
            id: new.id,
            customer: new.customer,
            lines: new.lines,
            total_cents,
            stage: ringshop_shared::Stage::Accepted,
            reason: None,
            node: self.shared.me.clone(),
            created_at: now,
            updated_at: now,
            elapsed: Duration::ZERO,
            waiting: None,
            trace_id: None,
        }
    }

    /// The order as stored, with the member its job here waits on, if any; transient store
    /// errors are tried again until `until`.
    pub async fn order(&self, id: OrderId, until: Instant) -> Result<Order, ShardError> {
        let mut order = patiently(until, || self.shared.store.order(id))
            .await
            .map_err(|e| e.on(&self.shared.me))?
            .map(|s| s.order)
            .ok_or(ShardError::UnknownOrder { id })?;
        if let Some(job) = self.lock().get(&id) {
            order.waiting = job.state.borrow().waiting.clone();
        }
        Ok(order)
    }

    /// Waits until the order's progress differs from `seen` or `until`; the order then.
    pub async fn watch(
        &self,
        id: OrderId,
        seen: Progress,
        until: Instant,
    ) -> Result<Order, ShardError> {
        loop {
            let job = self.lock().get(&id).map(|job| job.state.subscribe());
            let ended = match &job {
                Some(_) => None,
                None => self.ended(&id),
            };
            let current = match (&job, ended) {
                (Some(rx), _) => rx.borrow().clone(),
                (None, Some(order)) => order,
                (None, None) => self.order(id, until).await?,
            };
            if current.progress() != seen || current.stage.is_final() {
                return Ok(current);
            }
            let wait = async {
                match job {
                    Some(mut rx) => {
                        let _ = rx.changed().await;
                    }
                    // No job here (yet): the order may be moving elsewhere; look again soon.
                    None => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            };
            tokio::select! {
                _ = wait => {}
                _ = tokio::time::sleep_until(until) => return Ok(current),
            }
        }
    }

    /// Stops the jobs of the orders `lost` names and waits for them (at most `STOP_WITHIN`
    /// each): a job runs on one node at a time, and the order's new owner starts it only once
    /// this node has let go (it acknowledges the epoch after this).
    pub async fn let_go(&self, lost: impl Fn(&OrderId) -> bool) {
        let stopping: Vec<(OrderId, Option<tokio::task::JoinHandle<()>>)> = {
            let mut jobs = self.lock();
            let ids: Vec<OrderId> = jobs.keys().filter(|id| lost(id)).copied().collect();
            ids.into_iter()
                .filter_map(|id| {
                    let mut job = jobs.remove(&id)?;
                    job.stop.cancel();
                    Some((id, job.done.take()))
                })
                .collect()
        };
        for (id, done) in stopping {
            if let Some(done) = done
                && tokio::time::timeout(STOP_WITHIN, done).await.is_err()
            {
                tracing::warn!(node = %self.shared.me, order = %id, "a job did not stop in time");
            }
        }
    }

    /// Whether this node may run `id`'s job now (it owns the order id, settled).
    fn mine(&self, id: &OrderId) -> bool {
        self.shared.members.claim(id) == Ok(Claim::Mine)
    }

    /// Starts jobs for the open orders this node may run now (see `mine`).
    pub async fn resume_owned(&self) {
        let open = match self.shared.store.open_orders().await {
            Ok(open) => open,
            Err(e) => {
                tracing::warn!(node = %self.shared.me, error = %e, "listing open orders failed");
                return;
            }
        };
        for stored in open {
            if self.mine(&stored.order.id) {
                self.ensure_job(stored);
            }
        }
    }

    /// Resumes owned orders after every membership change (and every `RESUME_EVERY`), and reaps stray holds every
    /// `reaper::EVERY`, until `shutdown`.
    pub async fn run(self) {
        let (members, me) = (self.shared.members.clone(), self.shared.me.clone());
        let mine = move |order: &OrderId| members.with_view(|v| v.ring.owner(order) == Some(&me));
        self.shared.tracker.spawn(reaper::run(
            self.shared.store.clone(),
            reaper::EVERY,
            reaper::STRAY_AFTER,
            mine,
            self.shared.shutdown.clone(),
        ));
        self.resume_owned().await;
        let mut changes = self.shared.members.subscribe();
        loop {
            tokio::select! {
                _ = self.shared.shutdown.cancelled() => return,
                changed = changes.changed() => if changed.is_err() { return },
                // A job that could not start (a lease being renewed) starts on the next look.
                _ = tokio::time::sleep(RESUME_EVERY) => {}
            }
            self.resume_owned().await;
        }
    }

    /// The order as its job here ended it, if it is still kept (`Shared::ended`).
    fn ended(&self, id: &OrderId) -> Option<Order> {
        let ended = self.shared.ended.lock().unwrap_or_else(|p| p.into_inner());
        ended.get(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map<OrderId, Job>> {
        self.shared.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the order's job here unless it is final, already running here, or not this
    /// node's to run now (then the next membership change that makes it so starts it).
    fn ensure_job(&self, stored: StoredOrder) {
        let id = stored.order.id;
        if stored.order.stage.is_final() || !self.mine(&id) {
            return;
        }
        let stop = self.shared.shutdown.child_token();
        let generation = self.shared.generations.fetch_add(1, Ordering::Relaxed);
        {
            let mut jobs = self.lock();
            if jobs.contains_key(&id) {
                return;
            }
            let state = watch::channel(stored.order.clone()).0;
            let stop = stop.clone();
            let job = Job {
                generation,
                state,
                stop,
                done: None,
            };
            jobs.insert(id, job);
        }
        let this = self.clone();
        // In the trace of the call that started it (a checkout); a job resumed later, here or
        // on another node, goes on in the trace the order was placed in. An order placed
        // outside any kept trace gets no span (nor do its steps and calls).
        let caller = tracing::Span::current();
        let span = match (&stored.trace_parent, caller.is_disabled()) {
            (_, false) => tracing::info_span!("job", node = %self.shared.me, order = %id),
            (Some(parent), true) => {
                let span = tracing::info_span!(parent: None, "job", node = %self.shared.me, order = %id,
                    trace_id = tracing::field::Empty, span_id = tracing::field::Empty);
                telemetry::continue_trace(&span, parent);
                span
            }
            (None, true) => tracing::Span::none(),
        };
        let job = async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = this.job(stored) => {}
            }
            let ended = {
                let mut jobs = this.lock();
                match jobs.get(&id).filter(|job| job.generation == generation) {
                    Some(_) => jobs.remove(&id).map(|job| job.state.borrow().clone()),
                    None => None,
                }
            };
            // Published only from what the store answered a write: final there too.
            if let Some(order) = ended.filter(|o| o.stage.is_final()) {
                this.shared
                    .ended
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .keep(order);
            }
        };
        let done = self.shared.tracker.spawn(job.instrument(span));
        if let Some(job) = self
            .lock()
            .get_mut(&id)
            .filter(|j| j.generation == generation)
        {
            job.done = Some(done);
        }
    }

    fn publish(&self, order: &Order) {
        if let Some(job) = self.lock().get(&order.id) {
            job.state.send_replace(order.clone());
        }
    }

    /// Tells those following order `id` which member its job waits on (None: it waits on
    /// none). Only a change wakes them.
    fn show_waiting(&self, id: OrderId, on: Option<NodeId>) {
        if let Some(job) = self.lock().get(&id) {
            job.state.send_if_modified(|order| {
                let changed = order.waiting != on;
                order.waiting = on;
                changed
            });
        }
    }
}
