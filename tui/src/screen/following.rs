//! Following this session's order for the screen: each stage (and wait) the stream yields
//! becomes an action; a failed watch is shown (the screen counts repeats); and when every
//! watch has failed for `FOLLOW_PATIENCE`, following gives up, saying so, so the checkout is
//! not held by an order nobody can see. The order may still end: `r` reads it again.

use std::time::Duration;

use futures::{Stream, StreamExt};
use ringshop_shared::{Order, OrderId};
use tokio::time::Instant;

use super::action::Action;
use super::app::LogLine;
use crate::client::{Answer, ClusterError};

/// How long every watch of an order may fail in a row before following it gives up.
pub const FOLLOW_PATIENCE: Duration = Duration::from_secs(30);

/// Follows `order` through `stages`, sending what it sees, until the stream ends (the order
/// ended) or its watches failed for `patience` in a row (`Action::FollowGaveUp`).
pub async fn follow<S>(order: OrderId, mut stages: S, patience: Duration, send: impl Fn(Action))
where
    S: Stream<Item = Result<Answer<Order>, ClusterError>> + Unpin,
{
    let mut failing_since: Option<Instant> = None;
    while let Some(next) = stages.next().await {
        match next {
            Ok(next) => {
                failing_since = None;
                send(Action::Called(LogLine {
                    failover: next.report.failed_over(),
                    ..LogLine::call(
                        format!("order {}", next.value.stage),
                        Some(next.report.node.clone()),
                        next.report.latency,
                    )
                }));
                send(Action::Order(next.value));
            }
            Err(e) => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                let short: String = order.to_string().chars().take(8).collect();
                send(Action::failed(format!("following order {short}"), &e));
                let after = since.elapsed();
                if after >= patience {
                    send(Action::FollowGaveUp {
                        order,
                        error: e.to_string(),
                        after,
                    });
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Mutex;
    use std::time::SystemTime;

    use ringshop_shared::{NodeId, Stage};

    use crate::client::Report;

    use super::*;

    fn failure() -> Result<Answer<Order>, ClusterError> {
        Err(ClusterError::NoLiveMembers { tried: 3, known: 3 })
    }

    /// Each item of `items` one second after the last (on paused time).
    fn slowly(
        items: Vec<Result<Answer<Order>, ClusterError>>,
    ) -> impl Stream<Item = Result<Answer<Order>, ClusterError>> + Unpin {
        Box::pin(futures::stream::iter(items).then(|item| async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            item
        }))
    }

    fn answer(stage: Stage) -> Result<Answer<Order>, ClusterError> {
        let node = NodeId::new("n1").expect("a name");
        let value = Order {
            id: OrderId::random(),
            customer: "guest".into(),
            lines: Vec::new(),
            total_cents: 0,
            stage,
            reason: None,
            node: node.clone(),
            created_at: SystemTime::UNIX_EPOCH,
            updated_at: SystemTime::UNIX_EPOCH,
            elapsed: Duration::ZERO,
            waiting: None,
            trace_id: None,
        };
        let report = Report {
            node,
            addr: SocketAddr::from(([127, 0, 0, 1], 7001)),
            latency: Duration::from_millis(1),
            failover_from: Vec::new(),
            redirects: 0,
            via: None,
        };
        Ok(Answer { value, report })
    }

    fn gave_up(sent: &[Action]) -> bool {
        sent.iter()
            .any(|a| matches!(a, Action::FollowGaveUp { .. }))
    }

    #[tokio::test(start_paused = true)]
    async fn every_watch_failing_for_its_patience_gives_up_saying_so() {
        let sent = Mutex::new(Vec::new());
        let order = OrderId::random();
        let endless = Box::pin(
            futures::stream::repeat_with(failure).then(|item| async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                item
            }),
        );
        follow(order, endless, Duration::from_secs(30), |a| {
            sent.lock().expect("not poisoned").push(a)
        })
        .await;
        let sent = sent.into_inner().expect("not poisoned");
        match sent.last() {
            Some(Action::FollowGaveUp {
                order: o, after, ..
            }) => {
                assert_eq!(*o, order);
                assert!(*after >= Duration::from_secs(30));
            }
            other => panic!("gave up last, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_between_failures_starts_the_patience_again() {
        let sent = Mutex::new(Vec::new());
        let mut items: Vec<_> = (0..20).map(|_| failure()).collect();
        items.push(answer(Stage::Paying));
        items.extend((0..20).map(|_| failure()));
        items.push(answer(Stage::Done));
        follow(
            OrderId::random(),
            slowly(items),
            Duration::from_secs(30),
            |a| sent.lock().expect("not poisoned").push(a),
        )
        .await;
        let sent = sent.into_inner().expect("not poisoned");
        assert!(!gave_up(&sent), "40 s of failures, but never 30 s in a row");
        assert!(matches!(sent.last(), Some(Action::Order(o)) if o.stage == Stage::Done));
    }
}
