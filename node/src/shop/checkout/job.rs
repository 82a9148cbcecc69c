//! One order's job: the stage machine that runs on the owner of the order id.
//!
//! Every stage change is a compare-and-set on the order's version. An error that says nothing
//! about the order (the store failed, a product's owner was out of reach) is retried after a
//! capped exponential backoff; after each wait the job re-reads the order and stops if it is
//! final or another node moved it meanwhile.
//!
//! The job never gives holds back itself: failing the order does, in the same statement
//! (migration 4), so a job that lost the order cannot release holds the new owner counts on,
//! and no crash leaves a failed order holding stock. An order is done only once the store says
//! every line is sold (and migration 4 refuses `done` otherwise).

use std::time::Duration;

use ringshop_shared::hash::Map;
use ringshop_shared::{NodeId, Order, ProductId, Reservation, ShardError, Stage};
use tracing::Instrument;

use super::Checkout;
use crate::actors::product::Products;
use crate::store::{Finish, HoldState, StoredOrder};

/// The wait after the first error in a row; it doubles with each further one, up to
/// `RETRY_CAP`.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_CAP: Duration = Duration::from_secs(5);

/// The wait before retrying after `errors` errors in a row (1 or more).
pub(super) fn backoff(errors: u32) -> Duration {
    let doublings = errors.saturating_sub(1).min(16);
    RETRY_FIRST.saturating_mul(1 << doublings).min(RETRY_CAP)
}

/// Errors that say nothing about the order itself, so the step is tried again: a store error,
/// an owner that moved, is handing the product over or cannot be reached. Every
/// answer about the order (out of stock, a released hold, no open order...) is a variant of
/// its own and is not retried.
pub(super) fn retryable(e: &ShardError) -> bool {
    matches!(
        e,
        ShardError::Store { .. }
            | ShardError::StoreFull { .. }
            | ShardError::ShuttingDown { .. }
            | ShardError::Moved { .. }
            | ShardError::Unavailable { .. }
            | ShardError::PeerUnreachable { .. }
    )
}

/// What the job does after an error, given the order as the store has it now.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Resume {
    Continue(Box<StoredOrder>),
    Stop,
}

pub(super) fn resume(me: &NodeId, cur: &StoredOrder, stored: Option<StoredOrder>) -> Resume {
    match stored {
        None => Resume::Stop,
        Some(s) if s.order.stage.is_final() => Resume::Stop,
        // Unmoved, or moved by this job's own write that reported an error after it landed.
        Some(s) if s.version == cur.version || &s.order.node == me => Resume::Continue(Box::new(s)),
        Some(_) => Resume::Stop,
    }
}

/// Why the lines could not all be held.
enum Short {
    /// The order cannot be bought as placed: it fails, with this reason.
    Fail(String),
    /// No answer about the order (store error, owner out of reach): try again later.
    Retry(ShardError),
}

/// What one step of the job came to.
enum Step {
    /// This job moved the order on.
    Moved(Box<StoredOrder>),
    /// Another node moved it first, or the node is shutting down.
    Stop,
}

/// Why an order failed when its product's owner could not be reached for `REACH_FOR`.
pub(super) fn gave_up(product: &ProductId, reason: &str) -> String {
    format!(
        "{product}: its owner could not be reached for {} s ({reason}); nothing was charged, place the order again",
        super::REACH_FOR.as_secs()
    )
}

fn released(product: &ProductId) -> String {
    format!("{product}: its hold was released before the order was paid; place the order again")
}

/// The reason the order is not bought, if a line is not sold.
fn unsold(order: &Order, holds: &Map<ProductId, HoldState>) -> Option<String> {
    order
        .lines
        .iter()
        .find_map(|line| match holds.get(&line.product) {
            Some(HoldState::Sold) => None,
            Some(HoldState::Released) => Some(released(&line.product)),
            Some(HoldState::Held) => Some(format!("{}: held but not sold", line.product)),
            None => Some(format!("{}: never held", line.product)),
        })
}

impl Checkout {
    /// Runs the order to a final stage, or until another node takes it or the node stops.
    pub(super) async fn job(&self, mut cur: StoredOrder) {
        let mut errors = 0u32;
        // Whether this job itself just moved the order from accepted to reserving: then no
        // line of it can have a hold yet (holds are taken only while reserving), and the
        // reservations need not read them first.
        let mut fresh = false;
        loop {
            if self.shared.shutdown.is_cancelled() {
                return;
            }
            let stage = cur.order.stage.as_str();
            let span = if tracing::Span::current().is_disabled() {
                tracing::Span::none()
            } else {
                tracing::info_span!("step", otel.name = stage, node = %self.shared.me)
            };
            let failure = match self.step(&cur, fresh).instrument(span).await {
                Ok(Step::Moved(next)) if next.order.stage.is_final() => return,
                Ok(Step::Moved(next)) => {
                    errors = 0;
                    fresh =
                        cur.order.stage == Stage::Accepted && next.order.stage == Stage::Reserving;
                    cur = *next;
                    continue;
                }
                Ok(Step::Stop) => return,
                Err(e) => e,
            };
            fresh = false;
            errors = errors.saturating_add(1);
            let wait = backoff(errors);
            tracing::warn!(node = %self.shared.me, order = %cur.order.id, stage = %cur.order.stage,
                error = %failure, retry_in_ms = wait.as_millis() as u64, "checkout step failed; retrying");
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.shared.shutdown.cancelled() => return,
            }
            match self.shared.store.order(cur.order.id).await {
                Ok(stored) => match resume(&self.shared.me, &cur, stored) {
                    Resume::Continue(now) => {
                        if *now != cur {
                            self.publish(&now.order);
                        }
                        cur = *now;
                    }
                    Resume::Stop => {
                        tracing::info!(node = %self.shared.me, order = %cur.order.id,
                            "order finished or taken over elsewhere; stopping here");
                        return;
                    }
                },
                // The next step meets the store again and backs off further.
                Err(e) => {
                    tracing::warn!(order = %cur.order.id, error = %e, "re-reading the order failed")
                }
            }
        }
    }

    async fn step(&self, cur: &StoredOrder, fresh: bool) -> Result<Step, ShardError> {
        // Claim it: from here every write checks that nobody else moved it meanwhile.
        if cur.order.node != self.shared.me {
            return self.advance(cur, cur.order.stage, None).await;
        }
        match cur.order.stage {
            Stage::Accepted => self.advance(cur, Stage::Reserving, None).await,
            Stage::Reserving => match self.reserve_all(&cur.order, fresh).await {
                Ok(()) => self.advance(cur, Stage::Paying, None).await,
                Err(Short::Fail(reason)) => self.fail(cur, &reason).await,
                Err(Short::Retry(e)) => Err(e),
            },
            Stage::Paying => {
                // A retried payment waits again; it decides as before (a function of the id).
                let delay = self.shared.payment.delay;
                if !delay.is_zero() {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.shared.shutdown.cancelled() => return Ok(Step::Stop),
                    }
                }
                if self.shared.payment.declines(cur.order.id) {
                    return self.fail(cur, "payment declined").await;
                }
                let finished = self
                    .shared
                    .store
                    .finish(cur, &self.shared.me)
                    .await
                    .map_err(|e| e.on(&self.shared.me))?;
                match finished {
                    Finish::Done(done) => Ok(self.moved(*done)),
                    Finish::Moved => Ok(self.stopped(cur)),
                    Finish::Unsold(holds) => {
                        match unsold(&cur.order, &holds.into_iter().collect()) {
                            Some(reason) => self.fail(cur, &reason).await,
                            // Sold meanwhile (another job's sale): done is the next write.
                            None => self.advance(cur, Stage::Done, None).await,
                        }
                    }
                }
            }
            Stage::Done | Stage::Failed => Ok(Step::Stop),
        }
    }

    /// Moves the order to `to`, if it is still at the version this job knows.
    async fn advance(
        &self,
        cur: &StoredOrder,
        to: Stage,
        reason: Option<&str>,
    ) -> Result<Step, ShardError> {
        let next = self
            .shared
            .store
            .advance(cur, to, &self.shared.me, reason)
            .await
            .map_err(|e| e.on(&self.shared.me))?;
        Ok(match next {
            Some(n) => self.moved(n),
            None => self.stopped(cur),
        })
    }

    fn moved(&self, n: StoredOrder) -> Step {
        tracing::info!(node = %self.shared.me, order = %n.order.id, stage = %n.order.stage, "order moved on");
        self.publish(&n.order);
        Step::Moved(Box::new(n))
    }

    fn stopped(&self, cur: &StoredOrder) -> Step {
        tracing::info!(node = %self.shared.me, order = %cur.order.id, "order taken over elsewhere; stopping here");
        Step::Stop
    }

    /// Fails the order; the store gives back its holds in the same statement. Product actors
    /// may quote less stock than is left until their TTL ends, never more.
    async fn fail(&self, cur: &StoredOrder, reason: &str) -> Result<Step, ShardError> {
        self.advance(cur, Stage::Failed, Some(reason)).await
    }

    /// Holds every line not held yet, on each product's owner. `fresh`: the order has no holds
    /// yet (this job has just started reserving it), so they are not read first.
    async fn reserve_all(&self, order: &Order, fresh: bool) -> Result<(), Short> {
        let holds: Map<_, _> = if fresh {
            Map::default()
        } else {
            self.shared
                .store
                .holds(order.id)
                .await
                .map_err(|e| Short::Retry(e.on(&self.shared.me)))?
                .into_iter()
                .collect()
        };
        for line in &order.lines {
            match holds.get(&line.product) {
                Some(HoldState::Held | HoldState::Sold) => continue,
                Some(HoldState::Released) => return Err(Short::Fail(released(&line.product))),
                None => {}
            }
            let (id, qty) = (order.id, line.qty);
            let held = self
                .on_owner(
                    id,
                    &line.product,
                    |client, ctx, epoch, product| async move {
                        client.reserve(ctx, id, product, qty, epoch).await
                    },
                    |products: Products, product| async move {
                        products.hold(id, &product, qty).await
                    },
                )
                .await;
            // One answer, whether the product's owner is this node or another.
            let reason = match held {
                Ok(
                    Reservation::Held { .. }
                    | Reservation::AlreadyHeld { .. }
                    | Reservation::Sold { .. },
                ) => continue,
                Err(ShardError::HoldReleased { .. }) => released(&line.product),
                Err(ShardError::NoOpenOrder { .. }) => {
                    format!("{}: the order is no longer open", line.product)
                }
                // The routing loop gave up on the owner after `REACH_FOR`: no path to it, not
                // even through another member, while the cluster counts it alive. The order
                // fails (its holds go back with it) instead of waiting on without end.
                Err(ShardError::PeerUnreachable { node, reason, .. }) if node == self.shared.me => {
                    gave_up(&line.product, &reason)
                }
                Err(e) if retryable(&e) => return Err(Short::Retry(e)),
                Err(ShardError::OutOfStock {
                    product,
                    wanted,
                    left,
                }) => {
                    format!("{product}: {wanted} wanted but only {left} left")
                }
                Err(ShardError::UnknownProduct { id }) => format!("unknown product {id}"),
                Err(e) => format!("{}: {e}", line.product),
            };
            return Err(Short::Fail(reason));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
