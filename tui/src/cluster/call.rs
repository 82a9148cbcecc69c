//! The one place a call is placed on an id's owner: `Cluster::call_owner`. It follows
//! `Moved`, waits out `Unavailable` (an id being handed over), reconnects a broken connection
//! once, and when an owner cannot be reached asks the id's next owner to probe it, waiting
//! (within the patience) for the cluster to agree it is dead rather than failing the call.

use std::future::Future;
use std::time::{Duration, Instant};

use ringshop_shared::transport;
use ringshop_shared::{NodeId, Placed, ShardClient, ShardError};
use tarpc::client::RpcError;
use tarpc::context::Context;

use super::{Answer, Cluster, ClusterError, Report, follow};

/// Redirects one call follows before giving up (each refreshes the membership first).
const MAX_REDIRECTS: usize = 8;
/// How long a witness may take to probe a suspect for this client.
const SUSPECT_DEADLINE: Duration = Duration::from_secs(2);
/// What came of telling the cluster a member cannot be reached.
enum Suspicion {
    /// It is out of the ring now.
    Out,
    /// The cluster still counts it alive.
    Alive,
    /// No other member could be asked.
    NoWitness,
}

/// How a failed call is handled.
enum Failure {
    /// The connection broke: reconnect once, then retry on the same owner.
    Broken,
    /// The owner cannot serve: tell the next owner, refresh, go on.
    Down(String),
}

impl Cluster {
    /// Calls `f` (given a client, a context and this client's epoch) on `id`'s owner,
    /// following `Moved` and failing over as the module doc says. `f` must be safe to repeat.
    pub async fn call_owner<K, T, F, Fut>(&self, id: &K, f: F) -> Result<Answer<T>, ClusterError>
    where
        K: Placed + ?Sized,
        F: Fn(ShardClient, Context, u64) -> Fut,
        Fut: Future<Output = Result<Result<T, ShardError>, RpcError>>,
    {
        self.call_owner_within(id, self.inner.config.deadline, f)
            .await
    }

    /// `call_owner` with its own deadline per attempt (long-polls).
    pub async fn call_owner_within<K, T, F, Fut>(
        &self,
        id: &K,
        deadline: Duration,
        f: F,
    ) -> Result<Answer<T>, ClusterError>
    where
        K: Placed + ?Sized,
        F: Fn(ShardClient, Context, u64) -> Fut,
        Fut: Future<Output = Result<Result<T, ShardError>, RpcError>>,
    {
        let started = Instant::now();
        let patience = self.inner.config.patience;
        let mut failover_from: Vec<NodeId> = Vec::new();
        let mut reconnected: Vec<NodeId> = Vec::new();
        let mut redirects = 0;
        let mut attempts = usize::MAX;
        let mut attempt = 0;
        while attempt < attempts {
            attempt += 1;
            let target = {
                // One read of the state per attempt: it also bounds the attempts.
                let state = self.inner.read();
                attempts = attempts.min(state.members.len() * 3 + MAX_REDIRECTS + 2);
                state.ring.owner(id).and_then(|name| {
                    let m = state.members.get(name)?;
                    Some((
                        name.clone(),
                        m.addr,
                        m.client.clone(),
                        m.generation,
                        state.epoch,
                    ))
                })
            };
            let Some((name, addr, client, generation, epoch)) = target else {
                return Err(ClusterError::NoLiveMembers {
                    tried: failover_from.len(),
                });
            };
            let Some(client) = client else {
                // Down from here: ask the next owner to probe it. It is out of the ring only
                // once the cluster agrees (missed probes and votes, or its lease ran out).
                if !failover_from.contains(&name) {
                    failover_from.push(name.clone());
                }
                match self.suspect(id, &name).await {
                    Suspicion::Out => continue,
                    Suspicion::Alive if started.elapsed() < patience => {
                        // Slow or paused, not dead: wait for it to answer again (the probe
                        // loop reconnects) or for the cluster to declare it dead.
                        attempt -= 1;
                        tokio::time::sleep(self.inner.config.probe_every).await;
                        let _ = self.refresh().await;
                        continue;
                    }
                    Suspicion::Alive => return Err(ClusterError::Partitioned { name, addr }),
                    Suspicion::NoWitness => {
                        return Err(ClusterError::NoLiveMembers {
                            tried: failover_from.len(),
                        });
                    }
                }
            };
            let failure = match f(client, transport::context(deadline), epoch).await {
                Ok(Ok(value)) => {
                    return Ok(Answer {
                        value,
                        report: Report {
                            node: name,
                            addr,
                            latency: started.elapsed(),
                            failover_from,
                            redirects,
                        },
                    });
                }
                Ok(Err(ShardError::Moved { .. })) if redirects < MAX_REDIRECTS => {
                    redirects += 1;
                    self.refresh().await?;
                    continue;
                }
                Ok(Err(ShardError::ShuttingDown { .. })) => {
                    // It is leaving: its status changes in the store; follow that.
                    self.refresh().await?;
                    if self.inner.read().ring.contains(&name) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    continue;
                }
                Ok(Err(error @ ShardError::Unavailable { .. })) => {
                    // Nothing was computed: the id is being handed over, or the node's lease
                    // is being renewed. Ask again shortly, within the patience.
                    if started.elapsed() >= patience {
                        return Err(ClusterError::Shard { node: name, error });
                    }
                    attempt -= 1;
                    tokio::time::sleep(Duration::from_millis(10 + fastrand::u64(0..20))).await;
                    if self.inner.read().epoch == epoch {
                        let _ = self.refresh().await;
                    }
                    continue;
                }
                Ok(Err(error)) => return Err(ClusterError::Shard { node: name, error }),
                Err(RpcError::DeadlineExceeded) => {
                    Failure::Down("no answer before the deadline".into())
                }
                Err(RpcError::Server(e)) => Failure::Down(format!("server error: {e}")),
                Err(_) => Failure::Broken,
            };
            let why = match failure {
                Failure::Broken if !reconnected.contains(&name) => {
                    reconnected.push(name.clone());
                    match follow::reconnect(&self.inner, &name, generation).await {
                        Ok(()) => continue,
                        Err(why) => why,
                    }
                }
                Failure::Broken => "connection lost".to_string(),
                Failure::Down(why) => why,
            };
            follow::mark_down(&self.inner, &name, generation, &why);
        }
        Err(ClusterError::NoLiveMembers {
            tried: failover_from.len(),
        })
    }

    /// Tells `victim`'s successor for `id` that it cannot be reached, then refreshes.
    async fn suspect<K: Placed + ?Sized>(&self, id: &K, victim: &NodeId) -> Suspicion {
        let witnesses: Vec<(NodeId, ShardClient)> = {
            let state = self.inner.read();
            state
                .ring
                .successors(id)
                .into_iter()
                .filter(|n| *n != victim)
                .filter_map(|n| Some((n.clone(), state.members.get(n)?.client.clone()?)))
                .collect()
        };
        // The witness probes directly and indirectly: give it that long, whatever this
        // client's own deadline is.
        let deadline = self.inner.config.deadline.max(SUSPECT_DEADLINE);
        for (witness, client) in witnesses {
            match client
                .suspect(transport::context(deadline), victim.clone())
                .await
            {
                Ok(Ok(_)) => {
                    let _ = self.refresh().await;
                    return match self.inner.read().ring.contains(victim) {
                        true => Suspicion::Alive,
                        false => Suspicion::Out,
                    };
                }
                Ok(Err(e)) => tracing::warn!(%witness, %victim, error = %e, "suspect refused"),
                Err(e) => tracing::warn!(%witness, %victim, error = %e, "suspect got no answer"),
            }
        }
        Suspicion::NoWitness
    }
}
