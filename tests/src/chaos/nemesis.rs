//! The nemesis: a schedule of faults done to a `TestCluster` of child processes, each recorded
//! as an event with its time. Victims are picked in turn from the running nodes (oldest first),
//! so a schedule is the same on every run; a step with no possible victim is skipped. Halfway
//! through the wait before each step the nemesis aims the slow and fresh mains ([`Targets`])
//! at the ids that step will move, and it has the load open a fresh main on each node that
//! joins or restarts.

use std::time::{Duration, Instant, SystemTime};

use ringshop_shared::{MemberStatus, NodeId, Ring};
use ringshop_tui::Cluster;

use crate::TestCluster;

use super::history::{Event, EventKind};
use super::load::FreshMains;
use super::targets::Targets;

/// One kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A node under a new name joins (and more, if fewer than the cluster's size are running).
    Join,
    /// A running node leaves gracefully (SIGTERM).
    Leave,
    /// A running node is SIGKILLed.
    Kill,
    /// The last node killed starts again under its name, on the same database.
    Restart,
    /// A running node is SIGSTOPped for this long, then SIGCONTed.
    Pause(Duration),
    /// A running node's host loses its link for this long (test hosts only): every node on
    /// that host is cut off, runs on, and comes back.
    Partition(Duration),
    /// The store's disk is full for this long (a cluster on a small disk only): writes fail,
    /// buys are refused as store-full, and everything resumes once space returns.
    DiskFull(Duration),
    /// Only the path between the mains and a running node is down for this long (test hosts
    /// only): the node stays a member, and the mains reach it through the others.
    CutClient(Duration),
}

/// A fault and how long to wait before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub after: Duration,
    pub fault: Fault,
}

/// join, leave, SIGKILL, restart under the same name, SIGSTOP for `pause` then SIGCONT;
/// `gap` before each.
pub fn one_of_each(gap: Duration, pause: Duration) -> Vec<Step> {
    [
        Fault::Join,
        Fault::Leave,
        Fault::Kill,
        Fault::Restart,
        Fault::Pause(pause),
    ]
    .into_iter()
    .map(|fault| Step { after: gap, fault })
    .collect()
}

/// How often the nemesis looks at the client's member list during a pause.
const WATCH_EVERY: Duration = Duration::from_millis(50);

pub struct Nemesis<'a> {
    cluster: &'a mut TestCluster,
    /// Watches the members' statuses during a pause.
    client: Cluster,
    /// The number of nodes a join tops the cluster up to (at least one joins).
    size: usize,
    cursor: usize,
    killed: Vec<NodeId>,
    /// Where the slow and fresh mains look: the ids the next step moves.
    targets: Targets,
    /// Told of each node that joins (or restarts).
    fresh: FreshMains,
    pub events: Vec<Event>,
}

impl<'a> Nemesis<'a> {
    pub fn new(
        cluster: &'a mut TestCluster,
        client: Cluster,
        size: usize,
        targets: Targets,
        fresh: FreshMains,
    ) -> Nemesis<'a> {
        Nemesis {
            cluster,
            client,
            size,
            cursor: 0,
            killed: Vec::new(),
            targets,
            fresh,
            events: Vec::new(),
        }
    }

    /// Runs `steps` once, or, given `repeat_for`, again and again until that long has passed
    /// (a step is not begun past it).
    pub async fn run(&mut self, steps: &[Step], repeat_for: Option<Duration>) {
        let started = Instant::now();
        let mut passes = 0;
        loop {
            for step in steps {
                if repeat_for.is_some_and(|limit| started.elapsed() + step.after >= limit) {
                    eprintln!("nemesis: {passes} full pass(es) of {} steps", steps.len());
                    return;
                }
                // Aimed halfway: the slow mains ask the old owners for the ids before the
                // step, and go on asking for them just after it, where a stale answer would be.
                let half = step.after / 2;
                tokio::time::sleep(half).await;
                self.aim(step.fault);
                tokio::time::sleep(step.after - half).await;
                self.apply(step.fault).await;
            }
            passes += 1;
            if steps.is_empty() || repeat_for.is_none_or(|limit| started.elapsed() >= limit) {
                eprintln!("nemesis: {passes} full pass(es) of {} steps", steps.len());
                return;
            }
        }
    }

    pub async fn apply(&mut self, fault: Fault) {
        match fault {
            Fault::Join => self.join(),
            Fault::Leave => {
                if let Some(node) = self.victim() {
                    self.record(SystemTime::now(), EventKind::Leave, &node);
                    self.cluster.leave(&node).await;
                }
            }
            Fault::Kill => {
                if let Some(node) = self.victim() {
                    self.record(SystemTime::now(), EventKind::Kill, &node);
                    self.cluster.kill(&node).await;
                    self.killed.push(node);
                }
            }
            Fault::Restart => {
                while let Some(node) = self.killed.pop() {
                    if self.cluster.is_running(&node) {
                        continue;
                    }
                    let addr = tokio::task::block_in_place(|| self.cluster.restart_process(&node));
                    self.record(SystemTime::now(), EventKind::Restart, &node);
                    self.fresh.open(addr);
                    break;
                }
            }
            Fault::Pause(hold) => {
                if let Some(node) = self.victim() {
                    self.record(SystemTime::now(), EventKind::Stop, &node);
                    self.cluster.pause(&node);
                    let dead = self.hold(std::slice::from_ref(&node), hold).await;
                    let declared_dead = dead[0];
                    self.record(
                        SystemTime::now(),
                        EventKind::Resume { declared_dead },
                        &node,
                    );
                    self.cluster.resume(&node);
                }
            }
            Fault::DiskFull(hold) => {
                if let Some(node) = self.cluster.running().first().cloned() {
                    self.record(SystemTime::now(), EventKind::DiskFull, &node);
                    self.cluster.fill_disk();
                    tokio::time::sleep(hold).await;
                    self.cluster.free_disk();
                    self.record(SystemTime::now(), EventKind::DiskFreed, &node);
                }
            }
            Fault::CutClient(hold) => {
                if let Some(node) = self.victim() {
                    self.record(SystemTime::now(), EventKind::CutClient, &node);
                    self.cluster.cut_client(&node);
                    tokio::time::sleep(hold).await;
                    self.cluster.mend_client(&node);
                    self.record(SystemTime::now(), EventKind::MendClient, &node);
                }
            }
            Fault::Partition(hold) => {
                if let Some(node) = self.victim() {
                    let cut = self.cluster.on_same_host(&node);
                    for n in &cut {
                        self.record(SystemTime::now(), EventKind::Partition, n);
                    }
                    self.cluster.partition(&node);
                    let dead = self.hold(&cut, hold).await;
                    self.cluster.heal(&node);
                    for (n, declared_dead) in cut.iter().zip(dead) {
                        self.record(SystemTime::now(), EventKind::Heal { declared_dead }, n);
                    }
                }
            }
        }
    }

    /// Publishes the ids `fault` will move: their owner on the ring of the running nodes
    /// differs from their owner on the ring the fault leaves (a paused node's ids move away
    /// when it is declared dead and back when it returns).
    fn aim(&mut self, fault: Fault) {
        let running = self.cluster.running();
        let before = Ring::with_members(self.client.ring().vnodes(), running.iter().cloned());
        let mut after = before.clone();
        match fault {
            Fault::Join => {
                for name in self.joiners() {
                    after.add(name);
                }
            }
            Fault::Leave | Fault::Kill | Fault::Pause(_) => {
                if let Some(victim) = self.next_victim() {
                    after.remove(&victim);
                }
            }
            Fault::Partition(_) => {
                if let Some(victim) = self.next_victim() {
                    for node in self.cluster.on_same_host(&victim) {
                        after.remove(&node);
                    }
                }
            }
            Fault::Restart => {
                if let Some(node) = self.killed.iter().rev().find(|n| !running.contains(n)) {
                    after.add(node.clone());
                }
            }
            // Nothing moves: the disk and a main's path are not membership.
            Fault::DiskFull(_) | Fault::CutClient(_) => {}
        }
        self.targets.aim(&before, &after);
    }

    /// One new node, then more (at most the cluster's size in all) while fewer than the
    /// cluster's size run.
    fn join(&mut self) {
        for name in self.joiners() {
            let addr = tokio::task::block_in_place(|| self.cluster.add_process(name.clone()));
            self.record(SystemTime::now(), EventKind::Join, &name);
            self.fresh.open(addr);
        }
    }

    /// The names a join starts: the first free ones, one at least, the cluster's size at most,
    /// and no more than it takes to run the cluster's size.
    fn joiners(&mut self) -> Vec<NodeId> {
        let running = self.cluster.running().len();
        let mut taken = self.cluster.names();
        let mut joiners = Vec::new();
        while joiners.is_empty()
            || (joiners.len() < self.size && running + joiners.len() < self.size)
        {
            let name = (1..)
                .map(crate::name)
                .find(|n| !taken.contains(n))
                .expect("a free name");
            taken.push(name.clone());
            joiners.push(name);
        }
        joiners
    }

    /// Waits `hold` while `nodes` are cut off; for each, whether the client saw the cluster
    /// declare it dead meanwhile.
    async fn hold(&self, nodes: &[NodeId], hold: Duration) -> Vec<bool> {
        let until = Instant::now() + hold;
        let mut declared_dead = vec![false; nodes.len()];
        while Instant::now() < until {
            let members = self.client.members();
            for (node, dead) in nodes.iter().zip(declared_dead.iter_mut()) {
                *dead |= members
                    .iter()
                    .any(|m| &m.name == node && m.status == MemberStatus::Dead);
            }
            tokio::time::sleep(WATCH_EVERY.min(until.saturating_duration_since(Instant::now())))
                .await;
        }
        declared_dead
    }

    /// The next running node in turn, if at least two run (one must be left to answer).
    fn victim(&mut self) -> Option<NodeId> {
        let Some(node) = self.next_victim() else {
            eprintln!("nemesis: fewer than two nodes running; step skipped");
            return None;
        };
        self.cursor += 1;
        Some(node)
    }

    /// The node `victim` would pick now, without picking it.
    fn next_victim(&mut self) -> Option<NodeId> {
        let running = self.cluster.running();
        (running.len() >= 2).then(|| running[self.cursor % running.len()].clone())
    }

    fn record(&mut self, at: SystemTime, kind: EventKind, node: &NodeId) {
        eprintln!("nemesis: {} {node}", kind.word());
        self.events.push(Event {
            at,
            kind,
            node: node.clone(),
        });
    }
}
