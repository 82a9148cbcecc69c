//! Running one plan: the turmoil simulation, its hosts (the nodes, the mains), the nemesis
//! stepping through the schedule between ticks, and the history the checks read.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ringshop_node::store::Clock;
use ringshop_node::{MemoryStore, Store};
use ringshop_shared::{NodeId, clock, hash};

use super::mains::{Finished, mains};
use super::nemesis::{Nemesis, SimNode};
use super::plan::Plan;
use crate::chaos::history::Call;
use crate::chaos::load::FreshMains;
use crate::chaos::report::Report;
use crate::chaos::targets::Targets;

/// Where the simulated calendar starts (2025-06-15): fixed, so every replay stamps alike.
const EPOCH_SECS: u64 = 1_750_000_000;
/// How far simulated time moves per step of the simulation. Every step runs every host, so
/// the step is most of a seed's cost: 2 ms runs 1.33x the seeds per second of 1 ms (1,000
/// seeds in 102 s against 135 s, release, both cores), every pinned schedule and the first
/// 1,000 seeds with the same verdicts, and every planted bug caught by the same seed.
const TICK: Duration = Duration::from_millis(2);
/// The mains' host.
pub(super) const MAINS: &str = "mains";
/// Every this many steps (10 ms) the nemesis reads which members the store counts dead.
const WATCH_EVERY: u64 = 5;

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

/// Where the simulated monotonic clock starts (any fixed value: only differences count).
pub(super) const MONOTONIC_START: Duration = Duration::from_secs(1_000);

/// Gives this thread back the machine's monotonic clock when a run ends (or panics).
struct MonotonicGuard;

impl Drop for MonotonicGuard {
    fn drop(&mut self) {
        super::set_monotonic(None);
    }
}

/// Appends `what` to the run's log, stamped with the simulated milliseconds since the run
/// began (read inside a host, from its calendar).
pub(super) fn log_line(log: &RefCell<String>, what: std::fmt::Arguments<'_>) {
    let at = clock::wall()
        .duration_since(UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
        .unwrap_or_default();
    let _ = writeln!(log.borrow_mut(), "{} {what}", at.as_millis());
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
        .map(|setup| SimNode::new(setup.clone()))
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
        longest_suspicion: plan
            .nodes
            .iter()
            .map(|n| n.timing.suspicion)
            .max()
            .unwrap_or_default(),
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
fn describe(call: &Call, epoch: SystemTime) -> String {
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
