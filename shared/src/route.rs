//! The one way a call is placed on an id's owner, for the main's `Cluster` and for a node's
//! calls to its peers alike: each brings its own view of the membership (a [`Directory`]), and
//! this loop does the rest. It follows `Moved` (refreshing the view), waits out `Unavailable`
//! (an id being handed over: nothing was computed) and `ShuttingDown` (the owner is leaving),
//! reconnects a broken connection once, and when an owner cannot be reached it asks the
//! cluster to probe it (`suspect`), waiting, within `patience`, for the cluster to agree it is
//! dead instead of failing the call: a slow owner is never given up on by one impatient
//! caller. Only calls that are safe to repeat go through it. Failures are typed (`Routing`).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tarpc::client::RpcError;
use tarpc::context::Context;

use crate::clock;
use crate::error::ShardError;
use crate::hop::ShardClient;
use crate::ids::NodeId;
use crate::ring::Placed;
use crate::transport;

/// Where a call for an id goes now, as one view of the membership says.
pub struct Target {
    pub name: NodeId,
    pub addr: SocketAddr,
    /// None when this caller cannot reach it now.
    pub client: Option<ShardClient>,
    /// Counts the caller's connections to it, so a failure on an old one cannot mark a new
    /// one down.
    pub generation: u64,
    /// The epoch of the view the target was read from; sent with the call.
    pub epoch: u64,
    /// Members in the view: bounds the attempts.
    pub members: usize,
}

/// What came of asking the cluster about a member this caller cannot reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suspicion {
    /// It is out of the ring now.
    Out,
    /// The cluster still counts it alive (slow, paused, or cut off from this caller only).
    Alive,
    /// No other member could be asked.
    NoWitness,
}

/// A caller's view of the membership and its connections.
pub trait Directory: Sync {
    /// The caller's error; routing failures become one.
    type Error: From<Routing>;

    /// The owner of `id` under the caller's view, if the view has any member.
    fn target(&self, id: &(dyn Placed + Sync)) -> impl Future<Output = Option<Target>> + Send;
    /// Re-reads the membership (a node answered `Moved`, `Unavailable` or `ShuttingDown`).
    fn refresh(&self) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// The connection of `generation` to `name` broke: replace it.
    fn reconnect(
        &self,
        name: &NodeId,
        generation: u64,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// `name` cannot be reached on the connection of `generation`: stop using it.
    fn mark_down(&self, name: &NodeId, generation: u64, why: &str);
    /// A client that reaches `name` through another member this caller can reach (which
    /// forwards each call: the `forward` RPC), for an owner the cluster counts alive although
    /// this caller cannot reach it; the relay's name and the client. None if no other member
    /// is reachable.
    fn relay(&self, name: &NodeId) -> impl Future<Output = Option<(NodeId, ShardClient)>> + Send;
    /// Whether `name` is the caller itself (a node placing a call on an id's owner). The loop
    /// never calls the caller over the network: it answers `Routing::Local`, and the caller
    /// runs the call in-process. A client is never a member: false.
    fn is_caller(&self, _name: &NodeId) -> bool {
        false
    }
    /// Asks another member to probe `name` (the owner of `id`) and says what the cluster
    /// thinks of it now.
    fn suspect(
        &self,
        id: &(dyn Placed + Sync),
        name: &NodeId,
    ) -> impl Future<Output = Suspicion> + Send;
}

/// How patient one call is.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Deadline of each attempt.
    pub deadline: Duration,
    /// How long the whole call may keep trying while the cluster changes under it.
    pub patience: Duration,
    /// How long to wait before trying an owner the cluster still counts alive.
    pub retry_alive_after: Duration,
    /// When a direct call has not answered after this long, send it through a relay as well
    /// and take the first answer (a link cut under an open connection shows no error until the
    /// deadline). None: never. Only for calls whose repeat is harmless even concurrently.
    pub hedge_after: Option<Duration>,
}

/// Why a call found no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Routing {
    #[error("no member is up ({tried} tried); start a node or check the addresses")]
    NoLiveMembers { tried: usize },
    #[error(
        "{name} is alive for the cluster but cannot be reached at {addr} from here; check the network between them"
    )]
    Partitioned { name: NodeId, addr: SocketAddr },
    #[error("node {node}: {error}")]
    Shard { node: NodeId, error: ShardError },
    /// The owner is the caller itself (`Directory::is_caller`): nothing was sent; the caller
    /// runs the call in-process.
    #[error("{name} owns the id and is the caller itself: the call runs in-process")]
    Local { name: NodeId },
}

/// An answer, with where it came from and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Routed<T> {
    pub value: T,
    pub node: NodeId,
    pub addr: SocketAddr,
    /// From the call's start to its answer, failovers and redirects included.
    pub latency: Duration,
    /// Members that could not be reached for this call, in the order they were tried.
    pub failover_from: Vec<NodeId>,
    /// The member that relayed the call to the owner, when this caller could not reach it.
    pub via: Option<NodeId>,
    /// `Moved` answers followed.
    pub redirects: usize,
}

/// Redirects one call follows before giving up (each refreshes the membership first).
const MAX_REDIRECTS: usize = 8;

/// How a failed attempt is handled.
enum Failure {
    /// The connection broke: reconnect once, then retry on the same owner.
    Broken,
    /// The owner did not answer: stop using the connection, ask the cluster, go on.
    Down(String),
}

/// Calls `f` (given a client, a context and the caller's epoch) on `id`'s owner, as the module
/// doc says. `f` must be safe to repeat.
pub async fn call_owner<D, K, T, F, Fut>(
    dir: &D,
    id: &K,
    policy: &Policy,
    f: F,
) -> Result<Routed<T>, D::Error>
where
    D: Directory,
    K: Placed + Sync,
    F: Fn(ShardClient, Context, u64) -> Fut,
    Fut: Future<Output = Result<Result<T, ShardError>, RpcError>>,
{
    let started = clock::now();
    let mut failover_from: Vec<NodeId> = Vec::new();
    let mut reconnected: Vec<NodeId> = Vec::new();
    let (mut redirects, mut attempt, mut attempts) = (0, 0, usize::MAX);
    let patient = || started.elapsed() < policy.patience;
    while attempt < attempts {
        attempt += 1;
        let Some(target) = dir.target(id).await else {
            // No member owns ids right now: the cluster is forming, or its members were all
            // declared dead and are joining again. A fresh view that can be read says someone
            // answers, so wait for an owner within the patience (a cluster nobody answers for
            // fails the refresh at once).
            if patient() {
                attempt -= 1;
                wait_for_alive(dir, policy).await?;
                continue;
            }
            return Err(Routing::NoLiveMembers {
                tried: failover_from.len(),
            }
            .into());
        };
        attempts = attempts.min(target.members * 3 + MAX_REDIRECTS + 2);
        if dir.is_caller(&target.name) {
            return Err(Routing::Local { name: target.name }.into());
        }
        let Target {
            name,
            addr,
            client,
            generation,
            epoch,
            ..
        } = target;
        let (client, via) = match client {
            Some(client) => (client, None),
            None => {
                // Down from here: ask the cluster. It is out of the ring only once the cluster
                // agrees (missed probes and votes, or its lease ran out).
                if !failover_from.contains(&name) {
                    failover_from.push(name.clone());
                }
                match dir.suspect(id, &name).await {
                    Suspicion::Out => continue,
                    // Alive for the cluster, cut off from here only: through another member.
                    Suspicion::Alive => match dir.relay(&name).await {
                        Some((relay, client)) => (client, Some(relay)),
                        None if patient() => {
                            attempt -= 1;
                            wait_for_alive(dir, policy).await?;
                            continue;
                        }
                        None => return Err(Routing::Partitioned { name, addr }.into()),
                    },
                    // Nobody could be asked: wait for the cluster within the patience, as for
                    // an id nobody owns (a fresh view says whether anyone answers at all).
                    Suspicion::NoWitness if patient() => {
                        attempt -= 1;
                        wait_for_alive(dir, policy).await?;
                        continue;
                    }
                    Suspicion::NoWitness => {
                        return Err(Routing::NoLiveMembers {
                            tried: failover_from.len(),
                        }
                        .into());
                    }
                }
            }
        };
        let (answer, via) = match (via, policy.hedge_after) {
            (None, Some(after)) => hedged(dir, &name, &f, client, epoch, policy, after).await,
            (via, _) => (
                f(client, transport::context(policy.deadline), epoch).await,
                via,
            ),
        };
        let relay_failed = match (&via, &answer) {
            (None, _) | (Some(_), Ok(Ok(_))) => false,
            // The relay could not reach the owner either, or the relay itself failed.
            (Some(_), Ok(Err(ShardError::PeerUnreachable { .. })) | Err(_)) => true,
            (Some(_), Ok(Err(_))) => false,
        };
        if relay_failed {
            if !patient() {
                return Err(Routing::Partitioned { name, addr }.into());
            }
            attempt -= 1;
            wait_for_alive(dir, policy).await?;
            continue;
        }
        let failure = match answer {
            Ok(Ok(value)) => {
                return Ok(Routed {
                    value,
                    node: name,
                    addr,
                    latency: started.elapsed(),
                    failover_from,
                    redirects,
                    via,
                });
            }
            Ok(Err(ShardError::Moved { .. })) if redirects < MAX_REDIRECTS => {
                redirects += 1;
                dir.refresh().await?;
                continue;
            }
            Ok(Err(error @ (ShardError::ShuttingDown { .. } | ShardError::Unavailable { .. }))) => {
                // Nothing was computed: the owner is leaving, or the id is being handed over,
                // or its lease is being renewed. Ask again shortly, within the patience.
                if !patient() {
                    return Err(Routing::Shard { node: name, error }.into());
                }
                attempt -= 1;
                tokio::time::sleep(Duration::from_millis(10 + fastrand::u64(0..20))).await;
                dir.refresh().await?;
                continue;
            }
            Ok(Err(ShardError::Store { .. })) if patient() => {
                // The owner's database failed, so nothing was done (or, if the failure came
                // after a commit, the call is idempotent: a retry finds it done). The owner
                // either gets its database back or loses its lease and the id moves: ask
                // again, within the patience, on a fresh view.
                attempt -= 1;
                tokio::time::sleep(Duration::from_millis(50 + fastrand::u64(0..100))).await;
                dir.refresh().await?;
                continue;
            }
            Ok(Err(ShardError::Busy { retry_after, .. })) if patient() => {
                // Nothing was done: the owner has all the work it takes. Ask it again.
                attempt -= 1;
                tokio::time::sleep(busy_pause(retry_after)).await;
                continue;
            }
            Ok(Err(error)) => return Err(Routing::Shard { node: name, error }.into()),
            Err(RpcError::DeadlineExceeded) => {
                Failure::Down("no answer before the deadline".into())
            }
            Err(RpcError::Server(e)) => Failure::Down(format!("server error: {e}")),
            Err(_) => Failure::Broken,
        };
        let why = match failure {
            Failure::Broken if !reconnected.contains(&name) => {
                reconnected.push(name.clone());
                match dir.reconnect(&name, generation).await {
                    Ok(()) => continue,
                    Err(why) => why,
                }
            }
            Failure::Broken => "connection lost".to_string(),
            Failure::Down(why) => why,
        };
        dir.mark_down(&name, generation, &why);
    }
    Err(Routing::NoLiveMembers {
        tried: failover_from.len(),
    }
    .into())
}

/// The pause before trying again an owner the cluster counts alive but nothing reaches from
/// here: `retry_alive_after`, then a fresh view (the cluster may have moved on meanwhile).
async fn wait_for_alive<D: Directory>(dir: &D, policy: &Policy) -> Result<(), D::Error> {
    tokio::time::sleep(policy.retry_alive_after).await;
    dir.refresh().await
}

/// A direct call that, if it has not answered after `after`, is also sent through a relay
/// (when there is one): the first good answer wins. The relay's failure (it cannot reach the
/// owner either) leaves the direct call to answer.
async fn hedged<D, T, F, Fut>(
    dir: &D,
    name: &NodeId,
    f: &F,
    client: ShardClient,
    epoch: u64,
    policy: &Policy,
    after: Duration,
) -> (Result<Result<T, ShardError>, RpcError>, Option<NodeId>)
where
    D: Directory,
    F: Fn(ShardClient, Context, u64) -> Fut,
    Fut: Future<Output = Result<Result<T, ShardError>, RpcError>>,
{
    let direct = f(client, transport::context(policy.deadline), epoch);
    tokio::pin!(direct);
    tokio::select! {
        answer = &mut direct => return (answer, None),
        _ = tokio::time::sleep(after) => {}
    }
    let Some((relay, through)) = dir.relay(name).await else {
        return (direct.await, None);
    };
    let relayed = f(through, transport::context(policy.deadline), epoch);
    tokio::pin!(relayed);
    tokio::select! {
        answer = &mut direct => (answer, None),
        answer = &mut relayed => match answer {
            Ok(Err(ShardError::PeerUnreachable { .. })) | Err(_) => (direct.await, None),
            answer => (answer, Some(relay)),
        },
    }
}

/// How long to wait after a `Busy` that asked for `retry_after`: that, plus up to as much
/// again at random (so refused callers do not come back together), at most 100 ms each.
pub fn busy_pause(retry_after: Duration) -> Duration {
    let wait = retry_after.min(Duration::from_millis(100));
    let spread = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX).max(1);
    wait + Duration::from_micros(fastrand::u64(0..spread))
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
