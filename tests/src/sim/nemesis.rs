//! The nemesis: the plan's nodes as turmoil hosts (the real `serve_on` on the simulated
//! network, the memory store through each node's fault switch), and the actions of the
//! schedule applied between steps and recorded as the chaos suite's history records them.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ringshop_node::shop::checkout::Payment;
use ringshop_node::store::faulty::{Fault, Faults, FaultyStore, Rule};
use ringshop_node::{Config, Store};
use ringshop_shared::wire::MemberStatus;
use ringshop_shared::{NodeId, Ring};
use tokio::sync::Notify;

use super::net::{PORT, SimNet};
use super::plan::{Action, NodeSetup, StoreFault};
use super::world::{MAINS, log_line};
use crate::chaos::history::{Event, EventKind};
use crate::chaos::load::FreshMains;
use crate::chaos::targets::Targets;

/// A node of the plan: its setup, the switch of its own store faults, and the signal that
/// makes it leave.
pub(super) struct SimNode {
    setup: NodeSetup,
    faults: Faults,
    leave: Arc<Notify>,
    registered: bool,
}

impl SimNode {
    pub(super) fn new(setup: NodeSetup) -> SimNode {
        SimNode {
            setup,
            faults: Faults::new(),
            leave: Arc::new(Notify::new()),
            registered: false,
        }
    }

    fn host(&self) -> &str {
        self.setup.name.as_str()
    }

    /// Registers the node's host, which starts its software (the same `serve` as the binary,
    /// on the simulated network and the shared memory store seen through its fault switch).
    pub(super) fn start(
        &mut self,
        sim: &mut turmoil::Sim<'_>,
        store: &Arc<dyn Store>,
        log: Rc<RefCell<String>>,
    ) {
        self.registered = true;
        let (setup, faults, leave) = (self.setup.clone(), self.faults.clone(), self.leave.clone());
        let store = store.clone();
        sim.host(self.host(), move || {
            let (setup, faults, leave, log) =
                (setup.clone(), faults.clone(), leave.clone(), log.clone());
            let store: Arc<dyn Store> = Arc::new(FaultyStore::new(store.clone(), faults));
            async move {
                let ip = turmoil::lookup(setup.name.as_str());
                let listen = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT);
                let config = Config::new(setup.name.clone(), listen)
                    .with_advertise(SocketAddr::new(ip, PORT))
                    .with_ttl(setup.ttl)
                    .with_timing(setup.timing.clone())
                    .with_payment(Payment {
                        delay: Duration::from_millis(50),
                        failure_rate: 0.1,
                    })
                    .insecure();
                match ringshop_node::serve_on(config, store, SimNet).await {
                    Ok(node) => {
                        leave.notified().await;
                        node.shutdown().await;
                    }
                    // A node that cannot start (its store is down) exits, as the binary does.
                    Err(e) => log_line(&log, format_args!("{} did not start: {e}", setup.name)),
                }
                Ok(())
            }
        });
    }
}

/// The nemesis: applies the plan's actions to the simulation as their time comes, and
/// records each as the chaos suite's history does.
pub(super) struct Nemesis {
    pub(super) events: Vec<Event>,
    pub(super) running: Vec<NodeId>,
    pub(super) fresh: Arc<Mutex<Option<FreshMains>>>,
    pub(super) targets: Targets,
    pub(super) log: Rc<RefCell<String>>,
    pub(super) epoch: SystemTime,
    pub(super) vnodes: u32,
    /// Nodes paused or cut off now: the index of the event that began it, and whether the
    /// cluster has given up on the node since (`watch`).
    pub(super) cut: BTreeMap<NodeId, (usize, bool)>,
    /// The longest `--suspicion` of the plan's nodes: past it since its last heartbeat, a
    /// member counted dead is awaited by no node (`view::awaited`).
    pub(super) longest_suspicion: Duration,
    /// Each member's status and incarnation as last read from the store.
    pub(super) seen: BTreeMap<NodeId, (MemberStatus, u64)>,
}

impl Nemesis {
    /// Logs each change of a member's status or incarnation in the store, and notes which of
    /// the nodes cut off now the cluster has given up on: counted dead, with a heartbeat older
    /// than every node's suspicion, so no node waits for it to let go and its ids may have
    /// been answered anew. One counted dead whose heartbeat stays fresh (its store reachable
    /// through a partition) is still awaited: what it hands over on learning it is dead is
    /// adopted, and may come back to it when it rejoins, so its answers after are not stale
    /// (seed 16144).
    pub(super) fn watch(&mut self, store: &dyn Store, elapsed: Duration) {
        let Ok(listing) = futures::executor::block_on(store.membership()) else {
            return;
        };
        for member in listing.members {
            let now = (member.status, member.incarnation);
            if self.seen.get(&member.name) != Some(&now) {
                let _ = writeln!(
                    self.log.borrow_mut(),
                    "{} store: {} is {:?} (incarnation {}, epoch {})",
                    elapsed.as_millis(),
                    member.name,
                    member.status,
                    member.incarnation,
                    listing.epoch
                );
                self.seen.insert(member.name.clone(), now);
            }
            if member.status == MemberStatus::Dead
                && member.heartbeat_age >= self.longest_suspicion
                && let Some((_, given_up)) = self.cut.get_mut(&member.name)
            {
                *given_up = true;
            }
        }
    }

    /// Ends the cut-off of `name` begun as `began`: as `began` and `ended` if the cluster gave
    /// up on the node meanwhile, else as `Held` and `Released` (its lease held: it kept its
    /// ids, or handed them over while still awaited).
    fn end_cut(&mut self, name: &NodeId, ended: EventKind) -> EventKind {
        match self.cut.remove(name) {
            Some((_, true)) => ended,
            Some((began, false)) => {
                self.events[began].kind = EventKind::Held;
                EventKind::Released
            }
            None => ended,
        }
    }

    fn begin_cut(&mut self, name: &NodeId) {
        self.cut.insert(name.clone(), (self.events.len(), false));
    }

    pub(super) fn apply(
        &mut self,
        sim: &mut turmoil::Sim<'_>,
        nodes: &mut [SimNode],
        store: &Arc<dyn Store>,
        action: &Action,
    ) {
        let at = self.epoch + sim.elapsed();
        let _ = writeln!(
            self.log.borrow_mut(),
            "{} nemesis: {action}",
            sim.elapsed().as_millis()
        );
        let node = |name: &NodeId| {
            nodes
                .iter()
                .position(|n| &n.setup.name == name)
                .expect("the plan names its own nodes")
        };
        let others = |sim: &turmoil::Sim<'_>, name: &NodeId| -> Vec<IpAddr> {
            let mut hosts: Vec<IpAddr> = nodes
                .iter()
                .filter(|n| n.registered && &n.setup.name != name)
                .map(|n| sim.lookup(n.host()))
                .collect();
            hosts.push(sim.lookup(MAINS));
            hosts
        };
        let (kind, name) = match action {
            Action::Crash(name) => {
                self.aim(Some(name), None);
                quietly(sim, &others(sim, name), name, |sim| {
                    sim.crash(name.as_str())
                });
                self.running.retain(|n| n != name);
                (EventKind::Kill, name)
            }
            Action::Leave(name) => {
                self.aim(Some(name), None);
                nodes[node(name)].leave.notify_one();
                self.running.retain(|n| n != name);
                (EventKind::Leave, name)
            }
            Action::Restart(name) => {
                self.aim(None, Some(name));
                quietly(sim, &others(sim, name), name, |sim| {
                    sim.bounce(name.as_str())
                });
                self.running.push(name.clone());
                self.open_fresh(sim, name);
                (EventKind::Restart, name)
            }
            Action::Join(name) => {
                self.aim(None, Some(name));
                let i = node(name);
                nodes[i].start(sim, store, self.log.clone());
                self.running.push(name.clone());
                self.open_fresh(sim, name);
                (EventKind::Join, name)
            }
            // Network faults hold messages and deliver them when they end, as TCP delivers
            // what it retransmits once a path is back (turmoil's TCP never retransmits, so a
            // dropped segment would leave its stream waiting for it for ever).
            Action::Pause(name) => {
                self.aim(Some(name), None);
                each_link(sim, name, &others(sim, name), |sim, a, b| sim.hold(a, b));
                nodes[node(name)].faults.set(vec![all(Fault::Hang)]);
                self.begin_cut(name);
                (EventKind::Stop, name)
            }
            Action::Resume(name) => {
                nodes[node(name)].faults.heal();
                each_link(sim, name, &others(sim, name), |sim, a, b| sim.release(a, b));
                let ended = self.end_cut(
                    name,
                    EventKind::Resume {
                        declared_dead: true,
                    },
                );
                (ended, name)
            }
            Action::Isolate(name) => {
                self.aim(Some(name), None);
                each_link(sim, name, &others(sim, name), |sim, a, b| sim.hold(a, b));
                self.begin_cut(name);
                (EventKind::Partition, name)
            }
            Action::Rejoin(name) => {
                each_link(sim, name, &others(sim, name), |sim, a, b| sim.release(a, b));
                let ended = self.end_cut(
                    name,
                    EventKind::Heal {
                        declared_dead: true,
                    },
                );
                (ended, name)
            }
            Action::Cut(a, b) => {
                sim.hold(a.as_str(), b.as_str());
                (EventKind::CutNodes, a)
            }
            Action::Mend(a, b) => {
                sim.release(a.as_str(), b.as_str());
                (EventKind::MendNodes, a)
            }
            Action::CutMain(name) => {
                sim.hold(MAINS, name.as_str());
                (EventKind::CutClient, name)
            }
            Action::MendMain(name) => {
                sim.release(MAINS, name.as_str());
                (EventKind::MendClient, name)
            }
            Action::Store(name, fault) => {
                let (rule, kind) = match fault {
                    StoreFault::Down => (all(Fault::Lost), EventKind::StoreDown),
                    StoreFault::Slow(d) => (all(Fault::Slow(*d)), EventKind::StoreSlow),
                    StoreFault::Full => (Rule::writes(Fault::Full, 1.0), EventKind::DiskFull),
                    StoreFault::Hang => (all(Fault::Hang), EventKind::StoreSlow),
                };
                nodes[node(name)].faults.set(vec![rule]);
                (kind, name)
            }
            Action::StoreHeal(name) => {
                nodes[node(name)].faults.heal();
                (EventKind::StoreBack, name)
            }
            Action::SlowLink(a, b, latency) => {
                sim.set_link_latency(a.as_str(), b.as_str(), *latency);
                (EventKind::SlowLink, a)
            }
        };
        self.events.push(Event {
            at,
            kind,
            node: name.clone(),
        });
    }

    /// Publishes the ids the action moves, for the slow and fresh mains to ask for.
    fn aim(&self, leaving: Option<&NodeId>, coming: Option<&NodeId>) {
        let before = Ring::with_members(self.vnodes, self.running.iter().cloned());
        let mut after = before.clone();
        if let Some(n) = leaving {
            after.remove(n);
        }
        if let Some(n) = coming {
            after.add(n.clone());
        }
        self.targets.aim(&before, &after);
    }

    /// Opens a fresh main on a node that just started.
    fn open_fresh(&self, sim: &turmoil::Sim<'_>, name: &NodeId) {
        let fresh = self.fresh.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(fresh) = fresh.as_ref() {
            fresh.open(SocketAddr::new(sim.lookup(name.as_str()), PORT));
        }
    }
}

/// Drops the runtime of `name`'s host (`crash`, `bounce`) with its links cut, so what its
/// tasks send as they are dropped (a FIN per connection) is lost: a machine that dies, whose
/// peers learn it by silence and, once it is back, by a reset. Not a process that dies with
/// its kernel closing its sockets: tokio drops a runtime's tasks in an order set by task ids,
/// which count across the whole process (and so across the runs other threads make at the
/// same time), and each FIN would draw its latency from the run's random numbers in that
/// order, so a replay would not be exact.
fn quietly(
    sim: &mut turmoil::Sim<'_>,
    others: &[IpAddr],
    name: &NodeId,
    drop_runtime: impl FnOnce(&mut turmoil::Sim<'_>),
) {
    each_link(sim, name, others, |sim, a, b| sim.partition(a, b));
    drop_runtime(sim);
    each_link(sim, name, others, |sim, a, b| sim.repair(a, b));
}

/// Does `link` (hold, release, partition or repair) to the link between `name`'s host and each
/// of `others`.
fn each_link(
    sim: &turmoil::Sim<'_>,
    name: &NodeId,
    others: &[IpAddr],
    link: impl Fn(&turmoil::Sim<'_>, &str, IpAddr),
) {
    for other in others {
        link(sim, name.as_str(), *other);
    }
}

/// `fault` on every call of a store.
fn all(fault: Fault) -> Rule {
    Rule {
        method: None,
        access: None,
        fault,
        rate: 1.0,
    }
}
