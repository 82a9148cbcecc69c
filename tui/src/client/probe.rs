//! Finding members again: every `probe_every` (backing off while nothing answers) the probe
//! loop counts ended connections as down (and reads the listing at once when one ended),
//! dials the members this client cannot reach and the seeds that never answered; once no
//! member can be reached at all, it dials every address it has known (members now and
//! before, seeds) and learns the membership again from whoever answers, so the client
//! recovers from any cluster state by itself. It holds only a `Weak` to the cluster while it
//! waits and never holds the state lock across an await.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Weak;
use std::time::Duration;

use ringshop_shared::{NodeId, transport};

use super::follow::{Dial, adopt, apply, attach, hello, listing_at, refresh};
use super::state::Inner;

/// How long the probe loop may pause at most while nothing answers.
const MAX_PROBE_PAUSE: Duration = Duration::from_secs(2);

/// The probe loop's pause: `base` while every probe answers, doubling (up to `cap`) after each
/// round in which nothing that was tried answered, back to `base` once something does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Backoff {
    base: Duration,
    cap: Duration,
    now: Duration,
}

impl Backoff {
    pub fn new(base: Duration) -> Backoff {
        Backoff {
            base,
            cap: MAX_PROBE_PAUSE.max(base),
            now: base,
        }
    }

    pub fn pause(&self) -> Duration {
        self.now
    }

    /// After a round: whether anything was tried, and whether anything tried answered.
    pub fn after(&mut self, tried: bool, answered: bool) {
        self.now = match tried && !answered {
            true => self.now.saturating_mul(2).min(self.cap),
            false => self.base,
        };
    }
}

/// What one probe round tries, read under the lock.
struct Round {
    /// Active members this client cannot reach (name, address).
    down: Vec<(NodeId, SocketAddr)>,
    /// Seeds that never answered.
    seeds: Vec<SocketAddr>,
    /// No member can be reached: every address ever known, to find the cluster again.
    everywhere: Vec<SocketAddr>,
}

/// Tries, every `probe_every` (backing off while nothing answers): members this client cannot
/// reach, and seeds that never answered; once no member can be reached, every address it has
/// known, learning the membership from whoever answers there.
pub(crate) async fn probe_loop(inner: Weak<Inner>) {
    let mut backoff = match inner.upgrade() {
        Some(inner) => Backoff::new(inner.config.probe_every),
        None => return,
    };
    loop {
        let (round, dial, ended) = {
            let Some(inner) = inner.upgrade() else { return };
            let c = &inner.config;
            let mut state = inner.write();
            let ended = state.drop_closed();
            for name in &ended {
                tracing::warn!(node = %name, "connection ended; member down from here");
            }
            let round = Round {
                down: state
                    .members
                    .iter()
                    .filter(|(_, m)| m.status.in_ring() && m.client.is_none())
                    .map(|(n, m)| (n.clone(), m.addr))
                    .collect(),
                seeds: state.unknown.clone(),
                everywhere: match state.any_up() {
                    true => Vec::new(),
                    false => state.every_addr(),
                },
            };
            (round, Dial::of(c), !ended.is_empty())
        };
        if ended {
            // A member that closed its connection is most often leaving, and the cluster
            // around it changing: read the listing now, while members that know the newcomers
            // are still there to ask (a client that learned only from its own calls could be
            // left knowing none of the members once the ones it knew had all gone; seed 13478).
            let Some(strong) = inner.upgrade() else {
                return;
            };
            let _ = refresh(&strong).await;
        }
        tokio::time::sleep(backoff.pause()).await;
        let tried =
            !(round.down.is_empty() && round.seeds.is_empty() && round.everywhere.is_empty());
        let answered = match round.everywhere.is_empty() {
            true => probe(&inner, round, &dial).await,
            false => rediscover(&inner, round.everywhere, &dial).await,
        };
        let Some(answered) = answered else { return };
        backoff.after(tried, answered);
    }
}

/// Dials the down members and the unknown seeds: whether any answered, or None once the
/// cluster is dropped.
async fn probe(inner: &Weak<Inner>, round: Round, dial: &Dial) -> Option<bool> {
    let deadline = dial.deadline;
    let mut answered = false;
    let dials = round.down.iter().map(|(_, addr)| hello(*addr, dial));
    let mut back = false;
    for ((name, addr), made) in round
        .down
        .iter()
        .zip(futures::future::join_all(dials).await)
    {
        let Ok(c) = made else { continue };
        answered = true;
        if &c.info.name == name {
            let strong = inner.upgrade()?;
            attach(&strong, name, c);
            tracing::info!(node = %name, %addr, "member reachable again");
            back = true;
        }
    }
    if back {
        // It may have come back under a new incarnation, and the cluster may have changed
        // while it was away: read the listing now rather than at the next change.
        let _ = refresh(&inner.upgrade()?).await;
    }
    for addr in round.seeds {
        let Ok(c) = hello(addr, dial).await else {
            continue;
        };
        answered = true;
        let inner = inner.upgrade()?;
        if let Ok(Ok(m)) = c.client().members(transport::context(deadline)).await {
            let known = BTreeMap::from([(c.info.name.clone(), c)]);
            if let Err(e) = apply(&inner, m, known).await {
                tracing::warn!(error = %e, "a seed answered with a cluster we cannot use");
            }
        }
    }
    Some(answered)
}

/// No member can be reached: dials every address at once and learns the membership from the
/// first node that lists it (a node restarted on its old address under a new incarnation, or
/// a new member at a seed address). Whether one did, or None once the cluster is dropped.
async fn rediscover(inner: &Weak<Inner>, everywhere: Vec<SocketAddr>, dial: &Dial) -> Option<bool> {
    let Some((m, known)) = listing_at(&everywhere, dial).await else {
        return Some(false);
    };
    adopt(&inner.upgrade()?, m, known).await;
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_pause_doubles_while_nothing_answers_and_resets_on_an_answer() {
        let base = Duration::from_millis(100);
        let mut b = Backoff::new(base);
        let mut pauses = Vec::new();
        for _ in 0..7 {
            b.after(true, false);
            pauses.push(b.pause().as_millis());
        }
        assert_eq!(pauses, [200, 400, 800, 1600, 2000, 2000, 2000]);
        b.after(true, true);
        assert_eq!(b.pause(), base, "an answer resets it");
        b.after(true, false);
        b.after(false, false);
        assert_eq!(b.pause(), base, "a round with nothing to try resets it");
    }

    #[test]
    fn the_probe_pause_is_never_below_the_configured_one() {
        let mut b = Backoff::new(Duration::from_secs(5));
        b.after(true, false);
        assert_eq!(b.pause(), Duration::from_secs(5));
    }
}
