//! The client's side of the one "call the owner" path (`ringshop_shared::route`): `Cluster` is
//! a `Directory` over its own state (the membership it follows, its connections, its ring),
//! and `call_owner` hands a call to the shared loop, turning its answer into an `Answer` with
//! its `Report`.

use std::future::Future;
use std::time::Duration;

use ringshop_shared::route::{self, Directory, Policy, Routed, Routing, Suspicion, Target};
use ringshop_shared::transport;
use ringshop_shared::{Hop, NodeId, Placed, ShardClient, ShardError};
use tarpc::client::RpcError;
use tarpc::context::Context;

use super::cluster::Cluster;
use super::follow;
use super::types::{Answer, ClusterError, Report};

/// How long a witness may take to probe a suspect for this client.
const SUSPECT_DEADLINE: Duration = Duration::from_secs(2);
/// How long to wait for one witness before asking the next one as well.
const WITNESS_HEDGE: Duration = Duration::from_millis(300);
/// A call that has not answered after this long has the listing read meanwhile, and again
/// after each such time (`Cluster::call_owner`).
const STALLED_AFTER: Duration = Duration::from_millis(500);
/// How long the cluster's word that a member this client cannot reach is alive stands: calls
/// for its ids go through a relay at once meanwhile, without a witness and a refresh each.
const CUT_OFF_FOR: Duration = Duration::from_secs(1);

impl From<Routing> for ClusterError {
    fn from(r: Routing) -> Self {
        match r {
            Routing::NoLiveMembers { tried } => ClusterError::NoLiveMembers { tried, known: 0 },
            Routing::Partitioned { name, addr } => ClusterError::Partitioned { name, addr },
            Routing::Shard { node, error } => ClusterError::Shard { node, error },
            // Only a member calls itself; the client is none (its `is_caller` is false).
            Routing::Local { .. } => ClusterError::NoLiveMembers { tried: 0, known: 0 },
        }
    }
}

impl<T> From<Routed<T>> for Answer<T> {
    fn from(r: Routed<T>) -> Self {
        Answer {
            value: r.value,
            report: Report {
                node: r.node,
                addr: r.addr,
                latency: r.latency,
                failover_from: r.failover_from,
                redirects: r.redirects,
                via: r.via,
            },
        }
    }
}

impl Directory for Cluster {
    type Error = ClusterError;

    async fn target(&self, id: &(dyn Placed + Sync)) -> Option<Target> {
        // One read of the state per attempt.
        let state = self.inner.read();
        let name = state.ring.owner(id)?;
        let m = state.members.get(name)?;
        Some(Target {
            name: name.clone(),
            addr: m.addr,
            client: m.client.clone(),
            generation: m.generation,
            epoch: state.epoch,
            members: state.members.len(),
        })
    }

    async fn refresh(&self) -> Result<(), ClusterError> {
        follow::refresh(&self.inner).await.map(drop)
    }

    async fn reconnect(&self, name: &NodeId, generation: u64) -> Result<(), String> {
        follow::reconnect(&self.inner, name, generation).await
    }

    fn mark_down(&self, name: &NodeId, generation: u64, why: &str) {
        follow::mark_down(&self.inner, name, generation, why)
    }

    /// Another member this client reaches, relaying to `name`: the next one after `name` on
    /// the ring's order of names that is up, so relayed calls spread over the members.
    async fn relay(&self, name: &NodeId) -> Option<(NodeId, ShardClient)> {
        let state = self.inner.read();
        let up = |(n, m): (&NodeId, &super::state::Member)| {
            (n != name && m.up()).then(|| Some((n.clone(), m.live_channel()?.clone())))?
        };
        let after = state.members.range(name.clone()..).skip(1).filter_map(up);
        let before = state.members.range(..name.clone()).filter_map(up);
        let (relay, channel) = after.chain(before).next()?;
        Some((relay, Hop::via(channel, name.clone())))
    }

    /// Tells `victim`'s successor for `id` that it cannot be reached (it probes it), then
    /// refreshes and looks whether the victim is still in the ring. A verdict of alive stands
    /// for `CUT_OFF_FOR`.
    async fn suspect(&self, id: &(dyn Placed + Sync), victim: &NodeId) -> Suspicion {
        let known = self.inner.read().cut_off.get(victim).copied();
        if known.is_some_and(|at| at.elapsed() < CUT_OFF_FOR) {
            return Suspicion::Alive;
        }
        let verdict = self.ask_witnesses(id, victim).await;
        let mut state = self.inner.write();
        match verdict {
            Suspicion::Alive => state
                .cut_off
                .insert(victim.clone(), ringshop_shared::clock::now()),
            _ => state.cut_off.remove(victim),
        };
        verdict
    }
}

impl Cluster {
    async fn ask_witnesses(&self, id: &(dyn Placed + Sync), victim: &NodeId) -> Suspicion {
        let witnesses: Vec<(NodeId, ShardClient, u64)> = {
            let state = self.inner.read();
            state
                .ring
                .successors(id)
                .into_iter()
                .filter(|n| *n != victim)
                .filter_map(|n| {
                    let m = state.members.get(n)?;
                    Some((n.clone(), m.live()?.clone(), m.generation))
                })
                .collect()
        };
        // The witness probes directly and indirectly: give it that long, whatever this
        // client's own deadline is. Witnesses are asked one after another, each
        // `WITNESS_HEDGE` after the last, and the first answer wins, so one slow witness
        // cannot make the call wait out a deadline per witness.
        let deadline = self.inner.config.deadline.max(SUSPECT_DEADLINE);
        let asks: Vec<_> = witnesses
            .into_iter()
            .enumerate()
            .map(|(i, (witness, client, generation))| {
                let victim = victim.clone();
                Box::pin(async move {
                    tokio::time::sleep(WITNESS_HEDGE * i as u32).await;
                    match client
                        .suspect(transport::context(deadline), victim.clone())
                        .await
                    {
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(e)) => {
                            tracing::warn!(%witness, %victim, error = %e, "suspect refused");
                            Err(false)
                        }
                        Err(e) => {
                            tracing::warn!(%witness, %victim, error = %e, "suspect got no answer");
                            if follow::connection_lost(&e) {
                                follow::mark_down(
                                    &self.inner,
                                    &witness,
                                    generation,
                                    &e.to_string(),
                                );
                            }
                            // A witness that is only slow (busy probing) is still there.
                            Err(matches!(e, RpcError::DeadlineExceeded))
                        }
                    }
                })
            })
            .collect();
        if asks.is_empty() {
            // Nobody to ask from this client's view, which may be old (a main that does not
            // follow the membership learns only when a call fails): a fresh one may have the
            // victim out, or other members back.
            let _ = follow::refresh(&self.inner).await;
            return match self.inner.read().ring.contains(victim) {
                true => Suspicion::NoWitness,
                false => Suspicion::Out,
            };
        }
        match futures::future::select_ok(asks).await {
            // A witness answered, or the last one was only slow (busy probing: nothing says
            // the cluster is gone). Either way the cluster may have declared the victim dead
            // meanwhile (the witnesses' probes can outlast a detection that was under way):
            // the verdict is what a fresh view says.
            Ok(_) | Err(true) => {
                let _ = follow::refresh(&self.inner).await;
                match self.inner.read().ring.contains(victim) {
                    true => Suspicion::Alive,
                    false => Suspicion::Out,
                }
            }
            Err(false) => Suspicion::NoWitness,
        }
    }
}

impl Cluster {
    /// Calls `f` (given a client, a context and this client's epoch) on `id`'s owner,
    /// following `Moved` and failing over as `ringshop_shared::route` says. `f` must be safe
    /// to repeat.
    pub async fn call_owner<K, T, F, Fut>(&self, id: &K, f: F) -> Result<Answer<T>, ClusterError>
    where
        K: Placed + Sync,
        F: Fn(ShardClient, Context, u64) -> Fut,
        Fut: Future<Output = Result<Result<T, ShardError>, RpcError>>,
    {
        let call = self.call_owner_within(id, self.inner.config.deadline, f);
        tokio::pin!(call);
        // While no answer comes, the owner may have died without a word (no connection ends
        // until the deadline), and this client's view may be old (one that does not follow the
        // membership learns only when a call fails, by when the members it knows may all be
        // gone; seed 19839): every `STALLED_AFTER` without an answer, the listing is read
        // meanwhile, so the next attempt, if one is needed, goes where the cluster is now.
        loop {
            tokio::select! {
                answer = &mut call => return answer,
                _ = tokio::time::sleep(STALLED_AFTER) => {}
            }
            let read = self.read_when_stalled();
            tokio::pin!(read);
            tokio::select! {
                answer = &mut call => return answer,
                _ = &mut read => {}
            }
        }
    }

    /// The listing, read for a call that has not answered in `STALLED_AFTER`; at most once
    /// per `probe_every` for all such calls of this client.
    async fn read_when_stalled(&self) {
        let now = ringshop_shared::clock::now();
        {
            let mut last = self
                .inner
                .stalled_read
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if last
                .is_some_and(|at| now.saturating_duration_since(at) < self.inner.config.probe_every)
            {
                return;
            }
            *last = Some(now);
        }
        let _ = follow::refresh(&self.inner).await;
    }

    /// `call_owner` with its own deadline per attempt (long-polls).
    pub async fn call_owner_within<K, T, F, Fut>(
        &self,
        id: &K,
        deadline: Duration,
        f: F,
    ) -> Result<Answer<T>, ClusterError>
    where
        K: Placed + Sync,
        F: Fn(ShardClient, Context, u64) -> Fut,
        Fut: Future<Output = Result<Result<T, ShardError>, RpcError>>,
    {
        let config = &self.inner.config;
        let policy = Policy {
            deadline,
            patience: config.patience,
            retry_alive_after: config.probe_every,
            // A main's calls are many and cheap to wait for: no duplicates under load.
            hedge_after: None,
        };
        route::call_owner(self, id, &policy, f)
            .await
            .map(Answer::from)
            .map_err(|e| match e {
                ClusterError::NoLiveMembers { tried, .. } => self.inner.no_live_members(tried),
                e => e,
            })
    }
}
