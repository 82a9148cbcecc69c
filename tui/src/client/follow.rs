//! Keeping the client's state in step: connecting (`hello`), applying membership listings,
//! following them by long-poll, reconnecting broken connections once for all callers, and
//! noting members this client cannot reach (`probe` dials them again). A connection that
//! has ended (its node died or restarted) counts as down wherever that is seen: a down member
//! is never `up`, and is dialled again. Background loops hold only a `Weak` to the cluster
//! while they wait, so they end soon after the last `Cluster` is dropped.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use ringshop_shared::clock;

use ringshop_shared::service::{ShardRequest, ShardResponse};
use ringshop_shared::transport::{Dialer, Security};
use ringshop_shared::{Hop, Membership, NodeId, Ring, ShardClient, ShardError, transport};
use tarpc::client::{self, RpcError};
use tokio_util::sync::CancellationToken;

use super::state::{Connected, Inner};
use super::types::{ClusterConfig, ClusterError};

/// Ids every new connection is asked to place, to prove it places ids as this client does.
const PLACEMENT_PROBE_IDS: u64 = 256;

/// How this client dials a node: the connect timeout (TCP and TLS handshake together), the
/// deadline of the first call, and plaintext or its client certificate.
#[derive(Clone, Debug)]
pub(crate) struct Dial {
    pub connect_timeout: Duration,
    pub deadline: Duration,
    pub security: Security,
    pub dialer: Dialer,
}

impl Dial {
    pub(crate) fn of(config: &ClusterConfig) -> Dial {
        Dial {
            connect_timeout: config.connect_timeout,
            deadline: config.deadline,
            security: config.security.clone(),
            dialer: config.dialer.clone(),
        }
    }
}

/// Connects and pings: a working client and who answered. The connection's `closed` token is
/// cancelled when it ends, so a dead connection is known without a call on it.
pub(crate) async fn hello(addr: SocketAddr, dial: &Dial) -> Result<Connected, String> {
    let deadline = dial.deadline;
    let transport = transport::connect_with::<ShardRequest, ShardResponse>(
        &dial.dialer,
        addr,
        dial.connect_timeout,
        &dial.security,
    )
    .await
    .map_err(|e| e.to_string())?;
    let client::NewClient {
        client: channel,
        dispatch,
    } = client::new(client::Config::default(), transport);
    let client = Hop::direct(channel.clone());
    let closed = CancellationToken::new();
    let on_end = closed.clone();
    tokio::spawn(async move {
        if let Err(e) = dispatch.await {
            tracing::debug!(%addr, error = %e, "connection broken");
        }
        on_end.cancel();
    });
    let info = client
        .ping(transport::context(deadline))
        .await
        .map_err(|e| format!("{addr} did not answer ping: {e}"))?;
    Ok(Connected {
        channel,
        info,
        addr,
        closed,
    })
}

/// The connection itself is gone (closed, reset, refused), as opposed to a call that was only
/// slow or refused by the server: the member is down from here until it is dialled again.
pub(crate) fn connection_lost(e: &RpcError) -> bool {
    matches!(
        e,
        RpcError::Shutdown | RpcError::Send(_) | RpcError::Channel(_)
    )
}

/// Connects to the active members of `m` this client has no connection to, checks that every
/// new connection places ids as this client does, and applies the listing.
pub(crate) async fn apply(
    inner: &Arc<Inner>,
    m: Membership,
    mut known: BTreeMap<NodeId, Connected>,
) -> Result<(), ClusterError> {
    let config = &inner.config;
    let dial = Dial::of(config);
    let needed: Vec<(NodeId, SocketAddr)> = inner
        .read()
        .unconnected(&m)
        .into_iter()
        .filter(|(n, a)| known.get(n).is_none_or(|c| c.addr != *a))
        .collect();
    let made = futures::future::join_all(needed.iter().map(|(_, addr)| hello(*addr, &dial))).await;
    for ((name, addr), made) in needed.into_iter().zip(made) {
        match made {
            Ok(c) if c.info.name == name => {
                known.insert(name, c);
            }
            Ok(c) => {
                tracing::warn!(%name, %addr, answered = %c.info.name, "another node answers there")
            }
            Err(why) => tracing::debug!(%name, %addr, %why, "member not reachable yet"),
        }
    }
    let ring = Ring::with_members(config.vnodes, m.active().map(|a| a.name.clone()));
    let mut mismatch = None;
    let checks = known
        .iter()
        .filter(|(name, _)| ring.contains(name))
        .map(|(name, c)| {
            let ring = &ring;
            async move {
                (
                    name.clone(),
                    c.addr,
                    places_like(&c.client(), ring, config.deadline).await,
                )
            }
        });
    for (name, addr, verdict) in futures::future::join_all(checks).await {
        match verdict {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => {
                tracing::error!(%name, %addr, "node places ids differently (another release?); not using it");
                known.remove(&name);
                mismatch.get_or_insert(ClusterError::PlacementMismatch { node: name, addr });
            }
            Ok(Err(error)) => {
                known.remove(&name);
                mismatch.get_or_insert(ClusterError::Shard { node: name, error });
            }
            Err(e) => {
                tracing::warn!(%name, error = %e, "placement check got no answer");
                known.remove(&name);
            }
        }
    }
    inner.write().apply(&m, known);
    match mismatch {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Whether `client`'s node places a fixed set of ids among `ring`'s members as `ring` does.
async fn places_like(
    client: &ShardClient,
    ring: &Ring,
    deadline: Duration,
) -> Result<Result<bool, ShardError>, RpcError> {
    let names: Vec<NodeId> = ring.members().cloned().collect();
    let ids: Vec<u64> = (0..PLACEMENT_PROBE_IDS).collect();
    let local: Vec<NodeId> = ids
        .iter()
        .filter_map(|id| ring.owner(id).cloned())
        .collect();
    let theirs = client
        .placement(transport::context(deadline), names, ring.vnodes(), ids)
        .await?;
    Ok(theirs.map(|theirs| theirs == local))
}

/// Clients of the members this client can reach now, with their connections' generations.
pub(crate) fn reachable(inner: &Inner) -> Vec<(NodeId, ShardClient, u64)> {
    connected(inner, true)
}

/// The members this client has an open connection to (only the active ones if
/// `active_only`), with their connections' generations.
fn connected(inner: &Inner, active_only: bool) -> Vec<(NodeId, ShardClient, u64)> {
    let state = inner.read();
    state
        .members
        .iter()
        .filter(|(_, m)| !active_only || m.status.in_ring())
        .filter_map(|(n, m)| Some((n.clone(), m.live()?.clone(), m.generation)))
        .collect()
}

/// How long a refresh waits for one member before asking the next one as well.
const HEDGE_AFTER: Duration = Duration::from_millis(100);

/// Re-reads the membership from a reachable member, applies it, and returns it. Members are
/// asked one after another, each `HEDGE_AFTER` after the last, and the first answer wins: one
/// paused member (its connection still open) cannot hold a refresh up for a whole deadline.
///
/// When no member it is connected to answers, it looks for the cluster at every address it
/// has known, once (as the probe loop does at its next round): a client whose view is old (a
/// main that does not follow the membership) finds members that came back meanwhile, within
/// the call that needs them. A burst of such refreshes searches once; after a search that
/// found nobody, they fail at once for `probe_every`.
pub(crate) async fn refresh(inner: &Arc<Inner>) -> Result<Membership, ClusterError> {
    let tried = match listing_from_connected(inner).await? {
        Ok(m) => return Ok(m),
        Err(tried) => tried,
    };
    let mut last_miss = inner.finding.lock().await;
    // Another refresh may have found the cluster while this one waited for its turn.
    if inner.read().any_up()
        && let Ok(m) = listing_from_connected(inner).await?
    {
        return Ok(m);
    }
    if last_miss.is_some_and(|at| at.elapsed() < inner.config.probe_every) {
        return Err(inner.no_live_members(tried));
    }
    let everywhere = inner.read().every_addr();
    match listing_at(&everywhere, &Dial::of(&inner.config)).await {
        Some((m, known)) => {
            *last_miss = None;
            adopt(inner, m.clone(), known).await;
            Ok(m)
        }
        None => {
            *last_miss = Some(clock::now());
            Err(inner.no_live_members(tried))
        }
    }
}

/// The membership as the first member this client is connected to lists it, applied; how
/// many were asked if none did (the error: a listing this client cannot use).
async fn listing_from_connected(
    inner: &Arc<Inner>,
) -> Result<Result<Membership, usize>, ClusterError> {
    let mut members = reachable(inner);
    if members.is_empty() {
        // No active member is reachable, but a member the last listing counted dead or
        // joining may still answer on its open connection (every member was declared dead
        // and is joining again): its listing says who is active now.
        members = connected(inner, false);
    }
    let tried = members.len();
    let deadline = inner.config.deadline;
    let asks = members
        .into_iter()
        .enumerate()
        .map(|(i, (name, client, generation))| {
            Box::pin(async move {
                tokio::time::sleep(HEDGE_AFTER * i as u32).await;
                match client.members(transport::context(deadline)).await {
                    Ok(Ok(m)) => Ok(m),
                    Ok(Err(e)) => {
                        tracing::warn!(%name, error = %e, "could not list members");
                        Err(())
                    }
                    Err(e) => {
                        tracing::warn!(%name, error = %e, "could not list members");
                        if connection_lost(&e) {
                            mark_down(inner, &name, generation, &e.to_string());
                        }
                        Err(())
                    }
                }
            })
        });
    let asks: Vec<_> = asks.collect();
    if asks.is_empty() {
        return Ok(Err(tried));
    }
    match futures::future::select_ok(asks).await {
        Ok((m, _)) => {
            apply(inner, m.clone(), BTreeMap::new()).await?;
            Ok(Ok(m))
        }
        Err(()) => Ok(Err(tried)),
    }
}

/// Dials `addrs` at once: the membership as the first node that answers lists it, with the
/// connections made; None if nobody listed it.
pub(crate) async fn listing_at(
    addrs: &[SocketAddr],
    dial: &Dial,
) -> Option<(Membership, BTreeMap<NodeId, Connected>)> {
    let deadline = dial.deadline;
    let dials = addrs.iter().map(|addr| hello(*addr, dial));
    let mut known: BTreeMap<NodeId, Connected> = BTreeMap::new();
    for c in futures::future::join_all(dials).await.into_iter().flatten() {
        known.entry(c.info.name.clone()).or_insert(c);
    }
    for c in known.values() {
        match c.client().members(transport::context(deadline)).await {
            Ok(Ok(m)) => {
                tracing::info!(node = %c.info.name, addr = %c.addr, epoch = m.epoch, "found the cluster again");
                return Some((m, known));
            }
            Ok(Err(e)) => {
                tracing::debug!(node = %c.info.name, error = %e, "could not list members")
            }
            Err(e) => tracing::debug!(node = %c.info.name, error = %e, "could not list members"),
        }
    }
    None
}

/// Takes a listing found with nothing else reachable as the truth, even from a lower epoch.
pub(crate) async fn adopt(inner: &Arc<Inner>, m: Membership, known: BTreeMap<NodeId, Connected>) {
    {
        let mut state = inner.write();
        if m.epoch < state.epoch {
            // Its store counts from a lower epoch: the cluster was started afresh. Nothing
            // else can be reached, so this listing is the truth now.
            tracing::warn!(
                was = state.epoch,
                now = m.epoch,
                "membership epoch went back"
            );
            state.epoch = m.epoch;
        }
    }
    if let Err(e) = apply(inner, m, known).await {
        tracing::warn!(error = %e, "a node answered with a cluster we cannot use");
    }
}

/// Replaces a broken connection, once for all the calls that saw it break.
pub(crate) async fn reconnect(inner: &Inner, name: &NodeId, generation: u64) -> Result<(), String> {
    let (lock, addr) = {
        let state = inner.read();
        let m = state.members.get(name).ok_or("not a member")?;
        (m.reconnecting.clone(), m.addr)
    };
    let _one_at_a_time = lock.lock().await;
    if inner.read().members.get(name).map(|m| m.generation) != Some(generation) {
        return Ok(()); // another call reconnected (or marked it down) meanwhile
    }
    let config = &inner.config;
    let c = hello(addr, &Dial::of(config)).await?;
    if &c.info.name != name {
        return Err(format!("{addr} now answers as {}", c.info.name));
    }
    attach(inner, name, c);
    tracing::info!(node = %name, %addr, "reconnected");
    Ok(())
}

pub(crate) fn attach(inner: &Inner, name: &NodeId, c: Connected) {
    let mut state = inner.write();
    if let Some(m) = state.members.get_mut(name).filter(|m| m.addr == c.addr) {
        m.attach(c);
    }
}

/// This client cannot reach `name` (on the connection of `generation`).
pub(crate) fn mark_down(inner: &Inner, name: &NodeId, generation: u64, why: &str) {
    let mut state = inner.write();
    let Some(m) = state.members.get_mut(name) else {
        return;
    };
    if m.generation != generation || m.client.is_none() {
        return;
    }
    m.client = None;
    m.generation += 1;
    m.down_since = Some(clock::now());
    tracing::warn!(node = %name, %why, "cannot reach member");
}

/// Follows the membership by long-polling `watch_members` on a reachable member.
pub(crate) async fn follow_loop(inner: Weak<Inner>) {
    let mut turn = 0usize;
    loop {
        let (target, epoch, watch_for, pause) = {
            let Some(inner) = inner.upgrade() else { return };
            let members = reachable(&inner);
            let target = (!members.is_empty()).then(|| members[turn % members.len()].clone());
            let c = &inner.config;
            (target, inner.read().epoch, c.watch_for, c.probe_every)
        };
        let Some((name, client, generation)) = target else {
            tokio::time::sleep(pause).await;
            continue;
        };
        match client
            .watch_members(transport::context(watch_for), epoch)
            .await
        {
            Ok(Ok(m)) if m.epoch > epoch => {
                let Some(inner) = inner.upgrade() else { return };
                if let Err(e) = apply(&inner, m, BTreeMap::new()).await {
                    tracing::warn!(error = %e, "applying a membership change");
                }
            }
            // Its view is older than ours: ask another member next time.
            Ok(Ok(m)) if m.epoch < epoch => {
                turn += 1;
                tokio::time::sleep(pause).await;
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::debug!(%name, error = %e, "watch refused");
                turn += 1;
                tokio::time::sleep(pause).await;
            }
            Err(e) => {
                tracing::debug!(%name, error = %e, "watch failed");
                if connection_lost(&e) {
                    let Some(inner) = inner.upgrade() else { return };
                    mark_down(&inner, &name, generation, &e.to_string());
                }
                turn += 1;
                tokio::time::sleep(pause).await;
            }
        }
    }
}
