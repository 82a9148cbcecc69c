//! Running one plan: the turmoil simulation, its hosts (the nodes, the mains), the nemesis
//! stepping through the schedule between ticks, and the history the checks read.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ringshop_node::shop::checkout::Payment;
use ringshop_node::store::Clock;
use ringshop_node::store::faulty::{Fault, Faults, FaultyStore, Rule};
use ringshop_node::{Config, MemoryStore, Store};
use ringshop_shared::transport::Dialer;
use ringshop_shared::wire::MemberStatus;
use ringshop_shared::{NodeId, ProductId, Ring, clock, hash};
use ringshop_tui::{Cluster, ClusterConfig};
use tokio::sync::Notify;

use super::net::{PORT, SimNet};
use super::plan::{Action, NodeSetup, Plan, StoreFault};
use crate::chaos::books::{self, Books};
use crate::chaos::history::{Event, EventKind, History};
use crate::chaos::load::{FreshMains, Load, LoadConfig};
use crate::chaos::report::Report;
use crate::chaos::targets::Targets;

/// Where the simulated calendar starts (2025-06-15): fixed, so every replay stamps alike.
const EPOCH_SECS: u64 = 1_750_000_000;
/// How far simulated time moves per step of the simulation.
const TICK: Duration = Duration::from_millis(1);
/// The mains' host.
const MAINS: &str = "mains";
/// Every this many steps the nemesis reads which members the store counts dead.
const WATCH_EVERY: u64 = 10;

/// What one seed did and what the checks made of it.
pub struct Outcome {
    pub plan: Plan,
    /// The simulation itself failed: a host's software panicked or returned an error, or the
    /// mains never finished.
    pub error: Option<String>,
    pub report: Option<Report>,
    /// Ids that did not answer within the plan's bound after every fault had healed.
    pub unrecovered: Vec<String>,
    /// Every nemesis action and every call, in order, with simulated times: what a replay
    /// must reproduce byte for byte.
    pub log: String,
    /// Simulated time the run took.
    pub simulated: Duration,
}

impl Outcome {
    /// Every property held (and the run tested something).
    pub fn holds(&self) -> bool {
        self.error.is_none()
            && self.unrecovered.is_empty()
            && self.report.as_ref().is_some_and(Report::holds)
    }

    /// What failed, in one line: the simulation, the recovery, and each property that broke.
    pub fn verdict(&self) -> String {
        let mut broke = Vec::new();
        if let Some(e) = &self.error {
            broke.push(format!("simulation: {e}"));
        }
        if !self.unrecovered.is_empty() {
            broke.push(format!(
                "{} ids unanswered after the last heal",
                self.unrecovered.len()
            ));
        }
        if let Some(r) = &self.report {
            if r.failures.total() > 0 {
                broke.push(format!("(a) {} failed calls", r.failures.total()));
            }
            if r.two_generations.ids > 0 {
                broke.push(format!(
                    "(b) {} ids with two live values",
                    r.two_generations.ids
                ));
            }
            if r.stale.answers > 0 {
                broke.push(format!("(c) {} stale answers", r.stale.answers));
            }
            if !r.books.balanced() {
                broke.push(format!("(d) books: {}", r.books.problems.join("; ")));
            }
            if !r.ran() {
                broke.push("nothing tested".into());
            }
        }
        if broke.is_empty() {
            "held".into()
        } else {
            broke.join(", ")
        }
    }

    /// A failing seed in words: the seed, its plan, what broke, and how to replay it.
    pub fn explain(&self) -> String {
        let mut out = format!(
            "seed {} failed; replay with RINGSHOP_SIM_SEED={} cargo test -p ringshop-tests --test sim replay\n{}",
            self.plan.seed, self.plan.seed, self.plan
        );
        if let Some(e) = &self.error {
            let _ = writeln!(out, "simulation error: {e}");
        }
        for u in self.unrecovered.iter().take(5) {
            let _ = writeln!(out, "after the last heal: {u}");
        }
        if let Some(r) = &self.report {
            let _ = writeln!(out, "{r}");
        }
        out
    }
}

/// What the mains' host hands back when it is done.
#[derive(Default)]
struct Finished {
    history: Option<History>,
    books: Option<Books>,
    unrecovered: Vec<String>,
}

/// Where the simulated monotonic clock starts (any fixed value: only differences count).
const MONOTONIC_START: Duration = Duration::from_secs(1_000);

/// Gives this thread back the machine's monotonic clock when a run ends (or panics).
struct MonotonicGuard;

impl Drop for MonotonicGuard {
    fn drop(&mut self) {
        super::set_monotonic(None);
    }
}

/// Runs `plan` to the end on this thread and checks what it recorded.
pub fn run(plan: &Plan) -> Outcome {
    super::set_monotonic(Some(MONOTONIC_START));
    let _monotonic = MonotonicGuard;
    fastrand::seed(plan.seed);
    let _maps = hash::fixed_on_this_thread();
    let _calendar = clock::simulated(turmoil::since_epoch);
    let epoch = UNIX_EPOCH + Duration::from_secs(EPOCH_SECS);
    let mut sim = turmoil::Builder::new()
        .rng_seed(plan.seed)
        .epoch(epoch)
        .tick_duration(TICK)
        .simulation_duration(plan.load + Duration::from_secs(120))
        .min_message_latency(plan.latency.0)
        .max_message_latency(plan.latency.1)
        .tcp_capacity(1 << 16)
        .enable_random_order()
        .build();
    // The store's clock is the simulation's, read the same inside a host and out (the
    // nemesis reads the membership between steps).
    let now_ms = Arc::new(AtomicI64::new(0));
    let store_now = now_ms.clone();
    let store: Arc<dyn Store> = Arc::new(
        MemoryStore::new().with_clock(Clock::driven(move || store_now.load(Ordering::Acquire))),
    );
    let epoch_ms = i64::try_from(EPOCH_SECS * 1_000).unwrap_or(i64::MAX);
    let log = Rc::new(RefCell::new(String::new()));
    let mut nodes: Vec<SimNode> = plan
        .nodes
        .iter()
        .map(|setup| SimNode::new(setup.clone(), plan.ttl))
        .collect();
    for node in &mut nodes[..plan.initial] {
        node.start(&mut sim, &store, log.clone());
    }
    let finished = Arc::new(Mutex::new(Finished::default()));
    let fresh: Arc<Mutex<Option<FreshMains>>> = Arc::default();
    let targets = Targets::new(plan.ids, 2);
    let seeds: Vec<NodeId> = plan.nodes[..plan.initial]
        .iter()
        .map(|n| n.name.clone())
        .collect();
    sim.client(
        MAINS,
        mains(
            plan.clone(),
            seeds,
            store.clone(),
            targets.clone(),
            fresh.clone(),
            finished.clone(),
            log.clone(),
        ),
    );
    let mut nemesis = Nemesis {
        events: Vec::new(),
        running: plan.nodes[..plan.initial]
            .iter()
            .map(|n| n.name.clone())
            .collect(),
        fresh,
        targets,
        log: log.clone(),
        epoch,
        vnodes: ringshop_shared::DEFAULT_VNODES,
        cut: BTreeMap::new(),
        seen: BTreeMap::new(),
    };
    let mut steps = plan.steps.iter().peekable();
    let mut ticks = 0u64;
    let error = loop {
        let elapsed = i64::try_from(sim.elapsed().as_millis()).unwrap_or(i64::MAX);
        now_ms.store(epoch_ms.saturating_add(elapsed), Ordering::Release);
        super::set_monotonic(Some(MONOTONIC_START + sim.elapsed()));
        while let Some(step) = steps.next_if(|s| s.at <= sim.elapsed()) {
            nemesis.apply(&mut sim, &mut nodes, &store, &step.action);
        }
        if ticks % WATCH_EVERY == 0 {
            nemesis.watch(&*store, sim.elapsed());
        }
        ticks += 1;
        match sim.step() {
            Ok(true) => break None,
            Ok(false) => {}
            Err(e) => break Some(e.to_string()),
        }
    };
    let simulated = sim.elapsed();
    drop(sim);
    let finished = std::mem::take(&mut *finished.lock().unwrap_or_else(|p| p.into_inner()));
    let report = match (finished.history, finished.books) {
        (Some(mut history), Some(books)) => {
            history.events = nemesis.events;
            for call in &history.calls {
                let _ = writeln!(log.borrow_mut(), "{}", describe(call, epoch));
            }
            Some(Report::new(&history, plan.ttl, books))
        }
        _ => None,
    };
    let error = error.or_else(|| report.is_none().then(|| "the mains never finished".into()));
    let log = log.borrow().clone();
    Outcome {
        plan: plan.clone(),
        error,
        report,
        unrecovered: finished.unrecovered,
        log,
        simulated,
    }
}

/// One call as a log line: when (ms of simulated time), which id, and what came back.
fn describe(call: &crate::chaos::history::Call, epoch: SystemTime) -> String {
    let ms = |t: SystemTime| t.duration_since(epoch).unwrap_or_default().as_millis();
    match &call.outcome {
        Ok(seen) => format!(
            "{}..{} {:?} id {} = {} from {}{} made {}",
            ms(call.start),
            ms(call.end),
            call.main,
            call.id,
            seen.value,
            seen.node,
            if seen.hit { " (hit)" } else { "" },
            ms(seen.created_at),
        ),
        Err(e) => format!(
            "{}..{} {:?} id {} failed: {e}",
            ms(call.start),
            ms(call.end),
            call.main,
            call.id
        ),
    }
}

/// A node of the plan: its setup, the switch of its own store faults, and the signal that
/// makes it leave.
struct SimNode {
    setup: NodeSetup,
    ttl: Duration,
    faults: Faults,
    leave: Arc<Notify>,
    registered: bool,
}

impl SimNode {
    fn new(setup: NodeSetup, _cluster_ttl: Duration) -> SimNode {
        let ttl = setup.ttl;
        SimNode {
            setup,
            ttl,
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
    fn start(
        &mut self,
        sim: &mut turmoil::Sim<'_>,
        store: &Arc<dyn Store>,
        log: Rc<RefCell<String>>,
    ) {
        self.registered = true;
        let (setup, ttl, faults, leave) = (
            self.setup.clone(),
            self.ttl,
            self.faults.clone(),
            self.leave.clone(),
        );
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
                    .with_ttl(ttl)
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
                    Err(e) => {
                        let at = clock::wall()
                            .duration_since(UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
                            .unwrap_or_default();
                        let _ = writeln!(
                            log.borrow_mut(),
                            "{} {} did not start: {e}",
                            at.as_millis(),
                            setup.name
                        );
                    }
                }
                Ok(())
            }
        });
    }
}

/// The nemesis: applies the plan's actions to the simulation as their time comes, and
/// records each as the chaos suite's history does.
struct Nemesis {
    events: Vec<Event>,
    running: Vec<NodeId>,
    fresh: Arc<Mutex<Option<FreshMains>>>,
    targets: Targets,
    log: Rc<RefCell<String>>,
    epoch: SystemTime,
    vnodes: u32,
    /// Nodes paused or cut off now: the index of the event that began it, and whether the
    /// store has counted the node dead since.
    cut: BTreeMap<NodeId, (usize, bool)>,
    /// Each member's status and incarnation as last read from the store.
    seen: BTreeMap<NodeId, (MemberStatus, u64)>,
}

impl Nemesis {
    /// Logs each change of a member's status or incarnation in the store, and notes which
    /// of the nodes cut off now the store counts dead.
    fn watch(&mut self, store: &dyn Store, elapsed: Duration) {
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
                && let Some((_, dead)) = self.cut.get_mut(&member.name)
            {
                *dead = true;
            }
        }
    }

    /// Ends the cut-off of `name` begun as `began`: as `began` and `ended` if the store counted
    /// the node dead meanwhile, else as `Held` and `Released` (it kept its ids).
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

    fn apply(
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
                for other in others(sim, name) {
                    sim.hold(name.as_str(), other);
                }
                nodes[node(name)].faults.set(vec![all(Fault::Hang)]);
                self.begin_cut(name);
                (EventKind::Stop, name)
            }
            Action::Resume(name) => {
                nodes[node(name)].faults.heal();
                for other in others(sim, name) {
                    sim.release(name.as_str(), other);
                }
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
                for other in others(sim, name) {
                    sim.hold(name.as_str(), other);
                }
                self.begin_cut(name);
                (EventKind::Partition, name)
            }
            Action::Rejoin(name) => {
                for other in others(sim, name) {
                    sim.release(name.as_str(), other);
                }
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
    for other in others {
        sim.partition(name.as_str(), *other);
    }
    drop_runtime(sim);
    for other in others {
        sim.repair(name.as_str(), *other);
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

/// The mains' host: following and slow mains under the chaos suite's load until the plan's
/// load ends, then every id once more (each must answer within the plan's bound), then the
/// books once the open orders have finished.
async fn mains(
    plan: Plan,
    seeds: Vec<NodeId>,
    store: Arc<dyn Store>,
    targets: Targets,
    fresh: Arc<Mutex<Option<FreshMains>>>,
    finished: Arc<Mutex<Finished>>,
    log: Rc<RefCell<String>>,
) -> turmoil::Result {
    let note = |what: &str| {
        let at = clock::wall()
            .duration_since(UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
            .unwrap_or_default();
        let _ = writeln!(log.borrow_mut(), "{} mains: {what}", at.as_millis());
    };
    let addrs: Vec<SocketAddr> = seeds
        .iter()
        .map(|n| SocketAddr::new(turmoil::lookup(n.as_str()), PORT))
        .collect();
    let config = ClusterConfig {
        watch_for: Duration::from_secs(2),
        probe_every: Duration::from_millis(100),
        dialer: Dialer::on(SimNet),
        ..ClusterConfig::default()
    };
    let slow_config = ClusterConfig {
        follow_membership: false,
        ..config.clone()
    };
    let started = clock::now();
    let mut clients = Vec::new();
    for _ in 0..2 {
        clients.push(Cluster::connect_or_wait(&addrs, config.clone()).await?);
    }
    let slow = vec![Cluster::connect_or_wait(&addrs, slow_config).await?];
    let load_config = LoadConfig {
        clients: clients.len(),
        workers: 4,
        slow_mains: 1,
        slow_workers: 2,
        fresh_workers: 2,
        fresh_for: Duration::from_secs(1),
        ids: plan.ids,
        hot: 2,
        think: Duration::from_millis(5),
        buyers: 2,
        products: ["tea-kettle", "chef-knife", "cutting-board"]
            .into_iter()
            .filter_map(|p| ProductId::new(p).ok())
            .collect(),
        call_limit: Duration::from_secs(10),
        deadline: None,
        follow_limit: Duration::from_secs(15),
    };
    let mut history = History::new(clock::wall());
    note("connected; the load starts");
    let load = Load::start(&clients, &slow, &targets, &load_config, config.clone());
    *fresh.lock().unwrap_or_else(|p| p.into_inner()) = Some(load.fresh_mains());
    tokio::time::sleep_until(started + plan.load).await;
    note("the load stops");
    load.stop(&mut history).await;
    note("the load stopped; every id once more");
    // Every id at once, each bounded: the sweep takes at most the plan's bound.
    let client = &clients[0];
    let asks = (0..plan.ids).map(|id| async move {
        match tokio::time::timeout(plan.recover, client.request(id)).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(format!("id {id}: {e}")),
            Err(_) => Some(format!("id {id}: no answer within {:?}", plan.recover)),
        }
    });
    let unrecovered: Vec<String> = futures::future::join_all(asks)
        .await
        .into_iter()
        .flatten()
        .collect();
    note("reading the books");
    let books = books::read_store(&*store, &history.acknowledged, Duration::from_secs(30)).await;
    let mut done = finished.lock().unwrap_or_else(|p| p.into_inner());
    done.history = Some(history);
    done.books = Some(books);
    done.unrecovered = unrecovered;
    Ok(())
}
