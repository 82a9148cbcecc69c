//! Bounded waits the tests share: poll a condition, or ask a node until it fences itself or
//! serves again. Every loop ends by itself at its limit.

use std::time::Duration;

/// Polls `check` every `every` until it holds or `limit` passes; how long it took, or None.
pub async fn within(
    limit: Duration,
    every: Duration,
    mut check: impl FnMut() -> bool,
) -> Option<Duration> {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if check() {
            return Some(started.elapsed());
        }
        tokio::time::sleep(every).await;
    }
    None
}

/// What one `request` call of a raw node client gives: the RPC's outcome around the node's.
pub type Asked =
    Result<Result<ringshop_shared::Cached, ringshop_shared::ShardError>, tarpc::client::RpcError>;

/// Asks `ask` every 50 ms, for at most `limit`, until the node refuses with `Unavailable {
/// Fenced }`; how long that took, or None. Meanwhile every answer must be `first` (nothing new
/// is computed) and the node must answer at all; any other refusal fails the test.
pub async fn until_fenced<F, Fut>(ask: F, first: u32, limit: Duration) -> Option<Duration>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Asked>,
{
    use ringshop_shared::{ShardError, Unavailable};
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        match ask().await.expect("an answer: the node itself is up") {
            Ok(answer) => assert_eq!(answer.value, first, "nothing new is computed meanwhile"),
            Err(ShardError::Unavailable {
                reason: Unavailable::Fenced,
                ..
            }) => return Some(started.elapsed()),
            Err(other) => panic!("unexpected refusal: {other}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// Asks `ask` every 50 ms, for at most `limit`, until the node serves the id; how long that
/// took, or None.
pub async fn until_served<F, Fut>(ask: F, limit: Duration) -> Option<Duration>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Asked>,
{
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if ask().await.expect("an answer").is_ok() {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}
