//! One run's plan, drawn whole from its seed before anything runs: the cluster (how many
//! nodes, each one's timings), the network's latency, and the nemesis's schedule. Printing a
//! plan prints the schedule a failing seed ran, and the same seed always draws the same plan.

use std::fmt;
use std::time::Duration;

use ringshop_node::Timing;
use ringshop_shared::NodeId;
use ringshop_tui::ClusterConfig;

/// What a node starts with.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSetup {
    pub name: NodeId,
    /// Its own `--heartbeat`/`--suspicion`: most nodes share the cluster's, some differ (a
    /// config that differs between nodes, which the cluster's stored timing must overrule).
    pub timing: Timing,
    /// Its `--ttl`.
    pub ttl: Duration,
}

/// Where a store fault sends one node's store calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreFault {
    /// Every call fails as a lost connection does.
    Down,
    /// Every call answers this much later.
    Slow(Duration),
    /// Every write fails as on a full disk.
    Full,
    /// No call answers until the fault heals (a database that froze, or a connection to it
    /// that went silent): calls wait, then go on.
    Hang,
}

/// One thing the nemesis does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The node's process dies (its tasks dropped where they stood).
    Crash(NodeId),
    /// A stopped node starts again under its name, on the same store.
    Restart(NodeId),
    /// The node leaves gracefully (hands its entries over, then stops).
    Leave(NodeId),
    /// A new node starts and joins.
    Join(NodeId),
    /// Everything to and from the node is held, and its store calls wait: as a paused
    /// process looks from outside (its own timers still run; see the module's note).
    Pause(NodeId),
    /// The held messages are delivered and its store calls go on.
    Resume(NodeId),
    /// The node is cut from every other host (nodes and mains); its store stays.
    Isolate(NodeId),
    Rejoin(NodeId),
    /// The link between two nodes goes down both ways.
    Cut(NodeId, NodeId),
    Mend(NodeId, NodeId),
    /// The mains' host loses its link to one node (the node still reaches the others).
    CutMain(NodeId),
    MendMain(NodeId),
    /// One node's store calls fail or slow down.
    Store(NodeId, StoreFault),
    StoreHeal(NodeId),
    /// The link between two nodes gets this much latency (delay, and reorder against the
    /// other links).
    SlowLink(NodeId, NodeId, Duration),
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Crash(n) => write!(f, "crash {n}"),
            Action::Restart(n) => write!(f, "restart {n}"),
            Action::Leave(n) => write!(f, "leave {n}"),
            Action::Join(n) => write!(f, "join {n}"),
            Action::Pause(n) => write!(f, "pause {n}"),
            Action::Resume(n) => write!(f, "resume {n}"),
            Action::Isolate(n) => write!(f, "isolate {n}"),
            Action::Rejoin(n) => write!(f, "rejoin {n}"),
            Action::Cut(a, b) => write!(f, "cut {a}-{b}"),
            Action::Mend(a, b) => write!(f, "mend {a}-{b}"),
            Action::CutMain(n) => write!(f, "cut mains-{n}"),
            Action::MendMain(n) => write!(f, "mend mains-{n}"),
            Action::Store(n, StoreFault::Down) => write!(f, "store down for {n}"),
            Action::Store(n, StoreFault::Slow(d)) => write!(f, "store slow ({d:?}) for {n}"),
            Action::Store(n, StoreFault::Full) => write!(f, "store full for {n}"),
            Action::Store(n, StoreFault::Hang) => write!(f, "store silent for {n}"),
            Action::StoreHeal(n) => write!(f, "store back for {n}"),
            Action::SlowLink(a, b, d) => write!(f, "slow link {a}-{b} ({d:?})"),
        }
    }
}

/// An action at a time since the run began (simulated time).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub at: Duration,
    pub action: Action,
}

/// Everything one seed runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub seed: u64,
    /// Every node the run may start: the first `initial` at once, the others by `Join`.
    pub nodes: Vec<NodeSetup>,
    pub initial: usize,
    /// The cluster's timing (the first node's, which the store keeps for all).
    pub timing: Timing,
    pub ttl: Duration,
    /// Each message's latency is drawn between these.
    pub latency: (Duration, Duration),
    /// The load runs from 0 to here.
    pub load: Duration,
    /// The nemesis's schedule, in time order; every fault it begins it also ends.
    pub steps: Vec<Step>,
    /// After the load (every fault healed by then), every id must answer within this.
    pub recover: Duration,
    /// The ids the load asks for: `0..ids`.
    pub ids: u64,
}

/// When the load starts before the first fault.
const WARMUP: Duration = Duration::from_millis(1_500);
/// Load after the last heal.
const COOLDOWN: Duration = Duration::from_secs(2);

impl Plan {
    /// The plan of `seed`.
    pub fn of(seed: u64) -> Plan {
        let mut rng = fastrand::Rng::with_seed(seed);
        let timing = Timing {
            heartbeat: Duration::from_millis(100),
            suspicion: Duration::from_millis(rng.u64(800..=1_600)),
            poll: Duration::from_millis(50),
        };
        let ttl = Duration::from_millis(rng.u64(1_500..=4_000));
        let initial = rng.usize(3..=4);
        let nodes = (1..=initial + 2)
            .map(|i| {
                let mut own = timing.clone();
                // One node in four is configured otherwise (the store's timing rules).
                if rng.u8(..4) == 0 {
                    own.suspicion = Duration::from_millis(rng.u64(400..=4_000));
                    own.heartbeat = Duration::from_millis(rng.u64(50..=300));
                }
                let own_ttl = if rng.u8(..4) == 0 {
                    Duration::from_millis(rng.u64(500..=6_000))
                } else {
                    ttl
                };
                NodeSetup {
                    name: crate::name(i),
                    timing: own,
                    ttl: own_ttl,
                }
            })
            .collect::<Vec<_>>();
        let max_latency = rng.u64(2..=40);
        let latency = (
            Duration::from_millis(rng.u64(0..=max_latency.min(5))),
            Duration::from_millis(max_latency),
        );
        let mut nemesis = Drafting::new(&nodes[..initial], &nodes[initial..]);
        let faults = rng.usize(2..=6);
        let mut at = WARMUP;
        // A draw that cannot happen (a restart with nothing stopped) draws nothing, so draw
        // until the schedule has its faults (bounded: most kinds can always happen).
        for _ in 0..faults * 20 {
            if nemesis.faults >= faults {
                break;
            }
            let impaired = nemesis.steps.len();
            at = nemesis.one(at, &timing, &mut rng) + Duration::from_millis(rng.u64(200..=1_500));
            // A node that was paused, cut off or lost its store may have been declared dead and
            // be joining again: give it twice the suspicion time before the next fault, so one
            // node at least is whole when the next one strikes.
            if nemesis.steps.len() > impaired + 1 {
                at += timing.suspicion * 2;
            }
        }
        Plan {
            seed,
            nodes,
            initial,
            timing,
            ttl,
            latency,
            load: at + COOLDOWN,
            steps: nemesis.steps,
            recover: Duration::from_secs(5),
            ids: 200,
        }
    }
}

impl Plan {
    /// How long one call of the load is held to: the client's default patience, or, if
    /// longer, two failovers at the plan's longest suspicion (each a detection and a lease
    /// running out, both up to that long) plus 2 s for the attempts' own deadlines. One call
    /// may lose two owners one after the other (seed 7904: a node with a 3.9 s suspicion
    /// among 0.9 s ones, the owner of an id and then its heir crashed within one call, which
    /// needed 10.1 s); the mains are configured for the cluster they talk to, as an operator
    /// would configure them.
    pub fn patience(&self) -> Duration {
        let longest = self
            .nodes
            .iter()
            .map(|n| n.timing.suspicion)
            .max()
            .unwrap_or(self.timing.suspicion);
        (longest * 4 + Duration::from_secs(2)).max(ClusterConfig::default().patience)
    }
}

/// The nemesis's schedule as it is drawn: which nodes run, which are stopped and which have
/// not started, so every action it draws can happen (no restart of a running node) and the
/// cluster is always meant to answer: faults come one after another, and one takes a node
/// down or impairs it (pause, cut, its store) only while another runs, so one node at least
/// is always whole. A call that fails is then a bug, not bad luck.
struct Drafting {
    running: Vec<NodeId>,
    stopped: Vec<NodeId>,
    spare: Vec<NodeId>,
    steps: Vec<Step>,
    /// Faults drawn so far.
    faults: usize,
}

impl Drafting {
    fn new(initial: &[NodeSetup], spare: &[NodeSetup]) -> Drafting {
        Drafting {
            running: initial.iter().map(|n| n.name.clone()).collect(),
            stopped: Vec::new(),
            spare: spare.iter().map(|n| n.name.clone()).collect(),
            steps: Vec::new(),
            faults: 0,
        }
    }

    fn push(&mut self, at: Duration, action: Action) {
        self.steps.push(Step { at, action });
    }

    /// Draws one fault beginning at `at` and returns when it has ended (`at` itself when the
    /// kind drawn cannot happen now: nothing is scheduled then).
    fn one(&mut self, at: Duration, timing: &Timing, rng: &mut fastrand::Rng) -> Duration {
        let before = self.steps.len();
        let end = self.draw(at, timing, rng);
        if self.steps.len() > before {
            self.faults += 1;
        }
        end
    }

    fn draw(&mut self, at: Duration, timing: &Timing, rng: &mut fastrand::Rng) -> Duration {
        // A hold or cut under the suspicion, or well past it.
        let span = |rng: &mut fastrand::Rng| {
            let s = timing.suspicion.as_millis() as u64;
            Duration::from_millis(if rng.bool() {
                rng.u64(s / 4..=s * 3 / 4)
            } else {
                rng.u64(s * 3 / 2..=s * 3)
            })
        };
        let pick = |list: &[NodeId], rng: &mut fastrand::Rng| list[rng.usize(..list.len())].clone();
        let two_up = self.running.len() >= 2;
        match rng.u8(..12) {
            0 if two_up => {
                let victim = pick(&self.running, rng);
                self.running.retain(|n| n != &victim);
                self.stopped.push(victim.clone());
                self.push(at, Action::Crash(victim));
                at
            }
            1 if !self.stopped.is_empty() => {
                let back = pick(&self.stopped, rng);
                self.stopped.retain(|n| n != &back);
                self.running.push(back.clone());
                self.push(at, Action::Restart(back));
                at
            }
            2 if two_up => {
                let victim = pick(&self.running, rng);
                self.running.retain(|n| n != &victim);
                self.stopped.push(victim.clone());
                self.push(at, Action::Leave(victim));
                at
            }
            3 if !self.spare.is_empty() => {
                let new = self.spare.remove(0);
                self.running.push(new.clone());
                self.push(at, Action::Join(new));
                at
            }
            4 if two_up => {
                let victim = pick(&self.running, rng);
                let end = at + span(rng);
                self.push(at, Action::Pause(victim.clone()));
                self.push(end, Action::Resume(victim));
                end
            }
            5 if two_up => {
                let victim = pick(&self.running, rng);
                let end = at + span(rng);
                self.push(at, Action::Isolate(victim.clone()));
                self.push(end, Action::Rejoin(victim));
                end
            }
            6 if two_up => {
                let a = pick(&self.running, rng);
                let others: Vec<NodeId> =
                    self.running.iter().filter(|n| **n != a).cloned().collect();
                let b = pick(&others, rng);
                let end = at + span(rng);
                self.push(at, Action::Cut(a.clone(), b.clone()));
                self.push(end, Action::Mend(a, b));
                end
            }
            7 if two_up => {
                let victim = pick(&self.running, rng);
                let end = at + span(rng);
                self.push(at, Action::CutMain(victim.clone()));
                self.push(end, Action::MendMain(victim));
                end
            }
            8..=10 if two_up => {
                let victim = pick(&self.running, rng);
                let fault = match rng.u8(..4) {
                    0 => StoreFault::Down,
                    1 => StoreFault::Slow(Duration::from_millis(rng.u64(50..=1_500))),
                    2 => StoreFault::Full,
                    _ => StoreFault::Hang,
                };
                let end = at + span(rng);
                self.push(at, Action::Store(victim.clone(), fault));
                self.push(end, Action::StoreHeal(victim));
                end
            }
            11 if two_up => {
                let a = pick(&self.running, rng);
                let others: Vec<NodeId> =
                    self.running.iter().filter(|n| **n != a).cloned().collect();
                let b = pick(&others, rng);
                let latency = Duration::from_millis(rng.u64(50..=400));
                self.push(at, Action::SlowLink(a, b, latency));
                at + span(rng)
            }
            // Drawn where it cannot happen (a restart with nothing stopped): nothing, this
            // time; the next draw goes on from here.
            _ => at,
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {}: {} nodes ({} more may join), suspicion {:?}, ttl {:?}, latency {:?}..{:?}, load {:?}, calls held to {:?}",
            self.seed,
            self.initial,
            self.nodes.len() - self.initial,
            self.timing.suspicion,
            self.ttl,
            self.latency.0,
            self.latency.1,
            self.load,
            self.patience()
        )?;
        for node in &self.nodes {
            if node.timing != self.timing || node.ttl != self.ttl {
                writeln!(
                    f,
                    "  {} starts with heartbeat {:?}, suspicion {:?}, ttl {:?}",
                    node.name, node.timing.heartbeat, node.timing.suspicion, node.ttl
                )?;
            }
        }
        for step in &self.steps {
            writeln!(f, "  {:>7.3} s  {}", step.at.as_secs_f64(), step.action)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_draws_one_plan_and_seeds_differ() {
        assert_eq!(Plan::of(7), Plan::of(7));
        let plans: std::collections::BTreeSet<String> =
            (0..50).map(|s| Plan::of(s).to_string()).collect();
        assert!(plans.len() > 45, "{} distinct plans of 50", plans.len());
    }

    #[test]
    fn every_fault_begun_is_ended_and_two_nodes_stay_up_for_a_takedown() {
        for seed in 0..2_000 {
            let plan = Plan::of(seed);
            let mut held = std::collections::BTreeMap::new();
            for step in &plan.steps {
                let (begin, end) = match &step.action {
                    Action::Pause(n)
                    | Action::Isolate(n)
                    | Action::CutMain(n)
                    | Action::Store(n, _) => (Some(n.clone()), None),
                    Action::Resume(n)
                    | Action::Rejoin(n)
                    | Action::MendMain(n)
                    | Action::StoreHeal(n) => (None, Some(n.clone())),
                    _ => (None, None),
                };
                if let Some(n) = begin {
                    *held.entry(n).or_insert(0) += 1;
                }
                if let Some(n) = end {
                    *held.entry(n).or_insert(0) -= 1;
                }
            }
            assert!(held.values().all(|v| *v == 0), "seed {seed}:\n{plan}");
            assert!(
                plan.steps.len() >= 2,
                "seed {seed} has too few faults:\n{plan}"
            );
            assert!(
                plan.steps.windows(2).all(|w| w[0].at <= w[1].at),
                "seed {seed}:\n{plan}"
            );
            assert!(
                plan.steps.last().is_none_or(|s| s.at < plan.load),
                "seed {seed}"
            );
        }
    }
}
